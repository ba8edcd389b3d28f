"""Summaries: what the response metrics need of one proposal or need *now*.

Once every fact of a subject is known (the instant asked is past all of them), most
of what the metrics read off it no longer depends on the instant: its status and
keys, its stopped clocks' business days and lateness, a running clock's due date.
Only "today" still matters, and only through comparisons with dates kept here (is a
due date over, how many business days since submission). A view keeps one summary
per subject, so that "now" is a few SQL aggregates instead of a replay of every fact.

Every value comes from the domain's own rules (`domain.facts`, `domain.clocks`,
`domain.metrics`, `domain.groupings`) read at the subject's newest fact; the few
derivations of our own (the smallest target a closed need met, the last start day
already overdue) are written next to the rule they invert and checked against it
by the property test of the summary path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from domain.calendar import BusinessCalendar, date_jst
from domain.facts import NeedFacts, ProposalFacts
from domain.groupings import Grouping, fiscal_year
from domain.metrics import (
    COUNTED_STATUSES,
    METRIC_CLOCKS,
    GroupMetrics,
    _ClockTally,
    _ratio,
    end_to_end_clock,
    proposal_clocks,
)
from domain.reference import CityData

#: a placeholder date for `Grouping.proposal_keys` where the key does not depend on it
_ANY_DAY = date(2000, 1, 1)


@dataclass(frozen=True)
class ClockNow:
    """One clock once every fact is known.

    `state` as `read_clock` gives it (not_started, running, paused, stopped, cancelled);
    a stopped clock's business days and lateness are final; a running clock's due date
    holds until its next fact. A paused clock's due date moves while the pause lasts:
    read it again at the instant asked.
    """

    state: str
    business_days: int | None = None
    late: bool | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class ProposalSummary:
    """A proposal as the metrics read it once every fact of it is known."""

    status: str
    lead: str
    policy_area: str
    submitted_at: datetime | None
    submitted_on: date | None
    fiscal_year: str | None  # of the submission date
    month: str | None
    decision: str | None
    final: bool
    closed: bool  # final, with feedback after the final status
    transfers: int
    satisfaction: tuple[int, ...]
    clocks: dict[str, ClockNow]
    plan_goal_keys: tuple[str, ...]  # the plan goals and their chapters it counts under


@dataclass(frozen=True)
class Carried:
    """A need's school district counts for `proposal` if the proposal was submitted before
    `until` (None: whenever it was submitted): see `NeedFacts.carried_since`."""

    proposal: str
    until: datetime | None


@dataclass(frozen=True)
class NeedSummary:
    """A need as the metrics read it once every fact of it is known.

    Its end-to-end target is that of its proposal's lead division, which the proposal's
    own events change: so lateness is kept as `min_target`, the smallest target the
    closing met, and compared with the target when read.
    """

    policy_area: str
    observed_on: date
    fiscal_year: str
    month: str
    proposal: str | None
    school_district: str | None
    plan_goal_keys: tuple[str, ...]
    closed_on: date | None
    business_days: int | None  # closed: business days from observed_on to the closing
    min_target: int | None  # closed: within target iff the target is at least this
    carried: tuple[Carried, ...] = field(default=())


def newest(facts: Iterable[object]) -> datetime:
    """The instant of a subject's newest fact."""
    return max(f.at for f in facts)  # type: ignore[attr-defined]


def proposal_summary(p: ProposalFacts, city: CityData,
                     calendar: BusinessCalendar) -> ProposalSummary:
    """The proposal's summary, read at its newest fact by the metrics' own functions."""
    readings = proposal_clocks(p, city, calendar, newest(p.facts))
    clocks = {name: ClockNow(r.state, r.business_days if r.state == "stopped" else None,
                             r.late if r.state == "stopped" else None,
                             r.due_on if r.state == "running" else None)
              for name, r in readings.items()}
    submitted_at = p.submitted_at
    submitted_on = date_jst(submitted_at) if submitted_at is not None else None
    by_year = Grouping("fiscal_year", city, {}, {})
    by_month = Grouping("month", city, {}, {})
    final = p.final_at is not None
    return ProposalSummary(
        status=p.status, lead=p.lead_department, policy_area=p.policy_area,
        submitted_at=submitted_at, submitted_on=submitted_on,
        fiscal_year=by_year.proposal_keys(p, submitted_on)[0] if submitted_on else None,
        month=by_month.proposal_keys(p, submitted_on)[0] if submitted_on else None,
        decision=p.decision, final=final, closed=final and p.feedback_after_final,
        transfers=p.transfers, satisfaction=tuple(p.satisfaction), clocks=clocks,
        plan_goal_keys=Grouping("plan_goal", city, {}, {}).proposal_keys(p, _ANY_DAY))


def need_summary(need: NeedFacts, city: CityData, calendar: BusinessCalendar) -> NeedSummary:
    """The need's summary, read at its newest fact by the metrics' own functions."""
    at = newest(need.facts)
    # the target does not change business days; the lead's is applied when read
    reading = end_to_end_clock(need, None, city, calendar, at)
    closed_on = date_jst(reading.stopped_at) if reading.state == "stopped" \
        and reading.stopped_at is not None else None
    min_target = None
    if closed_on is not None:
        assert reading.business_days is not None
        min_target = smallest_target_met(calendar, need.observed_on, closed_on,
                                         reading.business_days)
    observed_on = need.observed_on
    return NeedSummary(
        policy_area=need.policy_area, observed_on=observed_on,
        fiscal_year=str(fiscal_year(observed_on)), month=observed_on.strftime("%Y-%m"),
        proposal=need.proposal, school_district=need.school_district,
        plan_goal_keys=Grouping("plan_goal", city, {}, {}).need_keys(need),
        closed_on=closed_on, business_days=reading.business_days if closed_on else None,
        min_target=min_target, carried=carried(need) if need.school_district else ())


def smallest_target_met(calendar: BusinessCalendar, start: date, closed_on: date,
                        business_days: int) -> int:
    """The smallest target T for which a clock started on `start` and stopped on
    `closed_on` is not late (late: `closed_on` after the T-th business day after `start`).

    The T-th business day grows with T; with b business days in (start, closed_on], the
    b-th is on or before `closed_on` and every smaller T is late, while the (b+1)-th is
    after it: so T = b when the b-th day is `closed_on` itself (or b = 0 and `closed_on`
    is not after `start`), else b + 1 (closed on a weekend or holiday after the b-th).
    """
    return business_days if calendar.add_business_days(start, business_days) >= closed_on \
        else business_days + 1


def last_overdue_start(calendar: BusinessCalendar, target: int, today: date) -> date:
    """The latest start date whose `target`-th business day after it has ended by `today`:
    a clock started on or before it and still running is overdue (`has_ended`)."""
    # The due date grows with the start date; search the start dates by halves.
    lo = today - timedelta(days=2 * target + 60)  # overdue: T business days fit in 2T + 60
    hi = today  # not overdue: the due date is on or after the start
    while calendar.add_business_days(lo, target) >= today:  # never, with the margin above
        lo -= timedelta(days=target + 60)
    while (hi - lo).days > 1:
        mid = lo + (hi - lo) // 2
        if calendar.add_business_days(mid, target) < today:
            lo = mid
        else:
            hi = mid
    return lo


def carried(need: NeedFacts) -> tuple[Carried, ...]:
    """For each proposal the need names, until when a submission still counts it as carried.

    `carried_since(s)` changes only at the instants of the need's proposal facts, and once
    a named proposal is out of it for some s it stays out for every later s (all its own
    facts are then before s, and a later fact moved the need on): so the first such
    instant bounds the submissions that count, found by asking `carried_since` itself.
    """
    instants = sorted({f.at for f in need.facts if f.kind == "proposal"})
    named = dict.fromkeys(str(f.value) for f in need.facts if f.kind == "proposal" and f.value)
    out = []
    for proposal in named:
        until = next((t for t in instants if proposal not in need.carried_since(t)), None)
        out.append(Carried(proposal, until))
    return tuple(out)


# ── from per-group tallies to the metrics ─────────────────────────────────


@dataclass
class GroupTally:
    """What the summaries add up to for one group."""

    counts: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    rejected: int = 0
    final: int = 0
    closed: int = 0
    transfers: int = 0
    satisfaction_sum: int = 0
    evaluations: int = 0
    #: per clock: (business days, stopped clocks with that many, of which within target)
    stopped: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    overdue_running: dict[str, int] = field(default_factory=dict)

    def clock(self, name: str) -> _ClockTally:
        """The clock's tally as `domain.metrics` keeps it (stopped days listed in order)."""
        days: list[int] = []
        within = 0
        for business_days, count, on_time in sorted(self.stopped.get(name, [])):
            days += [business_days] * count
            within += on_time
        return _ClockTally(days, within, self.overdue_running.get(name, 0))

    def metrics(self, key: str) -> GroupMetrics:
        """The group's response metrics, by the same formulas as `domain.metrics`."""
        counts = dict.fromkeys(COUNTED_STATUSES, 0)
        for status, count in self.counts.items():
            counts[status] = counts.get(status, 0) + count
        n = sum(self.counts.values())
        decided = self.accepted + self.rejected
        # statistics.fmean of whole scores is their exact sum over their number
        mean = self.satisfaction_sum / self.evaluations if self.evaluations else None
        return GroupMetrics(
            key=key, n=n, counts=counts,
            clocks={name: self.clock(name).summary() for name in METRIC_CLOCKS},
            acceptance_rate=_ratio(self.accepted, decided), decided=decided,
            feedback_closure_rate=_ratio(self.closed, self.final), final=self.final,
            transfers_per_proposal=_ratio(self.transfers, n),
            mean_satisfaction=mean, evaluations=self.evaluations)


def response_metrics_of(tallies: Mapping[str, GroupTally], group_by: str,
                        city: CityData) -> list[GroupMetrics]:
    """The groups of `domain.metrics.response_metrics`, from tallies per key: the city's
    entries first (even empty), then the other keys seen, as `Grouping.ordered` lists them."""
    by = Grouping(group_by, city, {}, {})
    keys = dict.fromkeys([*by.reference_keys(), *tallies])
    return [tallies.get(k, GroupTally()).metrics(k) for k in by.ordered(keys)]

