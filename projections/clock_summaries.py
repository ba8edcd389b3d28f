"""Clock summaries: one row per proposal and need with what the metrics need *now*.

The handler keeps each subject's facts (from the domain's `facts_of`, as the clock-facts
view does) in its row and, on each of its events, recomputes the subject's summary with
the domain's own functions (`domain.summaries`). Reading "now" (an instant past every
fact) is then a few aggregates per group: counts by status, sums, stopped clocks' business
days counted per value, running clocks past their due date. What depends on another
subject is joined when read: a need's lead division and end-to-end target (its
proposal's), a proposal's school districts (those of the needs it carried). A past
instant is not answered here: the clock-facts view replays the facts up to it.

The view reads the city's targets and plan goals and the calendar when it handles an
event: a change of either is a change of `version` (the view is rebuilt).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from eventsourcing.persistence import Transcoder

from domain.application import event_type_name
from domain.backlog import BACKLOG_BUCKETS, DepartmentBacklog, backlog_bucket
from domain.calendar import BusinessCalendar, date_jst, default_calendar
from domain.clocks import CLOCKS, ClockReading
from domain.facts import Fact, NeedFacts, ProposalFacts, facts_of
from domain.groupings import GROUP_BYS, UnknownGrouping
from domain.metrics import METRIC_CLOCKS, GroupMetrics, proposal_clocks
from domain.need import Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import OPEN, UNDECIDED
from domain.summaries import (
    GroupTally,
    last_overdue_start,
    need_summary,
    proposal_summary,
    response_metrics_of,
)
from infra.city import load_city
from infra.settings import Settings
from infra.sql import Database, Tx
from projections.base import Event, View
from projections.batch import BatchTx
from projections.clock_facts import (
    MEMO_SIZE,
    _decode_value,
    _encode_value,
    at_text,
    event_data,
)
from projections.memo import SnapshotMemo

T = TypeVar("T")
#: column prefix of each proposal clock
_COLUMN = {"acknowledgement": "ack", "decision": "dec", "feedback": "fb"}
_CREATIONS = ("ProposalDrafted", "NeedRecorded")
_COLUMNS = ("id", "kind", "ward", "seq", "newest_at", "facts", "status", "lead",
            "policy_area", "proposal", "school_district", "submitted_at", "start_on",
            "fiscal_year", "month", "decision", "final", "closed", "transfers", "sat_sum",
            "sat_n", *(f"{_COLUMN[c]}_{part}" for c in CLOCKS
                       for part in ("state", "days", "within", "due")),
            "e2e_state", "e2e_days", "e2e_min_target")
_UPSERT = (f"INSERT INTO clock_summaries ({', '.join(_COLUMNS)})"
           f" VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (id) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]))
#: submitted proposals, as the response metrics count them
_SUBMITTED = "s.kind = 'proposal' AND s.submitted_at IS NOT NULL"
_ANY_PAUSED = " OR ".join(f"s.{p}_state = 'paused'" for p in _COLUMN.values())


#: subjects per statement when deleting the rows a batch writes again
_CHUNK = 500


@dataclass
class _Subject:
    """A subject's facts as a batch keeps them, until its summary is written."""

    kind: str
    ward: str
    seq: int  # the log position of its creation
    facts: list[Fact]


@dataclass
class PrometheusFigures:
    """The clock figures of `GET /metrics`, series in the order the fact path meets them."""

    open: list[tuple[str, str, int]]  # (department, status, proposals)
    overdue: list[tuple[str, str, int]]  # (department or "none", clock, running past due)
    stopped: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # days, clocks


def _encode_facts(facts: Sequence[Fact]) -> str:
    return _encode_value([[f.at, f.kind, f.value] for f in facts])


def _decode_facts(text: str) -> list[Fact]:
    return [Fact(at, kind, value) for at, kind, value in _decode_value(text)]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _proposal_groups(by: str) -> tuple[str, str]:
    """(joins, key) of the groups a submitted proposal `s` counts under (`Grouping`)."""
    if by in ("ward", "policy_area", "fiscal_year", "month"):
        return "", f"s.{by}"
    if by == "department":
        return "", "s.lead"
    if by == "plan_goal":
        return (" JOIN clock_summaries_keys k ON k.subject = s.id AND k.kind = 'plan_goal'",
                "k.group_key")
    if by == "school_district":  # the districts of the needs it carried since its submission
        return (" JOIN (SELECT DISTINCT c.proposal AS subject, c.district AS group_key"
                " FROM clock_summaries_carried c JOIN clock_summaries p ON p.id = c.proposal"
                " WHERE p.submitted_at IS NOT NULL"
                " AND (c.until_at IS NULL OR p.submitted_at < c.until_at)) k"
                " ON k.subject = s.id", "k.group_key")
    raise UnknownGrouping(f"group_by must be one of {', '.join(GROUP_BYS)}; got {by!r}")


def _need_groups(by: str) -> tuple[str, str, str]:
    """(joins, key, condition) of the groups a need `s` counts under; `lp` is its proposal."""
    joins = " LEFT JOIN clock_summaries lp ON lp.id = s.proposal AND lp.kind = 'proposal'"
    if by in ("ward", "policy_area", "fiscal_year", "month"):
        return joins, f"s.{by}", ""
    if by == "department":  # the lead of the proposal carrying it; none: not counted
        return joins, "lp.lead", " AND lp.lead IS NOT NULL"
    if by == "plan_goal":
        return (joins + " JOIN clock_summaries_keys k ON k.subject = s.id"
                " AND k.kind = 'plan_goal'", "k.group_key", "")
    if by == "school_district":
        return joins, "s.school_district", " AND s.school_district IS NOT NULL"
    raise UnknownGrouping(f"group_by must be one of {', '.join(GROUP_BYS)}; got {by!r}")


def _range(date_from: date | None, date_to: date | None) -> tuple[str, list[Any]]:
    """Proposals by submission date, needs by `observed_on`: both are `start_on`."""
    sql, params = "", []
    if date_from is not None:
        sql += " AND s.start_on >= ?"
        params.append(date_from.isoformat())
    if date_to is not None:
        sql += " AND s.start_on <= ?"
        params.append(date_to.isoformat())
    return sql, params


class ClockSummariesView(View):
    """One summary per proposal and need, with its facts, so "now" is a few aggregates."""

    name = "clock_summaries"
    version = 1
    tables = ("clock_summaries", "clock_summaries_keys", "clock_summaries_carried")
    schema = (
        "CREATE TABLE IF NOT EXISTS clock_summaries (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " ward TEXT NOT NULL, seq BIGINT NOT NULL, newest_at TEXT NOT NULL, facts TEXT NOT NULL,"
        " status TEXT, lead TEXT, policy_area TEXT, proposal TEXT, school_district TEXT,"
        " submitted_at TEXT, start_on TEXT, fiscal_year TEXT, month TEXT, decision TEXT,"
        " final INTEGER, closed INTEGER, transfers INTEGER, sat_sum INTEGER, sat_n INTEGER, "
        + ", ".join(f"{p}_state TEXT, {p}_days INTEGER, {p}_within INTEGER, {p}_due TEXT"
                    for p in _COLUMN.values())
        + ", e2e_state TEXT, e2e_days INTEGER, e2e_min_target INTEGER)",
        "CREATE INDEX IF NOT EXISTS clock_summaries_kind ON clock_summaries (kind, status)",
        "CREATE INDEX IF NOT EXISTS clock_summaries_newest ON clock_summaries (newest_at)",
        "CREATE INDEX IF NOT EXISTS clock_summaries_proposal ON clock_summaries (proposal)",
        "CREATE TABLE IF NOT EXISTS clock_summaries_keys (subject TEXT NOT NULL,"
        " kind TEXT NOT NULL, group_key TEXT NOT NULL, PRIMARY KEY (subject, kind, group_key))",
        "CREATE INDEX IF NOT EXISTS clock_summaries_keys_key"
        " ON clock_summaries_keys (kind, group_key)",
        "CREATE TABLE IF NOT EXISTS clock_summaries_carried (need TEXT NOT NULL,"
        " proposal TEXT NOT NULL, district TEXT NOT NULL, until_at TEXT,"
        " PRIMARY KEY (need, proposal))",
        "CREATE INDEX IF NOT EXISTS clock_summaries_carried_proposal"
        " ON clock_summaries_carried (proposal)",
    )

    def __init__(self, db: Database, transcoder: Transcoder, city: CityData | None = None,
                 calendar: BusinessCalendar | None = None) -> None:
        super().__init__(db, transcoder)
        # `View(db, transcoder)` as every view (a restart, a rebuild): the configured city
        self.city = city if city is not None else load_city(Settings().city)
        self.calendar = calendar if calendar is not None else default_calendar()
        self._memo = SnapshotMemo(MEMO_SIZE)

    # ── keeping the summaries ─────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            kind = "proposal"
        elif isinstance(event, Need.Event):
            kind = "need"
        else:
            return
        subject = str(event.originator_id)
        type_name = event_type_name(event)
        data = event_data(event)
        new = facts_of(type_name, data, event.effective_at)  # type: ignore[attr-defined]
        kept = self._subject(tx, subject)
        if kept is None:
            if type_name not in _CREATIONS:
                return  # its creation predates this view's data; a rebuild restores it
            kept = _Subject(kind, str(data["ward"]), self.handling_position, [])
            if isinstance(tx, BatchTx):
                tx.states[("clock_summaries", subject)] = kept
        elif not new:
            return
        kept.facts.extend(new)
        # the summary follows from the facts alone: computed once the batch has them all
        self.mark(tx, "summaries", subject, kept, self._store)

    def _subject(self, tx: Tx, subject: str) -> _Subject | None:
        """The subject's facts as the batch has left them (read once per batch)."""
        key = ("clock_summaries", subject)
        if isinstance(tx, BatchTx) and key in tx.states:
            kept: _Subject | None = tx.states[key]
            return kept
        sql = "SELECT id, kind, ward, seq, facts FROM clock_summaries WHERE id IN ({ids})"
        if isinstance(tx, BatchTx):
            rows = tx.batch_rows(sql, subject)
        else:
            tx.execute(sql.format(ids="?"), (subject,))
            rows = tx.fetchall()
        kept = _Subject(str(rows[0][1]), str(rows[0][2]), int(rows[0][3]),
                        _decode_facts(rows[0][4])) if rows else None
        if isinstance(tx, BatchTx):
            tx.states[key] = kept
        return kept

    def _store(self, tx: Tx, subjects: dict[str, _Subject]) -> None:
        """Write the summaries, plan-goal keys and carried needs of the subjects."""
        ids = sorted(subjects)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            tx.execute(f"DELETE FROM clock_summaries_keys WHERE subject IN ({marks})", chunk)
            needs = [i for i in chunk if subjects[i].kind == "need"]
            if needs:
                tx.execute("DELETE FROM clock_summaries_carried WHERE need IN"
                           f" ({', '.join('?' for _ in needs)})", needs)
        for subject in ids:
            kept = subjects[subject]
            if kept.kind == "proposal":
                self._store_proposal(tx, ProposalFacts(subject, kept.ward, tuple(kept.facts)),
                                     kept.seq)
            else:
                self._store_need(tx, NeedFacts(subject, kept.ward, tuple(kept.facts)), kept.seq)

    def _store_proposal(self, tx: Tx, p: ProposalFacts, seq: int) -> None:
        s = proposal_summary(p, self.city, self.calendar)
        clocks: list[Any] = []
        for name in CLOCKS:
            clock = s.clocks[name]
            clocks += [clock.state, clock.business_days,
                       None if clock.late is None else int(not clock.late), _iso(clock.due_on)]
        self._upsert(tx, [p.id, "proposal", p.ward, seq, at_text(max(f.at for f in p.facts)),
                          _encode_facts(p.facts), s.status, s.lead, s.policy_area, None, None,
                          at_text(s.submitted_at) if s.submitted_at else None,
                          _iso(s.submitted_on), s.fiscal_year, s.month, s.decision,
                          int(s.final), int(s.closed), s.transfers, sum(s.satisfaction),
                          len(s.satisfaction), *clocks, None, None, None])
        self._keys(tx, p.id, s.plan_goal_keys)

    def _store_need(self, tx: Tx, need: NeedFacts, seq: int) -> None:
        s = need_summary(need, self.city, self.calendar)
        self._upsert(tx, [need.id, "need", need.ward, seq,
                          at_text(max(f.at for f in need.facts)), _encode_facts(need.facts),
                          None, None, s.policy_area, s.proposal, s.school_district, None,
                          s.observed_on.isoformat(), s.fiscal_year, s.month, None, None, None,
                          None, None, None, *([None] * 4 * len(CLOCKS)),
                          "stopped" if s.closed_on is not None else "running",
                          s.business_days, s.min_target])
        self._keys(tx, need.id, s.plan_goal_keys)
        for carried in s.carried:
            assert s.school_district is not None
            tx.execute("INSERT INTO clock_summaries_carried (need, proposal, district, until_at)"
                       " VALUES (?, ?, ?, ?)",
                       (need.id, carried.proposal, s.school_district,
                        at_text(carried.until) if carried.until else None))

    def _upsert(self, tx: Tx, values: list[Any]) -> None:
        assert len(values) == len(_COLUMNS)
        tx.execute(_UPSERT, values)

    def _keys(self, tx: Tx, subject: str, plan_goals: Sequence[str]) -> None:
        for key in dict.fromkeys(plan_goals):
            tx.execute("INSERT INTO clock_summaries_keys (subject, kind, group_key)"
                       " VALUES (?, 'plan_goal', ?)", (subject, key))

    # ── when the summaries answer, and keeping what they answered ─────────

    def snapshot(self, as_of: datetime) -> tuple[int, str] | None:
        """The view's position and the JST day, when `as_of` is past every fact (then the
        figures depend on nothing else); None for an earlier instant, not answered here."""
        with self.db.transaction() as tx:
            tx.execute("SELECT COALESCE((SELECT position FROM view_tracking WHERE view = ?), 0),"
                       " COALESCE((SELECT SUM(next_offset) FROM view_offsets WHERE view = ?), 0),"
                       " (SELECT MAX(newest_at) FROM clock_summaries)", (self.name, self.name))
            row = tx.fetchone()
        assert row is not None
        if row[2] is not None and at_text(as_of) < row[2]:
            return None
        return int(row[0]) + int(row[1]), f"day {date_jst(as_of)}"

    def answers(self, as_of: datetime) -> bool:
        """Whether `as_of` is past every fact, so that the summaries answer for it."""
        return self.snapshot(as_of) is not None

    def drop(self) -> None:
        super().drop()
        self.forget()

    def forget(self) -> None:
        """Drop every figure kept by `memo`."""
        self._memo.clear()

    def memo(self, key: Hashable, as_of: datetime, compute: Callable[[], T]) -> T:
        """`compute()`, kept until the view moves on or the JST day changes (as
        `ClockFactsView.memo`, for the instants these summaries answer)."""
        return self._memo.get(key, lambda: self.snapshot(as_of), compute)

    # ── reading now ───────────────────────────────────────────────────────

    def response_metrics(self, group_by: str, as_of: datetime, date_from: date | None = None,
                         date_to: date | None = None) -> list[GroupMetrics]:
        """`domain.metrics.response_metrics` for an `as_of` past every fact."""
        return response_metrics_of(self.tallies(group_by, as_of, date_from, date_to), group_by,
                                   self.city)

    def tallies(self, group_by: str, as_of: datetime, date_from: date | None = None,
                date_to: date | None = None) -> dict[str, GroupTally]:
        """What the summaries add up to per group, for an `as_of` past every fact."""
        today = date_jst(as_of).isoformat()
        joins, key = _proposal_groups(group_by)
        need_joins, need_key, need_where = _need_groups(group_by)
        in_range, range_params = _range(date_from, date_to)
        tallies: dict[str, GroupTally] = {}
        with self.db.transaction() as tx:
            target, target_params, overdue_from, overdue_params = self._end_to_end(tx, as_of)
            tx.execute(
                f"SELECT {key}, s.status, COUNT(*),"
                " SUM(CASE WHEN s.decision = 'accepted' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN s.decision = 'rejected' THEN 1 ELSE 0 END),"
                " SUM(s.final), SUM(s.closed), SUM(s.transfers), SUM(s.sat_sum), SUM(s.sat_n), "
                + ", ".join(f"SUM(CASE WHEN s.{p}_state = 'running' AND s.{p}_due < ? THEN 1"
                            " ELSE 0 END)" for p in _COLUMN.values())
                + f" FROM clock_summaries s{joins} WHERE {_SUBMITTED}{in_range}"
                f" GROUP BY {key}, s.status",
                [today] * len(_COLUMN) + range_params)
            for group, status, n, accepted, rejected, final, closed, transfers, sat_sum, \
                    sat_n, *overdue in tx.fetchall():
                t = tallies.setdefault(group, GroupTally())
                t.counts[status] = t.counts.get(status, 0) + int(n)
                t.accepted += int(accepted)
                t.rejected += int(rejected)
                t.final += int(final)
                t.closed += int(closed)
                t.transfers += int(transfers)
                t.satisfaction_sum += int(sat_sum)
                t.evaluations += int(sat_n)
                for name, count in zip(CLOCKS, overdue, strict=True):
                    t.overdue_running[name] = t.overdue_running.get(name, 0) + int(count)
            for name, p in _COLUMN.items():
                tx.execute(f"SELECT {key}, s.{p}_days, COUNT(*), SUM(s.{p}_within)"
                           f" FROM clock_summaries s{joins} WHERE {_SUBMITTED}{in_range}"
                           f" AND s.{p}_state = 'stopped' GROUP BY {key}, s.{p}_days",
                           range_params)
                for group, days, n, within in tx.fetchall():
                    tallies.setdefault(group, GroupTally()).stopped.setdefault(name, []).append(
                        (int(days), int(n), int(within)))
            tx.execute(f"SELECT {key}, s.id, s.ward, s.facts FROM clock_summaries s{joins}"
                       f" WHERE {_SUBMITTED}{in_range} AND ({_ANY_PAUSED})", range_params)
            paused = tx.fetchall()
            where = f"s.kind = 'need'{need_where}{in_range}"
            tx.execute(f"SELECT {need_key}, s.e2e_days, COUNT(*),"
                       f" SUM(CASE WHEN s.e2e_min_target <= {target} THEN 1 ELSE 0 END)"
                       f" FROM clock_summaries s{need_joins} WHERE {where}"
                       f" AND s.e2e_state = 'stopped' GROUP BY {need_key}, s.e2e_days",
                       target_params + range_params)
            for group, days, n, within in tx.fetchall():
                tallies.setdefault(group, GroupTally()).stopped.setdefault(
                    "end_to_end", []).append((int(days), int(n), int(within)))
            tx.execute(f"SELECT {need_key}, SUM(CASE WHEN s.e2e_state = 'running'"
                       f" AND s.start_on <= {overdue_from} THEN 1 ELSE 0 END)"
                       f" FROM clock_summaries s{need_joins} WHERE {where} GROUP BY {need_key}",
                       overdue_params + range_params)
            for group, overdue_count in tx.fetchall():
                t = tallies.setdefault(group, GroupTally())
                t.overdue_running["end_to_end"] = int(overdue_count)
        readings: dict[str, dict[str, ClockReading]] = {}
        for group, subject, ward, facts in paused:
            if subject not in readings:
                readings[subject] = self._read_now(subject, ward, facts, as_of)
            t = tallies[group]
            for name, reading in readings[subject].items():
                if reading.state == "paused" and reading.late:
                    t.overdue_running[name] = t.overdue_running.get(name, 0) + 1
        return tallies

    def _read_now(self, subject: str, ward: str, facts: str,
                  as_of: datetime) -> dict[str, ClockReading]:
        """A paused proposal's clocks at `as_of`: its due date moves while it is paused."""
        return proposal_clocks(ProposalFacts(subject, ward, tuple(_decode_facts(facts))),
                               self.city, self.calendar, as_of)

    def _end_to_end(self, tx: Tx, as_of: datetime) -> tuple[str, list[Any], str, list[Any]]:
        """SQL for a need's end-to-end target, by its proposal's lead `lp.lead` (the city's
        default without one), and for the last `observed_on` overdue by `as_of` at that
        target; with their parameters."""
        tx.execute("SELECT DISTINCT lead FROM clock_summaries WHERE kind = 'proposal'")
        leads = sorted(str(row[0]) for row in tx.fetchall())
        today = date_jst(as_of)
        default = self.city.default_targets.end_to_end
        targets = {lead: self.city.targets_for(lead).end_to_end for lead in leads}
        last: dict[int, str] = {}
        for t in {default, *targets.values()}:
            last[t] = last_overdue_start(self.calendar, t, today).isoformat()
        if not leads:
            return str(int(default)), [], f"'{last[default]}'", []
        whens = " ".join(f"WHEN ? THEN {int(targets[lead])}" for lead in leads)
        dates = " ".join(f"WHEN ? THEN '{last[targets[lead]]}'" for lead in leads)
        return (f"(CASE lp.lead {whens} ELSE {int(default)} END)", list(leads),
                f"(CASE lp.lead {dates} ELSE '{last[default]}' END)", list(leads))

    def backlog(self, as_of: datetime) -> list[DepartmentBacklog]:
        """`domain.backlog.backlog` for an `as_of` past every fact."""
        today = date_jst(as_of)
        statuses = sorted(UNDECIDED)
        with self.db.transaction() as tx:
            tx.execute("SELECT s.lead, s.start_on, COUNT(*) FROM clock_summaries s"
                       f" WHERE {_SUBMITTED}"
                       f" AND s.status IN ({', '.join('?' for _ in statuses)})"
                       " GROUP BY s.lead, s.start_on", statuses)
            rows = tx.fetchall()
        by_department: dict[str, dict[str, int]] = {}
        for lead, submitted_on, n in rows:
            buckets = by_department.setdefault(
                str(lead), {label: 0 for label, _, _ in BACKLOG_BUCKETS})
            days = self.calendar.business_days_between(date.fromisoformat(submitted_on), today)
            buckets[backlog_bucket(days)] += int(n)
        return [DepartmentBacklog(d, by_department[d]) for d in sorted(by_department)]

    def prometheus(self, as_of: datetime) -> PrometheusFigures:
        """The clock figures of `GET /metrics` for an `as_of` past every fact."""
        today = date_jst(as_of).isoformat()
        statuses = sorted(OPEN)
        overdue: dict[tuple[str, str], list[int]] = {}  # (department, clock) → [n, first seq]

        def add(department: str, clock: str, n: int, seq: int) -> None:
            entry = overdue.setdefault((department, clock), [0, seq])
            entry[0] += n
            entry[1] = min(entry[1], seq)

        with self.db.transaction() as tx:
            tx.execute("SELECT lead, status, COUNT(*), MIN(seq) FROM clock_summaries"
                       " WHERE kind = 'proposal'"
                       f" AND status IN ({', '.join('?' for _ in statuses)})"
                       " GROUP BY lead, status ORDER BY MIN(seq)", statuses)
            open_ = [(str(lead), str(status), int(n)) for lead, status, n, _ in tx.fetchall()]
            stopped: dict[str, list[tuple[int, int]]] = {}
            for name, p in _COLUMN.items():
                tx.execute(f"SELECT lead, COUNT(*), MIN(seq) FROM clock_summaries"
                           f" WHERE kind = 'proposal' AND {p}_state = 'running' AND {p}_due < ?"
                           " GROUP BY lead", (today,))
                for lead, n, seq in tx.fetchall():
                    add(str(lead), name, int(n), int(seq))
                tx.execute(f"SELECT {p}_days, COUNT(*) FROM clock_summaries"
                           f" WHERE kind = 'proposal' AND {p}_state = 'stopped'"
                           f" GROUP BY {p}_days", ())
                stopped[name] = [(int(d), int(n)) for d, n in tx.fetchall()]
            tx.execute("SELECT s.id, s.ward, s.facts, s.lead, s.seq FROM clock_summaries s"
                       f" WHERE s.kind = 'proposal' AND ({_ANY_PAUSED})", ())
            paused = tx.fetchall()
            _, _, overdue_from, params = self._end_to_end(tx, as_of)
            tx.execute("SELECT lp.lead, COUNT(*), MIN(s.seq) FROM clock_summaries s"
                       " LEFT JOIN clock_summaries lp ON lp.id = s.proposal"
                       " AND lp.kind = 'proposal' WHERE s.kind = 'need'"
                       f" AND s.e2e_state = 'running' AND s.start_on <= {overdue_from}"
                       " GROUP BY lp.lead", params)
            needs = tx.fetchall()
            tx.execute("SELECT e2e_days, COUNT(*) FROM clock_summaries"
                       " WHERE kind = 'need' AND e2e_state = 'stopped' GROUP BY e2e_days", ())
            stopped["end_to_end"] = [(int(d), int(n)) for d, n in tx.fetchall()]
        for subject, ward, facts, lead, seq in paused:
            for name, reading in self._read_now(subject, ward, facts, as_of).items():
                if reading.state == "paused" and reading.late:
                    add(str(lead), name, 1, int(seq))
        order = {name: i for i, name in enumerate(METRIC_CLOCKS)}
        # the fact path creates each series when it first meets it: proposals in the order
        # they were drafted, each clock in turn, then needs in the order they were recorded
        series = sorted(overdue.items(), key=lambda kv: (kv[0][1] == "end_to_end", kv[1][1],
                                                         order[kv[0][1]]))
        by_lead: dict[str, list[int]] = {}
        for lead, n, seq in needs:  # no proposal, or one led by a division called "none"
            entry = by_lead.setdefault(str(lead) if lead is not None else "none", [0, int(seq)])
            entry[0] += int(n)
            entry[1] = min(entry[1], int(seq))
        need_series = sorted(((d, n, seq) for d, (n, seq) in by_lead.items()),
                             key=lambda r: r[2])
        return PrometheusFigures(
            open_,
            [(d, clock, n) for (d, clock), (n, _) in series]
            + [(d, "end_to_end", n) for d, n, _ in need_series],
            stopped)
