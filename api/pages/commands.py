"""Every write the pages make: form fields validated by the JSON API's own body models,
then one call to the application.

This is the one module to adapt when the application's command methods change.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData

from api import needs as need_api
from api import proposals as proposal_api
from api.deps import IDEMPOTENT_IDS
from api.schemas import Command, FeedbackIn
from domain.application import Outcome
from domain.errors import InvalidCommand
from domain.need import Need
from domain.permissions import Actor
from domain.proposal import Proposal
from wiring.bootstrap import Container

#: form fields that are the page's own, never part of a command
_PAGE_FIELDS = frozenset({"csrf_token", "version", "idempotency_key", "lang"})
#: fields that repeat (`needs=a&needs=b`)
_LISTS = frozenset({"needs", "co_departments", "plan_goals", "wards"})

NEED_ACTIONS: dict[str, type[Command]] = {
    "triage": need_api.TriageIn, "resolve-locally": need_api.NoteIn,
    "decline": need_api.ReasonIn, "merge": need_api.MergeIn, "feedback": FeedbackIn,
    "amend": need_api.AmendIn,
}

PROPOSAL_ACTIONS: dict[str, type[Command]] = {
    "amend": proposal_api.AmendIn, "submit": proposal_api.NoBody,
    "acknowledge": proposal_api.NoteIn, "request-info": proposal_api.QuestionIn,
    "provide-info": proposal_api.AnswerIn, "start-review": proposal_api.NoBody,
    "decide": proposal_api.DecideIn, "request-budget": proposal_api.BudgetRequestIn,
    "record-budget": proposal_api.BudgetOutcomeIn, "start-implementation": proposal_api.NoteIn,
    "complete": proposal_api.CompleteIn, "withdraw": proposal_api.WithdrawIn,
    "merge": proposal_api.MergeIn, "transfer": proposal_api.TransferIn,
    "feedback": FeedbackIn, "evaluate": proposal_api.EvaluateIn,
    "comment": proposal_api.CommentIn, "notice": proposal_api.NoticeIn,
}


def fields_of(form: FormData) -> dict[str, Any]:
    """The command's fields in a form: blanks left out (so a required one is "missing"),
    repeated fields as lists."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(form.keys()):
        if name in _PAGE_FIELDS:
            continue
        values = [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]
        if name in _LISTS:
            out[name] = values
        elif values:
            out[name] = values[0]
    return out


def chosen_lists(form: FormData) -> dict[str, list[str]]:
    """The repeated fields a form sent, as lists: ticked boxes stay ticked when it is shown
    again with its errors."""
    return {name: [v for v in form.getlist(name) if isinstance(v, str)]
            for name in _LISTS if name in form}


def version_of(form: FormData) -> int:
    """The aggregate version the form was rendered from (a stale one is refused)."""
    value = form.get("version")
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        raise InvalidCommand("version", "missing_version")
    return int(value)


def creation_id(actor: Actor, form: FormData) -> UUID | None:
    """The new record's id, derived from the form's key: a double submit meets the same record."""
    key = form.get("idempotency_key")
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    return uuid.uuid5(IDEMPOTENT_IDS, f"{actor.id}:form:{key}")


def typed(model: type[Command], fields: dict[str, Any]) -> dict[str, Any]:
    """Form text turned into the JSON types the body model expects (its integers and
    booleans are strict): digits to integers, a checked box to true."""
    out = dict(fields)
    for name, info in model.model_fields.items():
        value = out.get(name)
        if not isinstance(value, str):
            continue
        kinds = repr(info.annotation)
        if "int" in kinds and value.lstrip("-").isdigit() and len(value) < 20:
            out[name] = int(value)
        elif "bool" in kinds and value in ("true", "on", "1", "false", "0"):
            out[name] = value in ("true", "on", "1")
    return out


def record_need(c: Container, actor: Actor, form: FormData) -> Outcome[Need]:
    """Record a need from `/needs/new`; the reporter's fields go to the vault only."""
    fields = fields_of(form)
    reporter = {k: fields.pop(f"reporter_{k}") for k in ("name", "contact")
                if f"reporter_{k}" in fields}
    body = need_api.NeedIn.model_validate({**typed(need_api.NeedIn, fields),
                                           "reporter": reporter or None})
    outcome = c.app.record_need(actor, body.command(), need_id=creation_id(actor, form))
    c.follower.poke()
    return outcome


def act_on_need(c: Container, actor: Actor, need_id: UUID, action: str,
                form: FormData) -> Outcome[Need]:
    """One of a need's actions, refused if the need changed since the form was shown."""
    model = NEED_ACTIONS[action]
    body = model.model_validate(typed(model, fields_of(form)))
    outcome = c.app.execute_on_need(actor, need_id, need_api.command_of(action, body),
                                    version_of(form))
    c.follower.poke()
    return outcome


def create_proposal(c: Container, actor: Actor, form: FormData) -> Outcome[Proposal]:
    """Draft a proposal from `/proposals/new` (its needs as repeated `needs`)."""
    model = proposal_api.ProposalIn
    body = model.model_validate(typed(model, fields_of(form)))
    outcome = c.app.create_proposal(actor, body.command(), creation_id(actor, form))
    c.follower.poke()
    return outcome


def act_on_proposal(c: Container, actor: Actor, proposal_id: UUID, action: str,
                    form: FormData) -> Outcome[Proposal]:
    """One of a proposal's actions, refused if the proposal changed since the form was shown."""
    model = PROPOSAL_ACTIONS[action]
    body = model.model_validate(typed(model, fields_of(form)))
    outcome = c.app.execute_on_proposal(actor, proposal_id,
                                        proposal_api.command_of(action, body), version_of(form))
    c.follower.poke()
    return outcome
