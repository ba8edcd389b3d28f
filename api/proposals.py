"""`/api/v1/proposals`: draft, submit, review, decide, budget, implement, feed back."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool

from api.actions import Run, add_action
from api.deps import ActorDep, ContainerDep, CreationIdDep, FreshLog, FreshView
from api.needs import history_page
from api.render import RoundedJSONResponse, proposal_out
from api.schemas import (
    Command,
    FeedbackIn,
    HistoryItem,
    Number,
    OptionalText,
    Page,
    ProposalOut,
    Ref,
    Refs,
    Satisfaction,
    Text10k,
    Text200,
    Year,
    Yen,
    problem_responses,
)
from domain import values as limits
from domain.commands import BudgetOutcome, Decision
from domain.commands import Command as DomainCommand
from domain.permissions import Actor
from domain.proposal import Proposal
from domain.proposal_commands import PROPOSAL_COMMANDS, AmendProposal, DraftProposal
from domain.states import ProposalStatus
from projections.proposals_index import ProposalFilter
from wiring.bootstrap import Container

router = APIRouter(prefix="/proposals", tags=["proposals"])
_MAX_NEEDS = limits.NEEDS_PER_PROPOSAL_MAX
FiscalYear = Annotated[int, Field(ge=limits.FIRST_YEAR, le=limits.LAST_YEAR)]


class ProposalIn(Command):
    """A draft proposal from the ward's triaged needs."""

    ward: Ref
    title: str = Text200
    summary: str = Field(default="", max_length=limits.TEXT_MAX,
                         pattern=limits.OPTIONAL_TEXT_PATTERN)
    needs: list[UUID] = Field(default_factory=list, max_length=limits.NEEDS_PER_PROPOSAL_MAX)
    lead_department: Ref
    co_departments: Refs = Field(default_factory=list)
    policy_area: Ref
    estimated_cost_jpy: Yen | None = None
    plan_goals: Refs = Field(default_factory=list)

    def command(self) -> DraftProposal:
        """The domain's command."""
        return DraftProposal(**self.model_dump())


class AmendIn(Command):
    """Changes to a draft; only the fields given change (at least one)."""

    title: str = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=limits.TITLE_MAX, pattern=limits.TEXT_PATTERN)
    summary: str = Field(  # type: ignore[assignment]
        default=None, max_length=limits.TEXT_MAX, pattern=limits.OPTIONAL_TEXT_PATTERN)
    needs: list[UUID] = Field(default=None, max_length=_MAX_NEEDS)  # type: ignore[arg-type]
    lead_department: Ref = None  # type: ignore[assignment]
    co_departments: Refs = None  # type: ignore[assignment]
    policy_area: Ref = None  # type: ignore[assignment]
    estimated_cost_jpy: Yen | None = None
    plan_goals: Refs = None  # type: ignore[assignment]

    def command(self) -> AmendProposal:
        """The domain's command: only the fields the client sent."""
        changes = self.model_dump(exclude={"effective_at"}, exclude_unset=True)
        return AmendProposal(changes=changes, effective_at=self.effective_at)


class NoBody(Command):
    """Nothing but, optionally, `effective_at`."""


class NoteIn(Command):
    """An optional note."""

    note: str | None = OptionalText


class QuestionIn(Command):
    """What the division needs to know."""

    question: str = Text10k


class AnswerIn(Command):
    """The ward's answer."""

    answer: str = Text10k


class DecideIn(Command):
    """The decision and its reason (a deferral names the fiscal year)."""

    decision: Decision
    reason: str = Text10k
    deferred_to_fiscal_year: Year | None = None


class BudgetRequestIn(Command):
    """Money asked of finance."""

    fiscal_year: Year
    amount_jpy: Yen


class BudgetOutcomeIn(Command):
    """Finance's answer (a budgeted outcome names the amount)."""

    outcome: BudgetOutcome
    fiscal_year: Year
    amount_jpy: Yen | None = None


class CompleteIn(Command):
    """What was done."""

    summary: str = Text10k


class WithdrawIn(Command):
    """Why the ward takes it back, and whether its needs return to triage."""

    reason: str = Text10k
    return_needs: StrictBool = False


class MergeIn(Command):
    """The open proposal that takes this one in."""

    into: UUID
    reason: str = Text10k


class TransferIn(Command):
    """The division that should lead instead."""

    to_department: Ref
    reason: str = Text10k


class EvaluateIn(Command):
    """How residents or the council judged the outcome."""

    satisfaction: Satisfaction
    indicators: Annotated[dict[Ref, Number], Field(
        max_length=limits.LIST_MAX, description="declared indicator id → value in its unit",
        json_schema_extra={"additionalProperties": False})] | None = None
    note: str | None = OptionalText


class CommentIn(Command):
    """A view from a ward or division (意見反映)."""

    body: str = Text10k


class NoticeIn(Command):
    """Advance notice from head office to wards (事前の情報提供)."""

    body: str = Text10k
    wards: Refs = Field(min_length=1)


def command_of(action: str, body: Command) -> DomainCommand:
    """The domain command of a proposal's action from its body."""
    if isinstance(body, AmendIn):
        return body.command()
    return PROPOSAL_COMMANDS[action](**body.model_dump())


def respond(c: Container, actor: Actor, proposal: Proposal, position: int | None,
            status: int = 200) -> JSONResponse:
    """A proposal with its ETag (and Location for a creation)."""
    out = proposal_out(proposal, c.city, c.calendar, c.now(), position,
                       c.app.permitted_actions(actor, proposal))
    body = ProposalOut.model_validate(out).model_dump(mode="json")
    headers = {"ETag": f'"{proposal.version}"'}
    if status == 201:
        headers["Location"] = f"/api/v1/proposals/{proposal.id}"
    return RoundedJSONResponse(body, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=ProposalOut,
             responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
def create_proposal(body: ProposalIn, c: ContainerDep, actor: ActorDep,
                    proposal_id: CreationIdDep) -> JSONResponse:
    """Draft a proposal; its needs must be triaged and of its ward."""
    outcome = c.app.create_proposal(actor, body.command(), proposal_id)
    c.follower.poke()
    return respond(c, actor, outcome.aggregate, outcome.position, 201)


@router.get("", response_model=Page[ProposalOut], dependencies=[FreshView("proposals_index")],
            responses=problem_responses(401, 422, 503))
def list_proposals(
    c: ContainerDep, actor: ActorDep,
    ward: Annotated[list[Ref], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    lead_department: Annotated[list[Ref], Query()] = [],  # noqa: B006
    department: Annotated[list[Ref], Query(description="lead or co")] = [],  # noqa: B006
    status: Annotated[list[ProposalStatus], Query()] = [],  # noqa: B006
    policy_area: Annotated[list[Ref], Query()] = [],  # noqa: B006
    fiscal_year: Annotated[list[FiscalYear], Query(description="of submission")] = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """Proposals, newest first, from the proposals view."""
    flt = ProposalFilter(ward, lead_department, department, [s.value for s in status],
                         policy_area, fiscal_year, q)
    items, next_cursor = c.proposals_index.list(flt, limit, cursor)
    now = c.now()
    return {"items": [proposal_out(p, c.city, c.calendar, now, None,
                                   c.app.permitted_actions(actor, p)) for p in items],
            "next_cursor": next_cursor}


@router.get("/{proposal_id}", response_model=ProposalOut, dependencies=[FreshLog],
            responses=problem_responses(401, 404, 503))
def get_proposal(proposal_id: UUID, c: ContainerDep, actor: ActorDep) -> JSONResponse:
    """One proposal as it stands now, with its clocks."""
    return respond(c, actor, c.app.get_proposal(proposal_id), None)


@router.get("/{proposal_id}/history", response_model=Page[HistoryItem],
            dependencies=[FreshLog], responses=problem_responses(401, 404, 503))
def proposal_history(proposal_id: UUID, c: ContainerDep, _: ActorDep,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     cursor: Annotated[str | None, Query(max_length=20)] = None
                     ) -> dict[str, Any]:
    """Every event of the proposal, oldest first."""
    c.app.get_proposal(proposal_id)
    return history_page(c.app.history(proposal_id), limit, cursor)


def _run(action: str) -> Run:
    def run(proposal_id: UUID, body: Command, c: Container, actor: Actor,
            version: int | None) -> JSONResponse:
        outcome = c.app.execute_on_proposal(actor, proposal_id, command_of(action, body),
                                            version)
        c.follower.poke()
        return respond(c, actor, outcome.aggregate, outcome.position)
    return run


def _action(action: str, model: type[Command], summary: str) -> None:
    add_action(router, id_name="proposal_id", action=action, model=model, summary=summary,
               run=_run(action), response_model=ProposalOut)


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
