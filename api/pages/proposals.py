"""Proposals on pages: `/proposals/new` from triaged needs, `/proposals/{id}` with its
clocks, history and one form per action the signed-in user may take now."""

from __future__ import annotations

import uuid
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
from api.pages.forms import proposal_forms
from api.pages.render import lang_of, render
from domain.errors import DomainError, NotPermitted
from domain.permissions import PROPOSAL_RULES, Actor, Role
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _ward_of(actor: Actor, request: Request) -> str:
    ward = actor.ward if actor.role in (Role.WARD_STAFF, Role.WARD_MAYOR) else (
        request.query_params.get("ward") if actor.role == Role.ADMIN else None)
    if not ward:
        raise NotPermitted("create", PROPOSAL_RULES["create"], actor.role.value)
    return ward


def _new_page(request: Request, actor: Actor, status: int = 200,
              values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
              alert: str | None = None, chosen: list[str] | None = None) -> Response:
    c: Container = request.app.state.container
    ward = _ward_of(actor, request)
    queries.fresh_views(c)
    needs = queries.triaged_needs(c, ward)
    picked = chosen if chosen is not None else request.query_params.getlist("needs")
    shown = {"idempotency_key": uuid.uuid4().hex, **(values or {})}
    return render(request, "proposal_new.html", status=status, actor=actor, ward=ward,
                  needs=needs, chosen=set(picked), values=shown, errors=errors or {},
                  alert=alert)


@router.get("/proposals/new")
def new_proposal(request: Request) -> Response:
    """The form to draft a proposal from the ward's triaged needs."""
    return _new_page(request, session.require_actor(request))


def _create(request: Request, form: FormData) -> Response:
    actor = session.require_actor(request)
    session.check_csrf(request, str(form.get("csrf_token", "")))
    c: Container = request.app.state.container
    lang = lang_of(request)
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != "needs"}
    values.update(commands.chosen_lists(form))
    chosen = [v for v in form.getlist("needs") if isinstance(v, str)]
    try:
        outcome = commands.create_proposal(c, actor, form)
    except ValidationError as exc:
        return _new_page(request, actor, 422, values, field_errors(exc, lang, request),
                         chosen=chosen)
    except DomainError as exc:
        field = getattr(exc, "field", None)
        errors = {field: error_message(exc, lang, request)} if field else {}
        return _new_page(request, actor, status_of(exc), values, errors,
                         None if errors else error_message(exc, lang, request), chosen)
    return RedirectResponse(f"/proposals/{outcome.aggregate.id}", 303)


@router.post("/proposals/new")
async def create_proposal(request: Request) -> Response:
    """Draft the proposal; then its page."""
    form = await request.form()
    return await run_in_threadpool(_create, request, form)


def proposal_page(request: Request, proposal_id: UUID, status: int = 200,
                  failed: dict[str, Any] | None = None) -> Response:
    """The proposal, its clocks, needs, comments, notices, history and allowed actions."""
    actor = session.require_actor(request)
    c: Container = request.app.state.container
    proposal = c.app.get_proposal(proposal_id)
    forms = proposal_forms(c.city)
    allowed = [forms[a] for a in queries.actions_for(actor, proposal) if a in forms]
    needs = [c.app.get_need(n) for n in proposal.needs]
    return render(request, "proposal.html", status=status, actor=actor, proposal=proposal,
                  needs=needs, clocks=queries.clocks_of(c, proposal),
                  history=c.app.history(proposal_id), forms=allowed, failed=failed or {})


@router.get("/proposals/{proposal_id}")
def show_proposal(request: Request, proposal_id: UUID) -> Response:
    """The proposal's page."""
    return proposal_page(request, proposal_id)


@router.post("/proposals/{proposal_id}/{action}")
async def act_on_proposal(request: Request, proposal_id: UUID, action: str) -> Response:
    """One of the proposal's actions; a refusal shows the page again with the reason."""
    if action not in commands.PROPOSAL_ACTIONS:
        return await run_in_threadpool(unknown_action, request)
    form = await request.form()
    return await run_in_threadpool(post_action, request, proposal_id, action, form,
                                   commands.act_on_proposal, proposal_page,
                                   f"/proposals/{proposal_id}")
