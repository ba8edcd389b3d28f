"""The plan progress report (総合計画の進捗): what the wards' voices reached, goal by goal.

For one fiscal year and as of an instant, per chapter and measure of the comprehensive
plan: needs heard, proposals made and what became of them, and each declared
indicator's latest value against the previous fiscal year. A need or proposal counts
under each of its goals; a chapter counts the union of its measures' items (and of
items filed under the chapter itself), each item once. Definitions: docs/metrics.md §8.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import date_jst
from domain.facts import NeedFacts, ProposalFacts
from domain.indicators import Direction, Indicator, Scope
from domain.reference import CityData, PlanGoal


@dataclass(frozen=True)
class NeedItem:
    """A need's facts as of the instant, and its plan goals."""

    facts: NeedFacts
    goals: tuple[str, ...]


@dataclass(frozen=True)
class ProposalItem:
    """A proposal's facts as of the instant, its plan goals and its budgeted amount."""

    facts: ProposalFacts
    goals: tuple[str, ...]
    budgeted_jpy: int | None = None


#: indicator → fiscal year → the latest value of each place, as known at the instant
IndicatorValues = Mapping[str, Mapping[int, list[float]]]


@dataclass(frozen=True)
class IndicatorProgress:
    """An indicator's value for the fiscal year against the year before."""

    indicator: str
    unit: str
    direction: Direction
    scope: Scope
    value: float | None
    previous: float | None
    places: int  # how many wards or districts the value averages (1 city-wide)
    change: float | None
    better: bool | None  # moved the way the direction says; None when unchanged or unknown


@dataclass(frozen=True)
class GoalProgress:
    """One row of the report: a chapter or a measure."""

    goal: str
    chapter: str | None  # None for a chapter row
    needs_heard: int
    proposals_made: int
    accepted: int
    budgeted: int
    budgeted_jpy: int
    completed: int
    final: int
    feedback_closure_rate: float | None
    evaluations: int
    mean_satisfaction: float | None
    indicators: tuple[IndicatorProgress, ...]


@dataclass(frozen=True)
class PlanProgress:
    """The whole report: chapters in file order, each followed by its measures."""

    fiscal_year: int
    as_of: datetime
    rows: tuple[GoalProgress, ...]


def fiscal_year_of_day(day: date) -> int:
    """The fiscal year (1 April – 31 March) of a date."""
    return day.year if day.month >= 4 else day.year - 1


def plan_progress(city: CityData, fiscal_year: int, as_of: datetime,
                  needs: Iterable[NeedItem], proposals: Iterable[ProposalItem],
                  values: IndicatorValues) -> PlanProgress:
    """The report; `needs` and `proposals` hold facts already cut at `as_of`."""
    heard = [n for n in needs if n.facts.recorded
             and fiscal_year_of_day(n.facts.observed_on) == fiscal_year]
    made = [p for p in proposals if p.facts.submitted_at is not None
            and fiscal_year_of_day(date_jst(p.facts.submitted_at)) == fiscal_year]
    rows = []
    for goal in city.plan_goals:
        covered = _covered(city, goal)
        rows.append(_row(goal, [n for n in heard if covered & set(n.goals)],
                         [p for p in made if covered & set(p.goals)],
                         _indicators(city, covered, fiscal_year, values)))
    return PlanProgress(fiscal_year, as_of, tuple(_in_report_order(city, rows)))


def _covered(city: CityData, goal: PlanGoal) -> set[str]:
    """The goal ids whose items a row counts: a measure itself, a chapter and its measures."""
    if goal.chapter is not None:
        return {goal.id}
    return {goal.id, *(m.id for m in city.measures_of(goal.id))}


def _row(goal: PlanGoal, needs: list[NeedItem], proposals: list[ProposalItem],
         indicators: tuple[IndicatorProgress, ...]) -> GoalProgress:
    # Each list holds an item once even when it names several covered goals.
    ever = [{f.value for f in p.facts.facts if f.kind == "status"} for p in proposals]
    budgeted = [p for p, seen in zip(proposals, ever, strict=True) if "budgeted" in seen]
    final = [p for p in proposals if p.facts.final_at is not None]
    scores = [s for p in proposals for s in p.facts.satisfaction]
    return GoalProgress(
        goal=goal.id, chapter=goal.chapter, needs_heard=len(needs),
        proposals_made=len(proposals),
        accepted=sum(1 for p in proposals if p.facts.decision == "accepted"),
        budgeted=len(budgeted),
        budgeted_jpy=sum(p.budgeted_jpy or 0 for p in budgeted),
        completed=sum(1 for seen in ever if "completed" in seen),
        final=len(final),
        feedback_closure_rate=(sum(1 for p in final if p.facts.feedback_after_final)
                               / len(final)) if final else None,
        evaluations=len(scores),
        mean_satisfaction=sum(scores) / len(scores) if scores else None,
        indicators=indicators,
    )


def _indicators(city: CityData, covered: set[str], fiscal_year: int,
                values: IndicatorValues) -> tuple[IndicatorProgress, ...]:
    return tuple(_progress(i, fiscal_year, values.get(i.id, {})) for i in city.indicators
                 if covered & set(i.plan_goals))


def _progress(indicator: Indicator, fiscal_year: int,
              by_year: Mapping[int, list[float]]) -> IndicatorProgress:
    now, before = by_year.get(fiscal_year, []), by_year.get(fiscal_year - 1, [])
    value = sum(now) / len(now) if now else None
    previous = sum(before) / len(before) if before else None
    change = value - previous if value is not None and previous is not None else None
    better = None
    if change:
        better = (change > 0) == (indicator.direction == Direction.HIGHER)
    return IndicatorProgress(indicator.id, indicator.unit.value, indicator.direction,
                             indicator.scope, value, previous, len(now), change, better)


def _in_report_order(city: CityData, rows: list[GoalProgress]) -> list[GoalProgress]:
    """Each chapter followed by its measures (the file lists chapters first in any order)."""
    by_goal = {r.goal: r for r in rows}
    ordered: list[GoalProgress] = []
    for goal in city.plan_goals:
        if goal.chapter is None:
            ordered.append(by_goal[goal.id])
            ordered.extend(by_goal[m.id] for m in city.measures_of(goal.id))
    return ordered
