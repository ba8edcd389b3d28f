"""What is counted where: the groups a proposal or need counts under (docs/metrics.md §4).

A proposal or need counts under one ward, division, policy area, fiscal year or month;
under each plan goal it names (and each of their chapters, once); and under each school
district it was heard in, a proposal under those of the needs it carried. Keys are read
off facts already cut at the instant asked, so a grouping is as of that instant too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.facts import NeedFacts, ProposalFacts
from domain.reference import CityData

#: ways to group the response metrics
GROUP_BYS: tuple[str, ...] = ("ward", "department", "policy_area", "fiscal_year", "month",
                              "plan_goal", "school_district")
#: groupings whose groups are those that occur, in order, rather than the city's entries
_SEEN_ONLY = frozenset({"fiscal_year", "month"})


class UnknownGrouping(ValueError):
    """A grouping that is not one of `GROUP_BYS`."""


def fiscal_year(d: date) -> int:
    """The fiscal year (年度, 1 April – 31 March) a JST date falls in."""
    return d.year if d.month >= 4 else d.year - 1


@dataclass(frozen=True)
class Grouping:
    """One way of grouping, with what its keys depend on beyond the item itself."""

    by: str
    city: CityData
    #: proposal → its lead division (a need counts under its proposal's)
    leads: Mapping[str, str]
    #: proposal → the school districts of the needs it carried (grouping by school district)
    districts: Mapping[str, tuple[str, ...]]

    def proposal_keys(self, p: ProposalFacts, submitted_on: date) -> tuple[str, ...]:
        """The groups a submitted proposal counts under, each once."""
        if self.by == "ward":
            return (p.ward,)
        if self.by == "department":
            return (p.lead_department,)
        if self.by == "policy_area":
            return (p.policy_area,)
        if self.by == "fiscal_year":
            return (str(fiscal_year(submitted_on)),)
        if self.by == "month":
            return (submitted_on.strftime("%Y-%m"),)
        if self.by == "plan_goal":
            return self._with_chapters(p.plan_goals)
        return self.districts.get(p.id, ())

    def need_keys(self, need: NeedFacts) -> tuple[str, ...]:
        """The groups a need's end-to-end clock counts under, each once (none: left out)."""
        if self.by == "ward":
            return (need.ward,)
        if self.by == "policy_area":
            return (need.policy_area,)
        if self.by == "department":
            # a need counts under the lead division of the proposal carrying it, if any
            lead = self.leads.get(need.proposal) if need.proposal is not None else None
            return (lead,) if lead is not None else ()
        # fiscal year and month: of `observed_on`, where the end-to-end clock starts,
        # as a proposal counts under the date its own clocks start (its submission)
        if self.by == "fiscal_year":
            return (str(fiscal_year(need.observed_on)),)
        if self.by == "month":
            return (need.observed_on.strftime("%Y-%m"),)
        if self.by == "plan_goal":
            return self._with_chapters(need.plan_goals)
        district = need.school_district
        return (district,) if district is not None else ()

    def reference_keys(self) -> list[str]:
        """Groups always shown, even empty (n = 0), in the city file's order.

        Plan goals in the order of the plan progress report: each chapter followed by
        its measures.
        """
        city = self.city
        if self.by == "ward":
            return [w.id for w in city.wards]
        if self.by == "department":
            return [d.id for d in city.departments]
        if self.by == "policy_area":
            return [a.id for a in city.policy_areas]
        if self.by == "plan_goal":
            return [g for chapter in city.plan_goals if chapter.chapter is None
                    for g in (chapter.id, *(m.id for m in city.measures_of(chapter.id)))]
        if self.by == "school_district":
            return [s.id for s in city.school_districts]
        return []

    def ordered(self, keys: Iterable[str]) -> list[str]:
        """Fiscal years and months in order; otherwise the reference entries first, then
        any other key seen (an id since removed from the city's data), sorted."""
        if self.by in _SEEN_ONLY:
            return sorted(keys)
        seen = set(keys)
        known = self.reference_keys()
        return [k for k in known if k in seen] + sorted(seen - set(known))

    def _with_chapters(self, goals: Sequence[str]) -> tuple[str, ...]:
        # A chapter counts the union of the items naming it or any of its measures:
        # an item naming two measures of one chapter is in that chapter once.
        keys: dict[str, None] = {}
        for goal_id in goals:
            keys[goal_id] = None
            goal = self.city.plan_goal(goal_id)
            if goal is not None and goal.chapter is not None:
                keys[goal.chapter] = None
        return tuple(keys)


def grouping(by: str, city: CityData, proposals: Sequence[ProposalFacts],
             needs: Sequence[NeedFacts]) -> Grouping:
    """The grouping `by`, for proposals and needs already cut at the instant asked."""
    if by not in GROUP_BYS:
        raise UnknownGrouping(f"group_by must be one of {', '.join(GROUP_BYS)}; got {by!r}")
    leads = {p.id: p.lead_department for p in proposals}
    districts = _districts_of_proposals(proposals, needs) if by == "school_district" else {}
    return Grouping(by, city, leads, districts)


def _districts_of_proposals(proposals: Sequence[ProposalFacts],
                            needs: Sequence[NeedFacts]) -> dict[str, tuple[str, ...]]:
    """Proposal → the school districts of the needs it carried at any time since its
    submission: a withdrawn or merged proposal keeps the districts it spoke for, and the
    proposal it was merged into gains those of the needs it took in."""
    submitted = {p.id: p.submitted_at for p in proposals if p.submitted_at is not None}
    found: dict[str, dict[str, None]] = {}
    for need in needs:
        carried_districts(need, submitted, found)
    return {p: tuple(d) for p, d in found.items()}


def carried_districts(need: NeedFacts, submitted: Mapping[str, datetime],
                      found: dict[str, dict[str, None]]) -> None:
    """Add the need's school district to `found` under each submitted proposal (id:
    submitted at) that carried it since its submission (see `_districts_of_proposals`)."""
    district = need.school_district
    if district is None or not need.recorded:
        return
    named = {str(f.value) for f in need.facts if f.kind == "proposal" and f.value}
    for proposal_id in named & submitted.keys():
        if proposal_id in need.carried_since(submitted[proposal_id]):
            found.setdefault(proposal_id, {})[district] = None
