"""Reading the clock summaries: "now" as a few SQL aggregates per group.

The read side of `projections.clock_summaries` (its handlers keep the rows): response
metrics, the backlog and the Prometheus clock figures for an instant past every fact, a
mixin of `ClockSummariesView`. Paused clocks (few) are read again from their facts, since
their due dates move while they pause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.backlog import BACKLOG_BUCKETS, DepartmentBacklog, backlog_bucket
from domain.calendar import BusinessCalendar, date_jst
from domain.clocks import CLOCKS, ClockReading
from domain.facts import Fact, ProposalFacts
from domain.groupings import GROUP_BYS, UnknownGrouping
from domain.metrics import METRIC_CLOCKS, GroupMetrics, proposal_clocks
from domain.reference import CityData
from domain.states import OPEN, UNDECIDED
from domain.summaries import GroupTally, last_overdue_start, response_metrics_of
from infra.sql import Database, Tx
from projections.clock_facts import _decode_value

#: column prefix of each proposal clock
CLOCK_COLUMNS = {"acknowledgement": "ack", "decision": "dec", "feedback": "fb"}
#: submitted proposals, as the response metrics count them
_SUBMITTED = "s.kind = 'proposal' AND s.submitted_at IS NOT NULL"
_ANY_PAUSED = " OR ".join(f"s.{p}_state = 'paused'" for p in CLOCK_COLUMNS.values())


@dataclass
class PrometheusFigures:
    """The clock figures of `GET /metrics`, series in the order the fact path meets them."""

    open: list[tuple[str, str, int]]  # (department, status, proposals)
    overdue: list[tuple[str, str, int]]  # (department or "none", clock, running past due)
    stopped: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # days, clocks


def decode_facts(text: str) -> list[Fact]:
    """A summary row's facts, as `ClockSummariesView` stores them."""
    return [Fact(at, kind, value) for at, kind, value in _decode_value(text)]


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


class SummaryReads:
    """The read side of the clock summaries (`ClockSummariesView` keeps the rows)."""

    db: Database
    name: str
    city: CityData
    calendar: BusinessCalendar

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
                            " ELSE 0 END)" for p in CLOCK_COLUMNS.values())
                + f" FROM clock_summaries s{joins} WHERE {_SUBMITTED}{in_range}"
                f" GROUP BY {key}, s.status",
                [today] * len(CLOCK_COLUMNS) + range_params)
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
            for name, p in CLOCK_COLUMNS.items():
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
        return proposal_clocks(ProposalFacts(subject, ward, tuple(decode_facts(facts))),
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
            for name, p in CLOCK_COLUMNS.items():
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
