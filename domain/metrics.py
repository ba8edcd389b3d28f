"""Response metrics per group, computed from dated facts.

Pure functions over `ProposalFacts` / `NeedFacts` (domain.md, "Clocks and metrics";
docs/metrics.md gives every definition in Japanese and English). Everything is
judged "as of" an instant: the facts dated after it are ignored, so a past
instant answers as the system stood then (time travel). What counts under which
group is `domain.groupings`; uniformity and the backlog have modules of their own.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.calendar import BusinessCalendar, date_jst
from domain.clocks import CLOCKS, ClockReading, read_clock
from domain.facts import NeedFacts, ProposalFacts
from domain.groupings import Grouping, carried_districts, grouping
from domain.reference import CityData
from domain.states import ProposalStatus

#: the clocks the response metrics report: the proposal clocks and the need's end to end
METRIC_CLOCKS: tuple[str, ...] = (*CLOCKS, "end_to_end")
#: statuses a submitted proposal can have (drafts are not counted), in lifecycle order
COUNTED_STATUSES: tuple[str, ...] = tuple(s.value for s in ProposalStatus
                                          if s is not ProposalStatus.DRAFT)
#: metrics whose uniformity between wards or school districts can be asked for
UNIFORMITY_METRICS: tuple[str, ...] = (
    *(f"{clock}_{figure}" for clock in METRIC_CLOCKS
      for figure in ("median", "p90", "within_target")),
    "acceptance_rate", "feedback_closure_rate", "transfers_per_proposal", "mean_satisfaction",
)


class UnknownMetric(ValueError):
    """A uniformity metric that is not one of `UNIFORMITY_METRICS`."""


# ── percentiles ───────────────────────────────────────────────────────────


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between closest ranks.

    The same as Excel's PERCENTILE.INC and numpy's default (`method="linear"`):
    with the values sorted x[0] ≤ … ≤ x[n-1], h = (n - 1)·p/100 and the result
    is x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). None for no values.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * p / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (h - lo) * (xs[hi] - xs[lo]))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# ── response metrics ──────────────────────────────────────────────────────


@dataclass(frozen=True)
class ClockSummary:
    """One clock over a group: stopped clocks' median and p90, and the share within target."""

    n: int  # stopped clocks behind median and p90
    median: float | None
    p90: float | None
    within_target: float | None
    #: the items behind `within_target`: stopped clocks plus running clocks past due
    share_n: int

    def as_dict(self) -> dict[str, Any]:
        """The API's shape: n, median, p90, within_target."""
        return {"n": self.n, "median": self.median, "p90": self.p90,
                "within_target": self.within_target}


@dataclass
class _ClockTally:
    stopped: list[int]
    within: int = 0
    overdue_running: int = 0

    def add_stopped(self, business_days: int, late: bool) -> None:
        self.stopped.append(business_days)
        self.within += not late

    def summary(self) -> ClockSummary:
        share_n = len(self.stopped) + self.overdue_running
        return ClockSummary(len(self.stopped), percentile(self.stopped, 50),
                            percentile(self.stopped, 90), _ratio(self.within, share_n),
                            share_n)


@dataclass(frozen=True)
class GroupMetrics:
    """The response metrics of one group (a ward, division, policy area, fiscal year or month)."""

    key: str
    n: int  # submitted proposals in the group
    counts: dict[str, int]
    clocks: dict[str, ClockSummary]
    acceptance_rate: float | None
    decided: int  # accepted + rejected, by latest decision: the items behind acceptance_rate
    feedback_closure_rate: float | None
    final: int  # final proposals: the items behind feedback_closure_rate
    transfers_per_proposal: float | None
    mean_satisfaction: float | None
    evaluations: int  # satisfaction scores behind mean_satisfaction

    def as_dict(self) -> dict[str, Any]:
        """The API's shape of a group."""
        return {"key": self.key, "n": self.n, "counts": dict(self.counts),
                "clocks": {name: c.as_dict() for name, c in self.clocks.items()},
                "acceptance_rate": self.acceptance_rate,
                "feedback_closure_rate": self.feedback_closure_rate,
                "transfers_per_proposal": self.transfers_per_proposal,
                "mean_satisfaction": self.mean_satisfaction}

    def figure(self, metric: str) -> tuple[float | None, int]:
        """A uniformity metric's value for this group, and the number of items behind it."""
        if metric == "acceptance_rate":
            return self.acceptance_rate, self.decided
        if metric == "feedback_closure_rate":
            return self.feedback_closure_rate, self.final
        if metric == "transfers_per_proposal":
            return self.transfers_per_proposal, self.n
        if metric == "mean_satisfaction":
            return self.mean_satisfaction, self.evaluations
        for suffix in ("_within_target", "_median", "_p90"):
            if metric.endswith(suffix) and metric[:-len(suffix)] in self.clocks:
                summary = self.clocks[metric[:-len(suffix)]]
                if suffix == "_within_target":
                    return summary.within_target, summary.share_n
                return (summary.median if suffix == "_median" else summary.p90), summary.n
        raise UnknownMetric(f"unknown metric {metric!r}")


def _in_range(d: date, date_from: date | None, date_to: date | None) -> bool:
    return (date_from is None or d >= date_from) and (date_to is None or d <= date_to)


@dataclass
class _Group:
    """What one group adds up to, item by item (no item is kept once it is counted)."""

    n: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_STATUSES, 0))
    tallies: dict[str, _ClockTally] = field(
        default_factory=lambda: {name: _ClockTally([]) for name in METRIC_CLOCKS})
    accepted: int = 0
    rejected: int = 0
    final: int = 0
    closed: int = 0
    transfers: int = 0
    scores: list[int] = field(default_factory=list)

    def add_proposal(self, p: _Counted) -> None:
        self.n += 1
        self.counts[p.status] = self.counts.get(p.status, 0) + 1
        for name, reading in p.readings.items():
            _tally(self.tallies[name], reading)
        self.accepted += p.decision == "accepted"
        self.rejected += p.decision == "rejected"
        self.final += p.final
        self.closed += p.closed
        self.transfers += p.transfers
        self.scores += p.satisfaction

    def metrics(self, key: str) -> GroupMetrics:
        return GroupMetrics(
            key=key, n=self.n, counts=self.counts,
            clocks={name: t.summary() for name, t in self.tallies.items()},
            acceptance_rate=_ratio(self.accepted, self.accepted + self.rejected),
            decided=self.accepted + self.rejected,
            feedback_closure_rate=_ratio(self.closed, self.final), final=self.final,
            transfers_per_proposal=_ratio(self.transfers, self.n),
            mean_satisfaction=statistics.fmean(self.scores) if self.scores else None,
            evaluations=len(self.scores))


@dataclass(frozen=True)
class _Counted:
    """What the metrics read off one submitted proposal as of the instant."""

    status: str
    readings: dict[str, ClockReading]
    decision: str | None
    final: bool
    closed: bool  # final, with feedback after the final status
    transfers: int
    satisfaction: tuple[int, ...]


def response_metrics(proposals: Iterable[ProposalFacts], needs: Iterable[NeedFacts],
                     group_by: str, city: CityData, calendar: BusinessCalendar,
                     as_of: datetime, date_from: date | None = None,
                     date_to: date | None = None) -> list[GroupMetrics]:
    """The response metrics per group, as the facts stood at `as_of`.

    Ward, division, policy-area, plan-goal and school-district groups list every
    reference entry (in the city file's order) and then any other key seen; fiscal
    years and months are those seen, in order. `date_from`/`date_to` (inclusive JST
    dates) filter proposals on their submission date and needs on `observed_on`.
    An item may count under several groups (plan goals, school districts), once in each.

    Each proposal is read once, all of them before the first need, and none is kept
    once counted (so both may be streams): a need's groups and target follow its
    proposal's lead division, a proposal's school districts the needs it carried.
    """
    by = grouping(group_by, city, [], [])
    groups: dict[str, _Group] = {k: _Group() for k in by.reference_keys()}
    leads: dict[str, str] = {}
    submitted: dict[str, datetime] = {}
    by_district: list[tuple[str, _Counted]] = []  # counted once their needs are read
    for whole in proposals:
        p = whole.as_of(as_of)
        leads[p.id] = p.lead_department
        if p.submitted_at is None:
            continue  # drafts are not counted
        submitted[p.id] = p.submitted_at
        submitted_on = date_jst(p.submitted_at)
        if not _in_range(submitted_on, date_from, date_to):
            continue
        counted = _Counted(p.status, _clocks_at(p, city, calendar, as_of), p.decision,
                           p.final_at is not None, p.final_at is not None
                           and p.feedback_after_final, p.transfers, tuple(p.satisfaction))
        if group_by == "school_district":
            by_district.append((p.id, counted))
            continue
        for key in by.proposal_keys(p, submitted_on):
            groups.setdefault(key, _Group()).add_proposal(counted)
    by = Grouping(by.by, city, leads, {})
    districts: dict[str, dict[str, None]] = {}
    for uncut in needs:
        need = uncut.as_of(as_of)
        if group_by == "school_district":
            carried_districts(need, submitted, districts)
        if not need.recorded or not _in_range(need.observed_on, date_from, date_to):
            continue
        keys = by.need_keys(need)
        if not keys:
            continue
        lead = leads.get(need.proposal) if need.proposal is not None else None
        reading = _end_to_end_at(need, lead, city, calendar, as_of)
        for key in keys:
            _tally(groups.setdefault(key, _Group()).tallies["end_to_end"], reading)
    for proposal_id, counted in by_district:
        for key in districts.get(proposal_id, ()):
            groups.setdefault(key, _Group()).add_proposal(counted)
    return [groups[k].metrics(k) for k in by.ordered(groups)]


def _tally(tally: _ClockTally, reading: ClockReading) -> None:
    if reading.state == "stopped":
        assert reading.business_days is not None
        tally.add_stopped(reading.business_days, bool(reading.late))
    elif reading.state in ("running", "paused") and reading.late:
        tally.overdue_running += 1  # past due and still running: not within target
    # not started, cancelled, or running but not yet due: left out


def proposal_clocks(p: ProposalFacts, city: CityData, calendar: BusinessCalendar,
                    as_of: datetime) -> dict[str, ClockReading]:
    """A proposal's three clocks at `as_of`, against its current lead division's targets."""
    return _clocks_at(p.as_of(as_of), city, calendar, as_of)


def _clocks_at(p: ProposalFacts, city: CityData, calendar: BusinessCalendar,
               as_of: datetime) -> dict[str, ClockReading]:
    """`proposal_clocks` of facts already cut at `as_of`."""
    targets = city.targets_for(p.lead_department)
    return {name: read_clock(facts, getattr(targets, name), calendar, as_of)
            for name, facts in p.clock_facts().items()}


def end_to_end_clock(need: NeedFacts, lead: str | None, city: CityData,
                     calendar: BusinessCalendar, as_of: datetime) -> ClockReading:
    """A need's end-to-end clock at `as_of`: business days from `observed_on` to its closing.

    The target is the end-to-end target of `lead` (the lead division of the need's
    proposal), or the city's default when the need is in no proposal.
    """
    return _end_to_end_at(need.as_of(as_of), lead, city, calendar, as_of)


def _end_to_end_at(need: NeedFacts, lead: str | None, city: CityData,
                   calendar: BusinessCalendar, as_of: datetime) -> ClockReading:
    """`end_to_end_clock` of facts already cut at `as_of`."""
    target = (city.targets_for(lead) if lead is not None else city.default_targets).end_to_end
    start = need.observed_on
    due_on = calendar.add_business_days(start, target)
    closed_at = need.closed_at
    if closed_at is not None:
        closed_on = date_jst(closed_at)
        return ClockReading("end_to_end", "stopped", None, closed_at,
                            calendar.business_days_between(start, closed_on), 0, target,
                            due_on, closed_on > due_on)
    return ClockReading("end_to_end", "running", None, None,
                        calendar.business_days_between(start, date_jst(as_of)), 0, target,
                        due_on, calendar.has_ended(due_on, as_of))
