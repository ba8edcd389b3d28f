"""`/api/v1/metrics/plan-progress` and `/metrics/needs-by-school-district` (issue 11).

The plan progress report and needs per school district, from `api/queries.py`;
definitions in docs/metrics.md §8–9. The CSV for Excel is built here too, for the
command line and the dashboard alike.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import queries
from api.deps import ActorDep, ContainerDep, FreshView
from api.metrics import AsOf, resolve_as_of
from api.render import shown
from api.schemas import QueryDate, problem_responses
from domain import values as limits
from domain.calendar import date_jst
from domain.errors import InvalidCommand
from domain.plan_progress import PlanProgress, fiscal_year_of_day
from wiring.bootstrap import Container

#: the views the plan reports read
PLAN_VIEWS = FreshView("clock_facts", "needs_index", "proposals_index")

router = APIRouter(prefix="/metrics", tags=["metrics"])

FiscalYear = Annotated[int, Query(ge=limits.FIRST_YEAR, le=limits.LAST_YEAR - 1,
                                  description="年度 (1 April – 31 March), e.g. 2026")]
#: the longest period needs per school district may span (about two years)
PERIOD_MAX_DAYS = 800


def plan_progress_payload(c: Container, fiscal_year: int, report: PlanProgress) -> dict[str, Any]:
    """The report as JSON, each goal with its names."""
    rows = []
    for row in report.rows:
        goal = c.city.plan_goal(row.goal)
        out = asdict(row)
        out["name_ja"], out["name_en"] = (goal.name_ja, goal.name_en) if goal else ("", "")
        rows.append(out)
    return {"fiscal_year": fiscal_year, "as_of": shown(report.as_of), "rows": rows}


@router.get("/plan-progress", dependencies=[PLAN_VIEWS],
            responses=problem_responses(401, 422, 503))
def plan_progress(c: ContainerDep, _: ActorDep, fiscal_year: FiscalYear,
                  as_of: AsOf = None) -> dict[str, Any]:
    """Per chapter and measure of the plan: needs, proposals, outcomes and indicators."""
    instant = resolve_as_of(c, as_of)
    return plan_progress_payload(c, fiscal_year,
                                 queries.plan_progress_report(c, fiscal_year, instant))


def default_period(c: Container) -> tuple[date, date]:
    """The current fiscal year up to today."""
    today = date_jst(c.now())
    return date(fiscal_year_of_day(today), 4, 1), today


def check_period(since: date, until: date) -> None:
    """`since` not after `until`, and a span the report can draw."""
    if since > until:
        raise InvalidCommand("since", "range_reversed", start=since.isoformat(),
                             end=until.isoformat())
    if until - since > timedelta(days=PERIOD_MAX_DAYS):
        raise InvalidCommand("until", "period_too_long", days=PERIOD_MAX_DAYS)


@router.get("/needs-by-school-district", dependencies=[PLAN_VIEWS],
            responses=problem_responses(401, 422, 503))
def needs_by_school_district(c: ContainerDep, _: ActorDep, since: QueryDate | None = None,
                             until: QueryDate | None = None,
                             ward: str | None = None) -> dict[str, Any]:
    """Needs observed in the period per school district, per 1,000 residents where known."""
    first, last = default_period(c)
    since, until = since or first, until or last
    check_period(since, until)
    result = queries.needs_by_school_district(c, since, until, ward)
    return {"since": since.isoformat(), "until": until.isoformat(), "ward": ward,
            "residents_note": result.residents_note,
            "without_district": result.without_district,
            "rows": [asdict(r) for r in result.rows]}


# ── CSV for Excel ─────────────────────────────────────────────────────────

PLAN_COLUMNS = [
    ("goal", "施策 goal"), ("name", "名称 name"), ("needs_heard", "把握ニーズ needs heard"),
    ("proposals_made", "提案 proposals made"), ("accepted", "採択 accepted"),
    ("budgeted", "予算化 budgeted"), ("budgeted_jpy", "予算額（円） budgeted (yen)"),
    ("completed", "完了 completed"),
    ("feedback_closure_rate", "回答完了率 feedback closure"),
    ("mean_satisfaction", "満足度 mean satisfaction"),
    ("indicators", "指標（今年度/前年度） indicators (this year/previous)"),
]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def plan_progress_csv(c: Container, report: PlanProgress) -> bytes:
    """The report as CSV in UTF-8 with a BOM, so that Excel opens the Japanese as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in PLAN_COLUMNS])
    for row in report.rows:
        goal = c.city.plan_goal(row.goal)
        name = goal.name_ja if goal else row.goal
        indicators = "; ".join(
            f"{i.indicator}={_number(i.value)}/{_number(i.previous)}"
            f"{'' if i.better is None else ' 改善' if i.better else ' 悪化'}"
            for i in row.indicators)
        writer.writerow([row.goal, name if row.chapter is None else f"　{name}",
                         row.needs_heard, row.proposals_made, row.accepted, row.budgeted,
                         row.budgeted_jpy, row.completed, _number(row.feedback_closure_rate),
                         _number(row.mean_satisfaction), indicators])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def plan_progress_report_csv(c: Container, fiscal_year: int, as_of: datetime | None) -> bytes:
    """`tsunagi metrics plan-report`: brings the views up to date, then renders the CSV."""
    if not limits.FIRST_YEAR <= fiscal_year < limits.LAST_YEAR:
        raise ValueError(f"--fiscal-year must lie from {limits.FIRST_YEAR} to"
                         f" {limits.LAST_YEAR - 1}")
    instant = as_of or c.now()
    if instant > c.now():
        raise ValueError("--as-of は未来の時刻にできません (must not be in the future)")
    c.follower.catch_up()
    return plan_progress_csv(c, queries.plan_progress_report(c, fiscal_year, instant))
