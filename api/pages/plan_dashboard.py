"""Dashboard pages of issue 11: the plan progress report and needs per school district,
each a server-drawn chart beside its table, with a CSV for Excel."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import queries
from api.pages import session
from api.pages.charts import Bar, bar_chart
from api.pages.dashboard import _as_of
from api.pages.errors import PageRoute
from api.pages.render import lang_of, names, render
from api.plan_metrics import check_period, default_period, plan_progress_csv
from domain.calendar import JST
from domain.errors import InvalidCommand
from domain.plan_progress import fiscal_year_of_day
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=40)]


def _fiscal_year(c: Container, value: str | None, as_of: datetime) -> int:
    """The chosen fiscal year, or that of the instant shown."""
    if not value:
        return fiscal_year_of_day(as_of.astimezone(JST).date())
    if not value.isdigit() or not 2000 <= int(value) <= 2098:
        raise InvalidCommand("fiscal_year", "out_of_range", min=2000, max=2098)
    return int(value)


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidCommand(field, "wrong_type", expected="date") from None


def _short(goal: str, name: str, ja: bool) -> str:
    """A chart label that fits beside the bars: the id and the name's beginning."""
    limit = 7 if ja else 14
    return f"{goal} {name[:limit]}…" if len(name) > limit else f"{goal} {name}"


def _note(note: str | None, ja: bool) -> str | None:
    """The half of a "Japanese / English" note in the page's language."""
    if note is None or " / " not in note:
        return note
    ja_part, en_part = note.split(" / ", 1)
    return ja_part if ja else en_part


@router.get("/dashboard/plan-progress")
def plan_progress_page(request: Request, fiscal_year: Text = None,
                       as_of: Text = None) -> Response:
    """Per chapter and measure: needs heard, proposals and outcomes, indicators."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    lang = lang_of(request)
    instant = _as_of(c, as_of)
    fy = _fiscal_year(c, fiscal_year, instant)
    queries.fresh_views(c)
    report = queries.plan_progress_report(c, fy, instant)
    name = names(c.city, lang)["name"]
    ja = lang == "ja"
    chart = bar_chart("plan", f"{fy}年度 施策別の把握ニーズ数" if ja
                      else f"Needs heard per measure, fiscal year {fy}",
                      [Bar(_short(r.goal, name("plan_goal", r.goal), ja), r.needs_heard,
                           r.needs_heard == 0) for r in report.rows if r.chapter is not None],
                      "件" if ja else "", "※ ニーズなし" if ja else "※ no need heard")
    return render(request, "plan_progress.html", actor=actor, report=report, chart=chart,
                  fy=fy, as_of=instant, as_of_value=as_of or "",
                  indicator=c.city.indicator, today=datetime.now(JST).date().isoformat())


@router.get("/dashboard/plan-progress/report.csv")
def plan_progress_csv_page(request: Request, fiscal_year: Text = None,
                           as_of: Text = None) -> Response:
    """The report as CSV that Excel opens as is (UTF-8 with a BOM)."""
    session.require_actor(request)
    c: Container = request.app.state.container
    instant = _as_of(c, as_of)
    fy = _fiscal_year(c, fiscal_year, instant)
    queries.fresh_views(c)
    body = plan_progress_csv(c, queries.plan_progress_report(c, fy, instant))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="tsunagi-plan-progress-{fy}.csv"'})


def _district_rows(c: Container, since: date, until: date, ward: str | None,
                   lang: str) -> tuple[Any, list[list[Any]]]:
    voices = queries.needs_by_school_district(c, since, until, ward)
    name = names(c.city, lang)["name"]
    rows: list[list[Any]] = [["校区 / school district", "区 / ward", "ニーズ / needs",
                              "人口 / residents", "千人あたり / per 1,000", "声なし / silent"]]
    rows += [[name("school_district", r.school_district), name("ward", r.ward), r.needs,
              r.residents, None if r.per_1000 is None else round(r.per_1000, 3),
              "※" if r.silent else ""] for r in voices.rows]
    return voices, rows


@router.get("/dashboard/school-districts")
def school_districts_page(request: Request, since: Text = None, until: Text = None,
                          ward: Text = None) -> Response:
    """Needs per school district over a period, per 1,000 residents where known."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    lang = lang_of(request)
    first, last = default_period(c)
    start, end = _day(since, "since") or first, _day(until, "until") or last
    check_period(start, end)
    chosen = ward or None
    queries.fresh_views(c)
    voices, _ = _district_rows(c, start, end, chosen, lang)
    name = names(c.city, lang)["name"]
    ja = lang == "ja"
    chart = bar_chart("districts", "校区別 住民千人あたりのニーズ数" if ja
                      else "Needs per 1,000 residents by school district",
                      [Bar(name("school_district", r.school_district), r.per_1000, r.silent)
                       for r in voices.rows], "",
                      "※ この期間にニーズなし" if ja else "※ no need heard in the period")
    return render(request, "school_districts.html", actor=actor, voices=voices, chart=chart,
                  note=_note(voices.residents_note, ja),
                  since=start.isoformat(), until=end.isoformat(), ward=chosen or "",
                  wards=c.city.wards, today=datetime.now(JST).date().isoformat())


@router.get("/dashboard/school-districts/report.csv")
def school_districts_csv(request: Request, since: Text = None, until: Text = None,
                         ward: Text = None) -> Response:
    """The table as CSV that Excel opens as is (UTF-8 with a BOM)."""
    session.require_actor(request)
    c: Container = request.app.state.container
    first, last = default_period(c)
    start, end = _day(since, "since") or first, _day(until, "until") or last
    check_period(start, end)
    queries.fresh_views(c)
    _, rows = _district_rows(c, start, end, ward or None, lang_of(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename='
                             f'"tsunagi-school-districts-{start}-{end}.csv"'})
