"""`/api/v1/needs`: record, read, search and act on community needs."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.actions import Run, add_action
from api.deps import (
    ActorDep,
    ContainerDep,
    CreationIdDep,
    FreshLog,
    FreshView,
)
from api.middleware import in_thread
from api.render import RoundedJSONResponse, need_out, shown
from api.schemas import (
    Command,
    FeedbackIn,
    HistoryItem,
    IsoDate,
    Location,
    NeedOut,
    OptionalText,
    Page,
    QueryDate,
    Ref,
    Refs,
    Residents,
    Text10k,
    Text200,
    problem_responses,
)
from domain import values as limits
from domain.commands import NEED_COMMANDS, AmendNeed, RecordNeed, Source, Urgency
from domain.commands import Command as DomainCommand
from domain.commands import Reporter as DomainReporter
from domain.need import Need
from domain.permissions import Actor
from domain.states import NeedStatus
from projections.base import InvalidCursor
from projections.needs_index import NeedFilter
from wiring.bootstrap import Container

router = APIRouter(prefix="/needs", tags=["needs"])
#: a history cursor is the last version shown
_VERSION_CURSOR = re.compile(r"[0-9]{1,9}")

class Reporter(BaseModel):
    """The reporting resident: personal data, kept outside the event log."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200,
                             pattern=limits.OPTIONAL_TEXT_PATTERN)
    contact: str | None = Field(default=None, max_length=limits.SHORT_TEXT_MAX,
                                pattern=limits.OPTIONAL_TEXT_PATTERN)


class NeedIn(Command):
    """A need heard in the field."""

    ward: Ref
    office: Ref
    school_district: Ref | None = None
    source: Source
    policy_area: Ref
    title: str = Text200
    description: str = Text10k
    observed_on: IsoDate = Field(description="The day it was heard (not in the future)")
    residents_affected: Residents | None = None
    urgency: Urgency = Urgency.NORMAL
    location: Location | None = None
    plan_goals: Refs = Field(default_factory=list)
    reporter: Reporter | None = None

    def command(self) -> RecordNeed:
        """The domain's command."""
        reporter = DomainReporter(**self.reporter.model_dump()) if self.reporter else None
        return RecordNeed(**self.model_dump(exclude={"reporter"}), reporter=reporter)


class TriageIn(Command):
    """Accept for handling, optionally re-classifying."""

    policy_area: Ref | None = None
    urgency: Urgency | None = None
    note: str | None = OptionalText


class NoteIn(Command):
    """How the ward resolved it."""

    note: str = Text10k


class ReasonIn(Command):
    """Why the ward declines it."""

    reason: str = Text10k


class MergeIn(Command):
    """The need that stays."""

    into: UUID


class AmendIn(Command):
    """Corrections; only the fields given change (at least one)."""

    title: str = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=limits.TITLE_MAX, pattern=limits.TEXT_PATTERN)
    description: str = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=limits.TEXT_MAX, pattern=limits.TEXT_PATTERN)
    policy_area: Ref = None  # type: ignore[assignment]
    urgency: Urgency = None  # type: ignore[assignment]
    school_district: Ref | None = None
    location: Location | None = None
    plan_goals: Refs = None  # type: ignore[assignment]
    observed_on: IsoDate = None  # type: ignore[assignment]
    residents_affected: Residents | None = None

    def command(self) -> AmendNeed:
        """The domain's command: only the fields the client sent."""
        changes = self.model_dump(exclude={"effective_at"}, exclude_unset=True)
        return AmendNeed(changes=changes, effective_at=self.effective_at)


def command_of(action: str, body: Command) -> DomainCommand:
    """The domain command of a need's action from its body."""
    if isinstance(body, AmendIn):
        return body.command()
    cls = NEED_COMMANDS[action]
    return cls(**body.model_dump())


def respond(c: ContainerDep, actor: Actor, need: Need, position: int | None,
            status: int = 200) -> JSONResponse:
    """A need with its ETag (and Location for a creation)."""
    reporter = c.app.read_personal_data(actor, need)
    out = need_out(need, reporter, position, c.app.permitted_actions(actor, need))
    body = NeedOut.model_validate(out).model_dump(mode="json")
    headers = {"ETag": f'"{need.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/needs/{need.id}"
    return RoundedJSONResponse(body, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=NeedOut,
             responses=problem_responses(400, 401, 403, 409, 413, 422))
async def record_need(body: NeedIn, c: ContainerDep, actor: ActorDep,
                      need_id: CreationIdDep) -> JSONResponse:
    """Record a need heard at an office; the reporter's data stays out of the event log."""
    return await in_thread(_record_need, body, c, actor, need_id)


def _record_need(body: NeedIn, c: Container, actor: Actor, need_id: UUID | None) -> JSONResponse:
    outcome = c.app.record_need(actor, body.command(), need_id=need_id)
    c.follower.poke()
    return respond(c, actor, outcome.aggregate, outcome.position, 201)


@router.get("", response_model=Page[NeedOut], dependencies=[FreshView("needs_index")],
            responses=problem_responses(401, 422, 503))
def list_needs(
    c: ContainerDep, actor: ActorDep,
    ward: Annotated[list[Ref], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    office: Annotated[list[Ref], Query()] = [],  # noqa: B006
    status: Annotated[list[NeedStatus], Query()] = [],  # noqa: B006
    policy_area: Annotated[list[Ref], Query()] = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=200, description="substring of title or"
                                                               " description (NFKC)")] = None,
    observed_from: QueryDate | None = None,
    observed_to: QueryDate | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """Needs, newest first, from the needs view (personal data is never listed)."""
    flt = NeedFilter(ward, office, [s.value for s in status], policy_area, q, observed_from,
                     observed_to)
    items, next_cursor = c.needs_index.list(flt, limit, cursor)
    return {"items": [need_out(n, None, None, c.app.permitted_actions(actor, n)) for n in items],
            "next_cursor": next_cursor}


@router.get("/{need_id}", response_model=NeedOut, dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def get_need(need_id: UUID, c: ContainerDep, actor: ActorDep) -> JSONResponse:
    """One need as it stands now."""
    return respond(c, actor, c.app.get_need(need_id), None)


@router.get("/{need_id}/history", response_model=Page[HistoryItem], dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def need_history(need_id: UUID, c: ContainerDep, _: ActorDep,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 cursor: Annotated[str | None, Query(max_length=20)] = None
                 ) -> dict[str, Any]:
    """Every event of the need, oldest first."""
    c.app.get_need(need_id)
    return history_page(c.app.history(need_id), limit, cursor)


def history_page(entries: list[Any], limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of history; the cursor is the last version shown."""
    if cursor is not None and not _VERSION_CURSOR.fullmatch(cursor):
        raise InvalidCursor()
    after = int(cursor) if cursor else 0
    rest = [e for e in entries if e.version > after]
    page = rest[:limit]
    items = [{"type": e.type, "version": e.version, "effective_at": shown(e.effective_at),
              "recorded_at": shown(e.recorded_at), "actor": e.actor, "data": shown(e.data)}
             for e in page]
    return {"items": items, "next_cursor": str(page[-1].version) if len(rest) > limit else None}


def _run(action: str) -> Run:
    def run(need_id: UUID, body: Command, c: Container, actor: Actor,
            version: int | None) -> JSONResponse:
        outcome = c.app.execute_on_need(actor, need_id, command_of(action, body), version)
        c.follower.poke()
        return respond(c, actor, outcome.aggregate, outcome.position)
    return run


def _action(action: str, model: type[Command], summary: str) -> None:
    add_action(router, id_name="need_id", action=action, model=model, summary=summary,
               run=_run(action), response_model=NeedOut)


_action("triage", TriageIn, "Triage a recorded need")
_action("resolve-locally", NoteIn, "Resolve a need within the ward")
_action("decline", ReasonIn, "Decline a need, with a reason")
_action("merge", MergeIn, "Merge a duplicate need into another")
_action("feedback", FeedbackIn, "Tell the originators; closes a resolved, declined or merged need")
_action("amend", AmendIn, "Correct a need while recorded or triaged")


@router.delete("/{need_id}/personal-data", status_code=204,
               responses=problem_responses(401, 403, 404))
def erase_personal_data(need_id: UUID, c: ContainerDep, actor: ActorDep) -> Response:
    """Erase the reporter's personal data for good; the need and its history stay."""
    c.app.erase_personal_data(actor, need_id)
    c.follower.poke()
    return Response(status_code=204)
