"""Clock summaries: one row per proposal and need with what the metrics need *now*.

The handler keeps each subject's facts (from the domain's `facts_of`, as the clock-facts
view does) in its row and, on each of its events, recomputes the subject's summary with
the domain's own functions (`domain.summaries`). Reading "now" (an instant past every
fact) is then a few aggregates per group: counts by status, sums, stopped clocks' business
days counted per value, running clocks past their due date. What depends on another
subject is joined when read: a need's lead division and end-to-end target (its
proposal's), a proposal's school districts (those of the needs it carried). A past
instant is not answered here: the clock-facts view replays the facts up to it.

Reading them is `projections.summary_reads` (a mixin of the view).

The view reads the city's targets and plan goals and the calendar when it handles an
event: a change of either is a change of `version` (the view is rebuilt).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from eventsourcing.persistence import Transcoder

from domain.application import event_type_name
from domain.calendar import BusinessCalendar, date_jst, default_calendar
from domain.clocks import CLOCKS
from domain.facts import Fact, NeedFacts, ProposalFacts, facts_of
from domain.need import Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.summaries import need_summary, proposal_summary
from infra.city import load_city
from infra.settings import Settings
from infra.sql import Database, Tx
from projections.base import Event, View
from projections.batch import BatchTx
from projections.clock_facts import (
    MEMO_SIZE,
    _encode_value,
    at_text,
    event_data,
)
from projections.memo import SnapshotMemo
from projections.summary_reads import CLOCK_COLUMNS, SummaryReads, decode_facts

T = TypeVar("T")
_CREATIONS = ("ProposalDrafted", "NeedRecorded")
_COLUMNS = ("id", "kind", "ward", "seq", "newest_at", "facts", "status", "lead",
            "policy_area", "proposal", "school_district", "submitted_at", "start_on",
            "fiscal_year", "month", "decision", "final", "closed", "transfers", "sat_sum",
            "sat_n", *(f"{CLOCK_COLUMNS[c]}_{part}" for c in CLOCKS
                       for part in ("state", "days", "within", "due")),
            "e2e_state", "e2e_days", "e2e_min_target")
_UPSERT = (f"INSERT INTO clock_summaries ({', '.join(_COLUMNS)})"
           f" VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (id) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]))
#: subjects per statement when deleting the rows a batch writes again
_CHUNK = 500


@dataclass
class _Subject:
    """A subject's facts as a batch keeps them, until its summary is written."""

    kind: str
    ward: str
    seq: int  # the log position of its creation
    facts: list[Fact]


def _encode_facts(facts: Sequence[Fact]) -> str:
    return _encode_value([[f.at, f.kind, f.value] for f in facts])


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


class ClockSummariesView(SummaryReads, View):
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
                    for p in CLOCK_COLUMNS.values())
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
        rows = self.subject_rows(tx, sql, subject)
        kept = _Subject(str(rows[0][1]), str(rows[0][2]), int(rows[0][3]),
                        decode_facts(rows[0][4])) if rows else None
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
