"""The desks: a ward's needs to triage and drafts, a division's queue, and what became of
what an office or a ward heard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import queries
from api.pages import session
from api.pages.errors import PageRoute
from api.pages.forms import need_forms
from api.pages.render import render
from domain.permissions import Role
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: the desk's forms for each need waiting for the ward
DESK_ACTIONS = ("triage", "resolve-locally", "decline", "merge")


@router.get("/desk/{ward}")
def ward_desk(request: Request, ward: str) -> Response:
    """Needs to triage (with their forms), triaged needs to draft from, and drafts."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    queries.fresh_views(c)
    desk = queries.ward_desk(c, ward)
    targets = [(str(n.id), n.title) for n in desk.to_triage + desk.triaged]
    allowed = {}
    for need in desk.to_triage:
        forms = need_forms(c.city, [t for t in targets if t[0] != str(need.id)])
        allowed[str(need.id)] = [forms[a] for a in queries.actions_for(actor, need)
                                 if a in DESK_ACTIONS]
    return render(request, "desk.html", actor=actor, desk=desk, allowed=allowed,
                  can_draft=actor.is_ward(ward) or actor.role == Role.ADMIN)


#: items per page of a division's queue
QUEUE_PAGE = 50


@router.get("/queue/{department}")
def department_queue(request: Request, department: str,
                     cursor: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """A page of the division's queue, nearest due date first, each with its clock; the
    next page from the cursor the "next" link carries."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    queries.fresh_views(c)
    return render(request, "queue.html", actor=actor, paged=cursor is not None,
                  queue=queries.department_queue(c, department, QUEUE_PAGE, cursor))


def _feedback(request: Request, column: str, value: str, status: str | None,
              answered: str | None) -> Response:
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    queries.fresh_views(c)
    page = queries.feedback_page(c, column, value, limit=200)
    items = [i for i in page.items if (not status or i.need.status == status)
             and (answered not in ("yes", "no")
                  or (i.latest_feedback is not None) == (answered == "yes"))]
    histories = {str(i.need.id): c.app.history(i.need.id) for i in items}
    statuses = sorted({i.need.status for i in page.items})
    return render(request, "feedback.html", actor=actor, page=page, items=items,
                  histories=histories, statuses=statuses, chosen=status or "",
                  answered=answered or "")


@router.get("/feedback/office/{office}")
def office_feedback(request: Request, office: str,
                    status: Annotated[str | None, Query(max_length=40)] = None,
                    answered: Annotated[str | None, Query(max_length=3)] = None) -> Response:
    """What became of each need recorded at the office."""
    return _feedback(request, "office", office, status, answered)


@router.get("/feedback/ward/{ward}")
def ward_feedback(request: Request, ward: str,
                  status: Annotated[str | None, Query(max_length=40)] = None,
                  answered: Annotated[str | None, Query(max_length=3)] = None) -> Response:
    """What became of each need recorded in the ward."""
    return _feedback(request, "ward", ward, status, answered)
