"""`/api/v1/proposals`: draft, submit, review, decide, budget, implement, feed back."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from api.deps import ActorDep, ContainerDep, CreationIdDep, FreshLog, FreshView, IfMatchDep
from api.needs import history_page
from api.render import proposal_out
from api.schemas import (
    Command,
    FeedbackIn,
    HistoryItem,
    Page,
    ProposalOut,
    Text10k,
    Text200,
    problem_responses,
)
from domain.proposal import Proposal
from projections.proposals_index import ProposalFilter

router = APIRouter(prefix="/proposals", tags=["proposals"])

MAX_YEN = 10**13


class ProposalIn(Command):
    """A draft proposal from the ward's triaged needs."""

    ward: str
    title: str = Text200
    summary: str = Field(default="", max_length=10_000)
    needs: list[UUID] = Field(default_factory=list, max_length=200)
    lead_department: str
    co_departments: list[str] = Field(default_factory=list)
    policy_area: str
    estimated_cost_jpy: int | None = Field(default=None, ge=0, le=MAX_YEN)
    plan_goals: list[str] = Field(default_factory=list)


class AmendIn(Command):
    """Changes to a draft; only the fields given change."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=10_000)
    needs: list[UUID] | None = Field(default=None, max_length=200)
    lead_department: str | None = None
    co_departments: list[str] | None = None
    policy_area: str | None = None
    estimated_cost_jpy: int | None = Field(default=None, ge=0, le=MAX_YEN)
    plan_goals: list[str] | None = None

    def command_fields(self) -> dict[str, Any]:
        return {"changes": self.model_dump(exclude={"effective_at"}, exclude_unset=True)}


class NoBody(Command):
    """Nothing but, optionally, `effective_at`."""


class NoteIn(Command):
    """An optional note."""

    note: str | None = Field(default=None, max_length=10_000)


class QuestionIn(Command):
    """What the division needs to know."""

    question: str = Text10k


class AnswerIn(Command):
    """The ward's answer."""

    answer: str = Text10k


class DecideIn(Command):
    """The decision and its reason."""

    decision: Literal["accepted", "rejected", "deferred"]
    reason: str = Text10k
    deferred_to_fiscal_year: int | None = Field(default=None, ge=2000, le=2100)


class BudgetRequestIn(Command):
    """Money asked of finance."""

    fiscal_year: int = Field(ge=2000, le=2100)
    amount_jpy: int = Field(ge=0, le=MAX_YEN)


class BudgetOutcomeIn(Command):
    """Finance's answer."""

    outcome: Literal["budgeted", "not_budgeted"]
    fiscal_year: int = Field(ge=2000, le=2100)
    amount_jpy: int | None = Field(default=None, ge=0, le=MAX_YEN)


class CompleteIn(Command):
    """What was done."""

    summary: str = Text10k


class WithdrawIn(Command):
    """Why the ward takes it back, and whether its needs return to triage."""

    reason: str = Text10k
    return_needs: bool = False


class MergeIn(Command):
    """The open proposal that takes this one in."""

    into: UUID
    reason: str = Text10k


class TransferIn(Command):
    """The division that should lead instead."""

    to_department: str
    reason: str = Text10k


class EvaluateIn(Command):
    """How residents or the council judged the outcome."""

    satisfaction: int = Field(ge=1, le=5)
    indicators: dict[str, float | int | str] | None = None
    note: str | None = Field(default=None, max_length=10_000)


class CommentIn(Command):
    """A view from a ward or division (意見反映)."""

    body: str = Text10k


class NoticeIn(Command):
    """Advance notice from head office to wards (事前の情報提供)."""

    body: str = Text10k
    wards: list[str] = Field(min_length=1)


def respond(c: ContainerDep, proposal: Proposal, position: int | None,
            status: int = 200) -> JSONResponse:
    """A proposal with its ETag (and Location for a creation)."""
    out = proposal_out(proposal, c.city, c.calendar, c.now(), position)
    body = ProposalOut.model_validate(out).model_dump(mode="json")
    headers = {"ETag": f'"{proposal.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/proposals/{proposal.id}"
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=ProposalOut,
             responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
def create_proposal(body: ProposalIn, c: ContainerDep, actor: ActorDep,
                    proposal_id: CreationIdDep) -> JSONResponse:
    """Draft a proposal; its needs must be triaged and of its ward."""
    outcome = c.app.create_proposal(actor, body.command_fields(), proposal_id,
                                    body.effective_at)
    c.follower.poke()
    return respond(c, outcome.aggregate, outcome.position, 201)


@router.get("", response_model=Page[ProposalOut], dependencies=[FreshView("proposals_index")],
            responses=problem_responses(401, 422, 503))
def list_proposals(
    c: ContainerDep, _: ActorDep,
    ward: Annotated[list[str], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    lead_department: Annotated[list[str], Query()] = [],  # noqa: B006
    department: Annotated[list[str], Query(description="lead or co")] = [],  # noqa: B006
    status: Annotated[list[str], Query()] = [],  # noqa: B006
    policy_area: Annotated[list[str], Query()] = [],  # noqa: B006
    fiscal_year: Annotated[list[int], Query(description="of submission")] = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Proposals, newest first, from the proposals view."""
    flt = ProposalFilter(ward, lead_department, department, status, policy_area, fiscal_year, q)
    items, next_cursor = c.proposals_index.list(flt, limit, cursor)
    now = c.now()
    return {"items": [proposal_out(p, c.city, c.calendar, now) for p in items],
            "next_cursor": next_cursor}


@router.get("/{proposal_id}", response_model=ProposalOut, dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def get_proposal(proposal_id: UUID, c: ContainerDep, _: ActorDep) -> JSONResponse:
    """One proposal as it stands now, with its clocks."""
    return respond(c, c.app.get_proposal(proposal_id), None)


@router.get("/{proposal_id}/history", response_model=Page[HistoryItem],
            dependencies=[FreshLog], responses=problem_responses(401, 404, 503))
def proposal_history(proposal_id: UUID, c: ContainerDep, _: ActorDep,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     cursor: str | None = None) -> dict[str, Any]:
    """Every event of the proposal, oldest first."""
    c.app.get_proposal(proposal_id)
    return history_page(c.app.history(proposal_id), limit, cursor)


def _action(action: str, model: type[Command], summary: str) -> None:
    def handler(proposal_id: UUID, body: Command, c: ContainerDep, actor: ActorDep,
                version: IfMatchDep) -> JSONResponse:
        outcome = c.app.act_on_proposal(actor, proposal_id, action, version, body.effective_at,
                                        **body.command_fields())
        c.follower.poke()
        return respond(c, outcome.aggregate, outcome.position)

    handler.__annotations__["body"] = model
    handler.__doc__ = summary
    router.add_api_route(f"/{{proposal_id}}/{action}", handler, methods=["POST"],
                         response_model=ProposalOut, name=f"proposal_{action}",
                         summary=summary,
                         responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422))


for _name, _model, _summary in (
    ("amend", AmendIn, "Change a draft"),
    ("submit", NoBody, "Submit to head office (ward mayor)"),
    ("acknowledge", NoteIn, "Acknowledge receipt (lead division)"),
    ("request-info", QuestionIn, "Ask the ward a question; pauses the decision clock"),
    ("provide-info", AnswerIn, "Answer a question; review resumes"),
    ("start-review", NoBody, "Start (or after deferral resume) the review"),
    ("decide", DecideIn, "Accept, reject or defer, with a reason"),
    ("request-budget", BudgetRequestIn, "Ask finance for money"),
    ("record-budget", BudgetOutcomeIn, "Record finance's answer"),
    ("start-implementation", NoteIn, "Start the work"),
    ("complete", CompleteIn, "Complete the work"),
    ("withdraw", WithdrawIn, "Withdraw before a decision (ward)"),
    ("merge", MergeIn, "Merge into another open proposal"),
    ("transfer", TransferIn, "Hand the lead to another division"),
    ("feedback", FeedbackIn, "Tell the community what became of it"),
    ("evaluate", EvaluateIn, "Record the residents' or council's evaluation"),
    ("comment", CommentIn, "Add a comment (意見反映)"),
    ("notice", NoticeIn, "Send wards advance notice (事前の情報提供)"),
):
    _action(_name, _model, _summary)
