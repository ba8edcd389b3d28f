"""The ward mayors' meeting agenda as a printable page (A4, a print stylesheet)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import queries
from api.pages import session
from api.pages.errors import PageRoute
from api.pages.render import lang_of, render
from domain.calendar import JST
from domain.errors import InvalidCommand
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: a period longer than this is refused: a meeting reads weeks, not decades
MAX_DAYS = 366


def _day(value: str | None, default: date, name: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidCommand(name, "wrong_type", expected="date") from None


@router.get("/agenda")
def agenda(request: Request, since: Annotated[str | None, Query(max_length=10)] = None,
           until: Annotated[str | None, Query(max_length=10)] = None,
           ward: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The period's decisions, budget outcomes and feedback; what is overdue or awaits a
    ward at its end; needs shared across wards. Defaults to this month so far."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    today = datetime.now(JST).date()
    start = _day(since, today.replace(day=1), "since")
    end = _day(until, today, "until")
    if start > end or (end - start).days > MAX_DAYS:
        raise InvalidCommand("since", "period_too_long" if start <= end else "range_reversed",
                             start=start.isoformat(), end=end.isoformat(), days=MAX_DAYS)
    queries.fresh_views(c)
    chosen = ward or None
    result = queries.meeting_agenda(c, start, end, chosen)
    return render(request, "agenda.html", actor=actor, agenda=result, ward=chosen or "",
                  printed=datetime.now(JST), ja=lang_of(request) == "ja")
