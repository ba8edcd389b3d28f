"""`/api/v1/needs`: record, read, search and act on community needs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import (
    ActorDep,
    ContainerDep,
    CreationIdDep,
    FreshLog,
    FreshView,
    IfMatchDep,
)
from api.render import need_out, shown
from api.schemas import (
    Command,
    FeedbackIn,
    HistoryItem,
    Location,
    NeedOut,
    Page,
    Text10k,
    Text200,
    Urgency,
    problem_responses,
)
from domain.need import Need
from domain.permissions import Actor
from projections.needs_index import NeedFilter

router = APIRouter(prefix="/needs", tags=["needs"])

Source = Literal["council_meeting", "neighbourhood_association", "community_event", "counter",
                 "outreach", "survey", "phone", "other"]


class Reporter(BaseModel):
    """The reporting resident: personal data, kept outside the event log."""

    name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=500)


class NeedIn(Command):
    """A need heard in the field."""

    ward: str
    office: str
    school_district: str | None = None
    source: Source
    policy_area: str
    title: str = Text200
    description: str = Text10k
    observed_on: date
    residents_affected: int | None = Field(default=None, ge=0)
    urgency: Urgency = "normal"
    location: Location | None = None
    plan_goals: list[str] = Field(default_factory=list)
    reporter: Reporter | None = None


class TriageIn(Command):
    """Accept for handling, optionally re-classifying."""

    policy_area: str | None = None
    urgency: Urgency | None = None
    note: str | None = Field(default=None, max_length=10_000)


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
    """Corrections; only the fields given change."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=10_000)
    policy_area: str | None = None
    urgency: Urgency | None = None
    school_district: str | None = None
    location: Location | None = None
    plan_goals: list[str] | None = None
    observed_on: date | None = None
    residents_affected: int | None = Field(default=None, ge=0)

    def command_fields(self) -> dict[str, Any]:
        return {"changes": self.model_dump(exclude={"effective_at"}, exclude_unset=True)}


def respond(c: ContainerDep, actor: Actor, need: Need, position: int | None,
            status: int = 200) -> JSONResponse:
    """A need with its ETag (and Location for a creation)."""
    reporter = c.app.read_personal_data(actor, need)
    body = NeedOut.model_validate(need_out(need, reporter, position)).model_dump(mode="json")
    headers = {"ETag": f'"{need.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/needs/{need.id}"
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=NeedOut,
             responses=problem_responses(400, 401, 403, 409, 413, 422))
def record_need(body: NeedIn, c: ContainerDep, actor: ActorDep,
                need_id: CreationIdDep) -> JSONResponse:
    """Record a need heard at an office; the reporter's data stays out of the event log."""
    fields = body.model_dump(exclude={"effective_at", "reporter"})
    reporter = body.reporter.model_dump(exclude_none=True) if body.reporter else None
    outcome = c.app.record_need(actor, fields, reporter or None, need_id, body.effective_at)
    c.follower.poke()
    return respond(c, actor, outcome.aggregate, outcome.position, 201)


@router.get("", response_model=Page[NeedOut], dependencies=[FreshView("needs_index")],
            responses=problem_responses(401, 422, 503))
def list_needs(
    c: ContainerDep, _: ActorDep,
    ward: Annotated[list[str], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    office: Annotated[list[str], Query()] = [],  # noqa: B006
    status: Annotated[list[str], Query()] = [],  # noqa: B006
    policy_area: Annotated[list[str], Query()] = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=200, description="substring of title or"
                                                               " description (NFKC)")] = None,
    observed_from: date | None = None,
    observed_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Needs, newest first, from the needs view (personal data is never listed)."""
    flt = NeedFilter(ward, office, status, policy_area, q, observed_from, observed_to)
    items, next_cursor = c.needs_index.list(flt, limit, cursor)
    return {"items": [need_out(n) for n in items], "next_cursor": next_cursor}


@router.get("/{need_id}", response_model=NeedOut, dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def get_need(need_id: UUID, c: ContainerDep, actor: ActorDep) -> JSONResponse:
    """One need as it stands now."""
    return respond(c, actor, c.app.get_need(need_id), None)


@router.get("/{need_id}/history", response_model=Page[HistoryItem], dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def need_history(need_id: UUID, c: ContainerDep, _: ActorDep,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    """Every event of the need, oldest first."""
    c.app.get_need(need_id)
    return history_page(c.app.history(need_id), limit, cursor)


def history_page(entries: list[Any], limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of history; the cursor is the last version shown."""
    after = int(cursor) if cursor and cursor.isdigit() else 0
    rest = [e for e in entries if e.version > after]
    page = rest[:limit]
    items = [{"type": e.type, "version": e.version, "effective_at": shown(e.effective_at),
              "recorded_at": shown(e.recorded_at), "actor": e.actor, "data": shown(e.data)}
             for e in page]
    return {"items": items, "next_cursor": str(page[-1].version) if len(rest) > limit else None}


def _action(action: str, model: type[Command], summary: str) -> None:
    def handler(need_id: UUID, body: Command, c: ContainerDep, actor: ActorDep,
                version: IfMatchDep) -> JSONResponse:
        outcome = c.app.act_on_need(actor, need_id, action, version, body.effective_at,
                                    **body.command_fields())
        c.follower.poke()
        return respond(c, actor, outcome.aggregate, outcome.position)

    handler.__annotations__["body"] = model
    handler.__doc__ = summary
    router.add_api_route(f"/{{need_id}}/{action}", handler, methods=["POST"],
                         response_model=NeedOut, name=f"need_{action}", summary=summary,
                         responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422))


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
