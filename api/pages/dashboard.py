"""The metrics dashboard: response clocks by ward, division and month, uniformity between
wards and the backlog, each a server-drawn chart with its table and a CSV for Excel."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import queries
from api.pages import labels, session
from api.pages.charts import Bar, bar_chart, stacked_chart
from api.pages.errors import PageRoute
from api.pages.render import lang_of, names, render
from domain.backlog import BACKLOG_BUCKETS
from domain.calendar import JST
from domain.errors import InvalidCommand
from domain.metrics import UNIFORMITY_METRICS, GroupMetrics
from projections.agenda_reads import end_of_day_jst
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)

GROUPINGS = {"ward": ("区", "Ward"), "department": ("課", "Division"), "month": ("月", "Month")}
#: the columns of a grouping's table: (Japanese, English, how to read it off a group)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("提案数", "proposals", "n"),
    ("受理 中央値（開庁日）", "acknowledgement median", "acknowledgement.median"),
    ("決定 中央値（開庁日）", "decision median", "decision.median"),
    ("決定 期限内率", "decision on time", "decision.within_target"),
    ("フィードバック 中央値（開庁日）", "feedback median", "feedback.median"),
    ("採択率", "acceptance rate", "acceptance_rate"),
)
TABLES = (*GROUPINGS, "uniformity", "backlog")


def _as_of(c: Container, value: str | None) -> datetime:
    """A JST date (its end) or an instant; never after now."""
    now = c.now()
    if not value:
        return now
    try:
        instant = (end_of_day_jst(date.fromisoformat(value)) if len(value) == 10
                   else datetime.fromisoformat(value))
    except ValueError:
        raise InvalidCommand("as_of", "wrong_type", expected="date") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=JST)
    future = (instant.astimezone(JST).date() > now.astimezone(JST).date() if len(value) == 10
              else instant > now)
    if future:
        raise InvalidCommand("as_of", "future_instant", value=value)
    return min(instant, now)


def _cell(group: GroupMetrics, path: str) -> float | int | None:
    if "." in path:
        clock, figure = path.split(".")
        value: Any = getattr(group.clocks[clock], figure)
    else:
        value = getattr(group, path)
    return None if value is None else round(value, 3) if isinstance(value, float) else value


def _tables(c: Container, as_of: datetime, metric: str) -> dict[str, Any]:
    return {"ward": queries.response(c, "ward", as_of),
            "department": queries.response(c, "department", as_of),
            "month": queries.response(c, "month", as_of),
            "uniformity": queries.ward_uniformity(c, metric, as_of),
            "backlog": queries.department_backlog(c, as_of)}


def _metric(value: str | None) -> str:
    return value if value in UNIFORMITY_METRICS else "decision_median"


@router.get("/dashboard")
def dashboard(request: Request, as_of: Annotated[str | None, Query(max_length=40)] = None,
              metric: Annotated[str | None, Query(max_length=60)] = None) -> Response:
    """Every table of the dashboard with its chart, as of the chosen date."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    lang = lang_of(request)
    name = names(c.city, lang)["name"]
    instant = _as_of(c, as_of)
    chosen = _metric(metric)
    queries.fresh_views(c)
    data = _tables(c, instant, chosen)
    ja = lang == "ja"
    kinds = {"ward": "ward", "department": "department", "month": None}
    charts = {}
    for key, kind in kinds.items():
        groups = data[key].groups
        title = (f"決定までの開庁日数（中央値）— {GROUPINGS[key][0]}別" if ja else
                 f"Business days to decision (median) by {GROUPINGS[key][1].lower()}")
        charts[key] = bar_chart(key, title, [
            Bar(name(kind, g.key) if kind else g.key, g.clocks["decision"].median)
            for g in groups], "日" if ja else " d")
    uni = data["uniformity"].result
    charts["uniformity"] = bar_chart("uniformity", labels.metric_label(chosen, lang), [
        Bar(name("ward", w.place), w.value, w.flagged) for w in uni.places],
        flag_note="※ 件数5未満" if ja else "※ fewer than 5 items")
    buckets = [label for label, _, _ in BACKLOG_BUCKETS]
    charts["backlog"] = stacked_chart("未決定の案件（提出からの開庁日数）" if ja else
                                      "Undecided proposals by business days since submission",
                                      [(name("department", d.department), d.buckets)
                                       for d in data["backlog"].departments], buckets)
    return render(request, "dashboard.html", actor=actor, data=data, charts=charts,
                  columns=COLUMNS, groupings=GROUPINGS, cell=_cell, metric=chosen,
                  metrics=UNIFORMITY_METRICS, buckets=buckets, as_of=instant,
                  as_of_value=as_of or "", today=datetime.now(JST).date().isoformat())


def table_rows(c: Container, table: str, as_of: datetime, metric: str,
               lang: str) -> list[list[Any]]:
    """One table of the dashboard as rows, the header first (Japanese / English)."""
    name = names(c.city, lang)["name"]
    data = _tables(c, as_of, metric)
    if table in GROUPINGS:
        ja, en = GROUPINGS[table]
        rows: list[list[Any]] = [[f"{ja} / {en}", *(f"{j} / {e}" for j, e, _ in COLUMNS)]]
        for g in data[table].groups:
            label = name(table, g.key) if table != "month" else g.key
            rows.append([label, *(_cell(g, path) for _, _, path in COLUMNS)])
        return rows
    if table == "uniformity":
        rows = [["区 / ward", f"{labels.metric_label(metric, 'ja')} / {metric}", "件数 / n",
                 "件数5未満 / flagged"]]
        rows += [[name("ward", w.place), None if w.value is None else round(w.value, 3), w.n,
                  "※" if w.flagged else ""] for w in data["uniformity"].result.places]
        return rows
    buckets = [label for label, _, _ in BACKLOG_BUCKETS]
    rows = [["課 / division", *(f"{b} 開庁日 / business days" for b in buckets)]]
    rows += [[name("department", d.department), *(d.buckets[b] for b in buckets)]
             for d in data["backlog"].departments]
    return rows


@router.get("/dashboard/{table}.csv")
def dashboard_csv(request: Request, table: str,
                  as_of: Annotated[str | None, Query(max_length=40)] = None,
                  metric: Annotated[str | None, Query(max_length=60)] = None) -> Response:
    """One table as CSV that Excel opens as is: UTF-8 with a byte-order mark, CRLF."""
    session.require_actor(request)
    c: Container = request.app.state.container
    if table not in TABLES:
        raise InvalidCommand("table", "choice", choices=sorted(TABLES))
    instant = _as_of(c, as_of)
    queries.fresh_views(c)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table_rows(c, table, instant, _metric(metric), lang_of(request)):
        writer.writerow(["" if v is None else v for v in row])
    filename = f"tsunagi-{table}-{instant.astimezone(JST).date().isoformat()}.csv"
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
