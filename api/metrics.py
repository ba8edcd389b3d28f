"""`/api/v1/metrics/…` and `GET /metrics`: response metrics, uniformity, backlog, Prometheus.

Every figure is computed by `domain.metrics` from the clock-facts view, as of an
instant (`as_of`, default now): the facts dated after it are left out (time travel).
The report rendering for `tsunagi metrics report` lives here too, beside the JSON shape.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from pydantic import BaseModel

from api import queries
from api.deps import ActorDep, ContainerDep, FreshView
from api.render import shown
from api.schemas import QueryDate, QueryInstant, problem_responses
from consumers.metrics import add_feed_metrics
from domain.errors import InvalidCommand
from domain.groupings import GROUP_BYS
from domain.metrics import METRIC_CLOCKS, end_to_end_clock, proposal_clocks
from domain.states import OPEN
from projections.summary_reads import PrometheusFigures
from wiring.bootstrap import Container

router = APIRouter(prefix="/metrics", tags=["metrics"])
operations = APIRouter(tags=["operations"])

GroupBy = Literal["ward", "department", "policy_area", "fiscal_year", "month", "plan_goal",
                  "school_district"]
Between = Literal["ward", "school_district"]
MetricName = Literal[
    "acknowledgement_median", "acknowledgement_p90", "acknowledgement_within_target",
    "decision_median", "decision_p90", "decision_within_target",
    "feedback_median", "feedback_p90", "feedback_within_target",
    "end_to_end_median", "end_to_end_p90", "end_to_end_within_target",
    "acceptance_rate", "feedback_closure_rate", "transfers_per_proposal", "mean_satisfaction",
]
#: the metrics read the summaries for now and the facts for a past instant: wait for both
METRIC_VIEWS = FreshView("clock_facts", "clock_summaries")
AsOf = Annotated[QueryInstant | None, Query(
    description="答える時点 (the instant to answer as of; not in the future; default now)."
                " Encode `+` as `%2B` or use `Z`.")]


# ── schemas ───────────────────────────────────────────────────────────────


class ClockOut(BaseModel):
    """One clock over a group: business days of the stopped clocks, and the share on time."""

    n: int
    median: float | None
    p90: float | None
    within_target: float | None


class GroupOut(BaseModel):
    """The response metrics of one group."""

    key: str
    n: int
    counts: dict[str, int]
    clocks: dict[str, ClockOut]
    acceptance_rate: float | None
    feedback_closure_rate: float | None
    transfers_per_proposal: float | None
    mean_satisfaction: float | None


class ResponseMetricsOut(BaseModel):
    """Response metrics per group, as of an instant."""

    group_by: str
    as_of: datetime
    groups: list[GroupOut]


class WardValueOut(BaseModel):
    """A ward's value of the metric and the items behind it (`n < 5`: flagged)."""

    ward: str
    value: float | None
    n: int
    flagged: bool


class DistrictValueOut(BaseModel):
    """A school district's value of the metric and the items behind it (`n < 5`: flagged)."""

    school_district: str
    value: float | None
    n: int
    flagged: bool


class UniformityOut(BaseModel):
    """How evenly the wards, or the school districts of one ward, fare on one metric.

    Between school districts, `wards` holds the ward itself (all its items, for
    comparison; not part of the figures) and `school_districts` the places compared.
    """

    metric: str
    as_of: datetime
    wards: list[WardValueOut]
    coefficient_of_variation: float | None
    max_min_ratio: float | None
    between: Between = "ward"
    ward: str | None = None
    school_districts: list[DistrictValueOut] | None = None


class BacklogDepartmentOut(BaseModel):
    """A division's undecided proposals by business days since submission."""

    department: str
    buckets: dict[str, int]


class BacklogOut(BaseModel):
    """Undecided proposals by lead division, as of an instant."""

    as_of: datetime
    departments: list[BacklogDepartmentOut]


# ── helpers ───────────────────────────────────────────────────────────────


def resolve_as_of(c: Container, as_of: datetime | None) -> datetime:
    """`as_of`, or now; an instant in the future is refused (nothing is known of it yet)."""
    now = c.now()
    if as_of is None:
        return now
    if as_of > now:
        raise InvalidCommand("as_of", "future_instant", value=shown(as_of).isoformat())
    return as_of


def response_payload(c: Container, group_by: str, as_of: datetime,
                     date_from: date | None = None, date_to: date | None = None
                     ) -> dict[str, Any]:
    """The body of `GET /metrics/response` (also the CLI's JSON)."""
    result = queries.response(c, group_by, as_of, date_from, date_to)
    return {"group_by": group_by, "as_of": shown(result.as_of),
            "groups": [g.as_dict() for g in result.groups]}


# ── endpoints ─────────────────────────────────────────────────────────────


@router.get("/response", response_model=ResponseMetricsOut, dependencies=[METRIC_VIEWS],
            responses=problem_responses(401, 422, 503))
def response(c: ContainerDep, _: ActorDep, group_by: GroupBy, as_of: AsOf = None,
             date_from: Annotated[QueryDate | None, Query(
                 alias="from", description="提出日/把握日の下限 (JST date, inclusive)")] = None,
             date_to: Annotated[QueryDate | None, Query(
                 alias="to", description="提出日/把握日の上限 (JST date, inclusive)")] = None,
             ) -> dict[str, Any]:
    """Counts, clocks and rates per ward, division, policy area, fiscal year, month, plan goal
    (chapters the union of their measures) or school district."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidCommand("from", "range_reversed", start=date_from.isoformat(),
                             end=date_to.isoformat())
    return response_payload(c, group_by, resolve_as_of(c, as_of), date_from, date_to)


@router.get("/uniformity", response_model=UniformityOut, dependencies=[METRIC_VIEWS],
            responses=problem_responses(401, 422, 503))
def uniformity_between_places(
    c: ContainerDep, _: ActorDep, metric: MetricName, as_of: AsOf = None,
    between: Annotated[Between, Query(
        description="比べる単位 (compare the wards, or the school districts of one ward)")
    ] = "ward",
    ward: Annotated[str | None, Query(
        max_length=100, description="校区を比べる区 (the ward whose school districts are"
                                    " compared; only with between=school_district)")] = None,
) -> dict[str, Any]:
    """Coefficient of variation and max/min ratio of a metric over the wards, or over the
    school districts of one ward."""
    if between == "ward":
        if ward is not None:
            raise InvalidCommand("ward", "ward_only_for_districts")
        report = queries.ward_uniformity(c, metric, resolve_as_of(c, as_of))
    elif ward is None:
        raise InvalidCommand("ward", "districts_need_ward")
    else:
        report = queries.district_uniformity(c, metric, ward, resolve_as_of(c, as_of))
    result = report.result
    districts: list[dict[str, Any]] | None = None
    if between == "ward":
        wards = [w.as_dict() for w in result.places]
    else:  # the ward itself, for comparison; its districts are the places compared
        wards = [report.ward_figure.as_dict()] if report.ward_figure is not None else []
        districts = [d.as_dict("school_district") for d in result.places]
    return {"metric": metric, "as_of": shown(report.as_of), "wards": wards,
            "coefficient_of_variation": result.coefficient_of_variation,
            "max_min_ratio": result.max_min_ratio, "between": between, "ward": report.ward,
            "school_districts": districts}


@router.get("/backlog", response_model=BacklogOut, dependencies=[METRIC_VIEWS],
            responses=problem_responses(401, 422, 503))
def backlog_by_department(c: ContainerDep, _: ActorDep, as_of: AsOf = None) -> dict[str, Any]:
    """Undecided proposals by lead division and business days since submission."""
    result = queries.department_backlog(c, resolve_as_of(c, as_of))
    return {"as_of": shown(result.as_of),
            "departments": [{"department": b.department, "buckets": b.buckets}
                            for b in result.departments]}


#: histogram buckets of clock business days (the targets 5, 10, 30, 45, 60, 90 among them)
DAY_BUCKETS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, float("inf"))


@operations.get("/metrics", response_class=Response, dependencies=[METRIC_VIEWS],
                responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                 "description": "Prometheus text format"},
                           **problem_responses(401, 503)})
def prometheus_metrics(c: ContainerDep, _: ActorDep) -> Response:
    """Prometheus text format for operators (a bearer token is needed, as everywhere)."""
    now = c.now()
    memo = c.clock_summaries.memo if c.clock_summaries.answers(now) else c.clock_facts.memo
    clocks = memo(("prometheus",), now, lambda: _clock_metrics(c, now))
    registry = CollectorRegistry()  # fresh per request: positions are as of now
    lag = Gauge("tsunagi_projection_lag_events", "Log position minus the view's position",
                ["view"], registry=registry)
    log_position = Gauge("tsunagi_log_position", "Position of the newest event in the log",
                         registry=registry)
    head = c.app.position()
    log_position.set(head)
    for view in c.views:  # through the feed: a Kafka-fed view tracks offsets, not a position
        lag.labels(view=view.name).set(head - c.view_feed.position(view.name))
    add_feed_metrics(registry, c.view_feed)  # stopped views, failures, relay/consumer lag
    return Response(clocks + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _clock_series(registry: CollectorRegistry) -> tuple[Gauge, Gauge, Histogram]:
    """The clock figures' series: open proposals, overdue clocks, stopped clocks' days."""
    open_ = Gauge("tsunagi_proposals_open", "Open proposals by lead division and status",
                  ["department", "status"], registry=registry)
    overdue = Gauge("tsunagi_clocks_overdue",
                    "Running clocks whose due date has ended, by lead division and clock",
                    ["department", "clock"], registry=registry)
    days = Histogram("tsunagi_clock_business_days",
                     "Business days of stopped clocks (cancelled clocks left out)", ["clock"],
                     buckets=DAY_BUCKETS, registry=registry)
    for clock in METRIC_CLOCKS:
        days.labels(clock=clock)  # every series present, even with no observation
    return open_, overdue, days


def _clock_metrics(c: Container, now: datetime) -> bytes:
    """The figures computed from every fact, in Prometheus text format: from the clock
    summaries when they answer for `now` (they do once the follower has caught up)."""
    if c.clock_summaries.answers(now):
        return summary_clock_metrics(c.clock_summaries.prometheus(now))
    return fact_clock_metrics(c, now)


def fact_clock_metrics(c: Container, now: datetime) -> bytes:
    """The clock figures from every fact dated up to `now`, read one subject at a time."""
    registry = CollectorRegistry()
    proposals, needs = queries.load_facts(c, now)
    open_, overdue, days = _clock_series(registry)
    leads: dict[str, str] = {}
    for p in proposals:
        leads[p.id] = p.lead_department
        if p.status in OPEN:
            open_.labels(department=p.lead_department, status=p.status).inc()
        for name, reading in proposal_clocks(p, c.city, c.calendar, now).items():
            _observe(reading.state, reading.business_days, reading.late, p.lead_department,
                     name, overdue, days)
    for need in needs:
        if not need.recorded:
            continue
        lead = leads.get(need.proposal) if need.proposal is not None else None
        reading = end_to_end_clock(need, lead, c.city, c.calendar, now)
        _observe(reading.state, reading.business_days, reading.late, lead or "none",
                 "end_to_end", overdue, days)
    return generate_latest(registry)


def summary_clock_metrics(figures: PrometheusFigures) -> bytes:
    """The clock figures from the summaries, with the series of `_clock_metrics`."""
    registry = CollectorRegistry()
    open_, overdue, days = _clock_series(registry)
    for department, status, n in figures.open:
        open_.labels(department=department, status=status).inc(n)
    for department, clock, n in figures.overdue:
        overdue.labels(department=department, clock=clock).inc(n)
    for clock, counts in figures.stopped.items():
        child = days.labels(clock=clock)
        for business_days, n in counts:
            for _ in range(n):
                child.observe(business_days)
    return generate_latest(registry)


def _observe(state: str, business_days: int | None, late: bool | None, department: str,
             clock: str, overdue: Gauge, days: Histogram) -> None:
    if state == "stopped" and business_days is not None:
        days.labels(clock=clock).observe(business_days)
    elif state in ("running", "paused") and late:
        overdue.labels(department=department, clock=clock).inc()


# ── the command-line report ───────────────────────────────────────────────

#: report clocks: (Japanese, English, clock)
_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("受付", "ack", "acknowledgement"), ("決定", "decision", "decision"),
    ("回答", "feedback", "feedback"), ("全体", "end to end", "end_to_end"))
_GROUP_JA = {"ward": "区", "department": "課", "policy_area": "施策分野",
             "fiscal_year": "年度", "month": "月", "plan_goal": "施策", "school_district": "校区"}
#: decimal places people read each kind of figure in (None: as it is)
_PLACES: dict[str, int | None] = {"key": None, "count": None, "days": 1, "share": 3,
                                  "ratio": 2}


def _columns(group_by: str, clocks: Sequence[str]) -> list[tuple[str, str, str]]:
    """(Japanese, English, kind) per column, for the chosen clocks in their usual order."""
    cols = [(_GROUP_JA[group_by], group_by, "key"), ("提案数", "proposals", "count")]
    for ja, en, clock in _FIGURES:
        if clock in clocks:
            cols += [(f"{ja}件数", f"{en} n", "count"), (f"{ja}中央値", f"{en} median", "days"),
                     (f"{ja}90%", f"{en} p90", "days"),
                     (f"{ja}期限内率", f"{en} on time", "share")]
    cols += [("採択率", "acceptance", "share"), ("回答完了率", "feedback closure", "share"),
             ("移管/件", "transfers/proposal", "ratio"), ("満足度", "satisfaction", "ratio")]
    return cols


def _row(group: dict[str, Any], clocks: Sequence[str]) -> list[Any]:
    row: list[Any] = [group["key"], group["n"]]
    for _, _, clock in _FIGURES:
        if clock in clocks:
            c = group["clocks"][clock]
            row += [c["n"], c["median"], c["p90"], c["within_target"]]
    row += [group["acceptance_rate"], group["feedback_closure_rate"],
            group["transfers_per_proposal"], group["mean_satisfaction"]]
    return row


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any, kind: str) -> str:
    """A figure as people read it: days to one decimal, shares to three places."""
    places = _PLACES[kind]
    if value is None:
        return "-"
    if places is None or isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.{places}f}"


def render_report(payload: dict[str, Any], fmt: str,
                  clocks: Sequence[str] = METRIC_CLOCKS) -> bytes:
    """The response metrics as a table (Japanese and English headers), CSV or JSON.

    The table and the CSV show the chosen clocks, rounded for people (business days to one
    decimal, shares to three places); CSV is UTF-8 with a byte-order mark, for Excel, and
    carries the counts per status too. JSON is the API's payload, all clocks.
    """
    group_by = payload["group_by"]
    if fmt == "json":
        return (json.dumps(payload, ensure_ascii=False, indent=2,
                           default=lambda v: v.isoformat()) + "\n").encode()
    columns = _columns(group_by, clocks)
    cells = [[_cell(v, kind) for v, (_, _, kind) in zip(_row(g, clocks), columns, strict=True)]
             for g in payload["groups"]]
    if fmt == "csv":
        statuses = list(payload["groups"][0]["counts"]) if payload["groups"] else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([f"{ja} / {en}" for ja, en, _ in columns] + statuses)
        for group, row in zip(payload["groups"], cells, strict=True):
            writer.writerow(["" if v == "-" else v for v in row]
                            + [group["counts"][s] for s in statuses])
        return out.getvalue().encode("utf-8-sig")
    header = [[ja for ja, _, _ in columns], [en for _, en, _ in columns]]
    widths = [max(_width(r[i]) for r in [*header, *cells]) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        parts = [v + " " * (w - _width(v)) if i == 0 else " " * (w - _width(v)) + v
                 for i, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "  ".join(parts).rstrip()

    when = payload["as_of"]
    title = (f"応答指標 / response metrics — {group_by}, as of"
             f" {when.isoformat() if isinstance(when, datetime) else when}")
    lines = [title, line(header[0]), line(header[1]),
             "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells]
    lines.append("業務日数・率 / business days and shares; - = 該当なし (undefined)")
    return ("\n".join(lines) + "\n").encode()


def report(c: Container, group_by: str, as_of: datetime | None, fmt: str,
           clocks: Sequence[str] = METRIC_CLOCKS) -> bytes:
    """`tsunagi metrics report`: brings the views up to date, then renders the metrics."""
    if group_by not in GROUP_BYS:
        raise ValueError(f"--group-by must be one of {', '.join(GROUP_BYS)}")
    instant = as_of or c.now()
    if instant > c.now():
        raise ValueError("--as-of は未来の時刻にできません (must not be in the future)")
    c.follower.catch_up()
    return render_report(response_payload(c, group_by, instant), fmt, clocks)
