"""Needs on pages: `/needs/new` to record one, `/needs/{id}` with its timeline and actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api import queries
from api.pages import commands, session
from api.pages.errors import (
    PageRoute,
    error_message,
    field_errors,
    post_action,
    status_of,
    unknown_action,
)
from api.pages.forms import need_forms
from api.pages.render import lang_of, render
from domain.calendar import JST
from domain.errors import DomainError, NotPermitted
from domain.permissions import NEED_RULES, Actor, Role
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _choices(c: Container, actor: Actor, ward: str) -> dict[str, Any]:
    """What the form offers: only the actor's own ward's offices and school districts."""
    offices = [c.city.office(actor.office)] if actor.office else list(c.city.offices_in(ward))
    return {"ward": c.city.ward(ward), "offices": [o for o in offices if o is not None],
            "districts": c.city.school_districts_in(ward)}


def _ward_of(c: Container, actor: Actor, request: Request) -> str:
    if actor.office:
        office = c.city.office(actor.office)
        if office is not None:
            return office.ward
    if actor.ward and actor.role in (Role.WARD_STAFF, Role.WARD_MAYOR):
        return actor.ward
    if actor.role == Role.ADMIN:
        asked = request.query_params.get("ward", "")
        return asked if c.city.ward(asked) else c.city.wards[0].id
    raise NotPermitted("record", NEED_RULES["record"], actor.role.value)


def _form_page(request: Request, actor: Actor, status: int = 200,
               values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               alert: str | None = None) -> Response:
    c: Container = request.app.state.container
    ward = _ward_of(c, actor, request)
    today = datetime.now(JST).date().isoformat()
    shown = {"observed_on": today, "urgency": "normal", "office": actor.office or "",
             "idempotency_key": uuid.uuid4().hex, **(values or {})}
    return render(request, "need_new.html", status=status, actor=actor, values=shown,
                  errors=errors or {}, alert=alert, today=today,
                  **_choices(c, actor, ward))


@router.get("/needs/new")
def new_need(request: Request) -> Response:
    """The form to record a need heard at an office."""
    return _form_page(request, session.require_actor(request))


def _record(request: Request, form: FormData) -> Response:
    actor = session.require_actor(request)
    session.check_csrf(request, str(form.get("csrf_token", "")))
    c: Container = request.app.state.container
    lang = lang_of(request)
    values: dict[str, Any] = {k: v for k, v in form.items()
                              if isinstance(v, str) and k != "csrf_token"}
    values.update(commands.chosen_lists(form))
    try:
        outcome = commands.record_need(c, actor, form)
    except ValidationError as exc:
        return _form_page(request, actor, 422, values, field_errors(exc, lang, request))
    except DomainError as exc:
        field = getattr(exc, "field", None)
        errors = {field: error_message(exc, lang, request)} if field else {}
        return _form_page(request, actor, status_of(exc), values, errors,
                          None if errors else error_message(exc, lang, request))
    return RedirectResponse(f"/needs/{outcome.aggregate.id}", 303)


@router.post("/needs/new")
async def record_need(request: Request) -> Response:
    """Record the need; then its page."""
    form = await request.form()
    return await run_in_threadpool(_record, request, form)


def need_page(request: Request, need_id: UUID, status: int = 200,
              failed: dict[str, Any] | None = None) -> Response:
    """A need as recorded, its reporter (if the reader may see it), history and actions."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    need = c.app.get_need(need_id)
    reporter = c.app.read_personal_data(actor, need)
    actions = queries.actions_for(actor, need)
    targets = ([(str(n.id), n.title) for n in queries.merge_targets(c, need.ward)
                if n.id != need.id] if "merge" in actions else [])
    forms = need_forms(c.city, targets)
    allowed = [forms[a] for a in actions if a in forms]
    return render(request, "need.html", status=status, actor=actor, need=need,
                  reporter=reporter, history=c.app.history(need_id), forms=allowed,
                  failed=failed or {})


@router.get("/needs/{need_id}")
def show_need(request: Request, need_id: UUID) -> Response:
    """The need's page."""
    return need_page(request, need_id)


@router.post("/needs/{need_id}/{action}")
async def act_on_need(request: Request, need_id: UUID, action: str) -> Response:
    """One of the need's actions; a refusal shows the page again with the reason."""
    if action not in commands.NEED_ACTIONS:
        return await run_in_threadpool(unknown_action, request)
    form = await request.form()
    return await run_in_threadpool(post_action, request, need_id, action, form,
                                   commands.act_on_need, need_page, f"/needs/{need_id}")
