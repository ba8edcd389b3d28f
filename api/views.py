"""`/api/v1/views/…`: read models for the divisions' desks and the wards' feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from api.deps import ActorDep, ContainerDep, FreshView
from api.render import shown
from api.schemas import problem_responses
from domain.errors import NotFound
from projections.ward_feedback import FeedbackItem

router = APIRouter(prefix="/views", tags=["views"])


class QueueItemOut(BaseModel):
    """A proposal on a division's desk."""

    proposal: str
    title: str
    ward: str
    status: str
    role: str
    urgency: str
    submitted_at: datetime
    clock: str | None
    due_on: date | None
    business_days_open: int
    overdue: bool


class DepartmentQueueOut(BaseModel):
    """A division's queue, as of an instant."""

    department: str
    as_of: datetime
    items: list[QueueItemOut]
    next_cursor: str | None = None


class LatestFeedbackOut(BaseModel):
    """The most recent feedback on a need or its proposal."""

    message: str
    delivered_on: date


class FeedbackItemOut(BaseModel):
    """A need and what became of it."""

    need: str
    title: str
    status: str
    proposal: str | None
    proposal_status: str | None
    latest_feedback: LatestFeedbackOut | None


class WardFeedbackOut(BaseModel):
    """The needs of a ward, newest first."""

    ward: str
    items: list[FeedbackItemOut]
    next_cursor: str | None


class OfficeFeedbackOut(BaseModel):
    """The needs of an office, newest first."""

    office: str
    items: list[FeedbackItemOut]
    next_cursor: str | None


Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/department-queue/{department}", response_model=DepartmentQueueOut,
            dependencies=[FreshView("department_queue")],
            responses=problem_responses(401, 404, 422, 503))
def department_queue(department: str, c: ContainerDep, _: ActorDep) -> dict[str, Any]:
    """The division's open proposals (lead or co) and final ones still owing feedback."""
    if c.city.department(department) is None:
        raise NotFound(f"課 '{department}' は登録されていません (unknown department)")
    now = c.now()
    items = c.department_queue.queue(department, c.city, c.calendar, now)
    return {
        "department": department,
        "as_of": shown(now),
        "items": [{"proposal": str(i.proposal.id), "title": i.proposal.title,
                   "ward": i.proposal.ward, "status": i.proposal.status, "role": i.role,
                   "urgency": i.urgency, "submitted_at": shown(i.proposal.submitted_at),
                   "clock": i.clock, "due_on": i.due_on,
                   "business_days_open": i.business_days_open, "overdue": i.overdue}
                  for i in items],
        "next_cursor": None,
    }


def _feedback_page(c: ContainerDep, column: str, value: str, limit: int,
                   cursor: str | None) -> dict[str, Any]:
    items, next_cursor = c.ward_feedback.list(column, value, limit, cursor)
    return {column: value, "items": [_feedback_out(i) for i in items],
            "next_cursor": next_cursor}


def _feedback_out(item: FeedbackItem) -> dict[str, Any]:
    need = item.need
    return {"need": str(need.id), "title": need.title, "status": need.status,
            "proposal": str(need.proposal) if need.proposal is not None else None,
            "proposal_status": item.proposal_status,
            "latest_feedback": item.latest_feedback}


@router.get("/ward-feedback/{ward}", response_model=WardFeedbackOut,
            dependencies=[FreshView("ward_feedback")],
            responses=problem_responses(401, 404, 422, 503))
def ward_feedback(ward: str, c: ContainerDep, _: ActorDep, limit: Limit = 50,
                  cursor: str | None = None) -> dict[str, Any]:
    """Every need recorded in the ward, newest first, with the latest feedback."""
    if c.city.ward(ward) is None:
        raise NotFound(f"区 '{ward}' は登録されていません (unknown ward)")
    return _feedback_page(c, "ward", ward, limit, cursor)


@router.get("/office-feedback/{office}", response_model=OfficeFeedbackOut,
            dependencies=[FreshView("ward_feedback")],
            responses=problem_responses(401, 404, 422, 503))
def office_feedback(office: str, c: ContainerDep, _: ActorDep, limit: Limit = 50,
                    cursor: str | None = None) -> dict[str, Any]:
    """Every need recorded at the office, newest first, with the latest feedback."""
    if c.city.office(office) is None:
        raise NotFound(f"窓口 '{office}' は登録されていません (unknown office)")
    return _feedback_page(c, "office", office, limit, cursor)


class AgendaDecisionOut(BaseModel):
    """A decision taken in the period."""

    proposal: str
    ward: str
    decision: str
    decided_at: datetime


class AgendaBudgetOut(BaseModel):
    """A budget outcome recorded in the period (0 yen when not budgeted)."""

    proposal: str
    ward: str
    outcome: str
    amount_jpy: int | None


class AgendaFeedbackOut(BaseModel):
    """Feedback recorded in the period."""

    proposal: str
    ward: str
    delivered_on: date
    channel: str


class AgendaOverdueOut(BaseModel):
    """A lead division's proposals with a running clock past its due date."""

    department: str
    proposals: list[str]


class AgendaAwaitingOut(BaseModel):
    """A ward's proposals waiting for its answer (`info_requested`)."""

    ward: str
    proposals: list[str]


class AgendaCommonNeedsOut(BaseModel):
    """Needs recorded in the period in two or more wards under one policy area."""

    policy_area: str
    wards: list[str]
    needs: list[str]


class WardMeetingAgendaOut(BaseModel):
    """What a ward meeting goes through for a period of JST dates."""

    since: date
    until: date
    ward: str | None
    decisions: list[AgendaDecisionOut]
    budget_outcomes: list[AgendaBudgetOut]
    feedback: list[AgendaFeedbackOut]
    overdue: list[AgendaOverdueOut]
    awaiting_ward: list[AgendaAwaitingOut]
    common_needs: list[AgendaCommonNeedsOut]


@router.get("/ward-meeting-agenda", response_model=WardMeetingAgendaOut,
            dependencies=[FreshView("ward_agenda", "clock_facts")],
            responses=problem_responses(401, 404, 422, 503))
def ward_meeting_agenda(
    c: ContainerDep, _: ActorDep,
    since: Annotated[date, Query(description="First JST date of the period")],
    until: Annotated[date, Query(description="Last JST date of the period (inclusive)")],
    ward: Annotated[str | None, Query(description="Only this ward's items")] = None,
) -> dict[str, Any]:
    """Decisions, budget outcomes and feedback of the period; overdue proposals and
    questions awaiting the ward as of the end of `until`; needs shared across wards."""
    if since > until:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("query", "since"),
            "msg": f"since ({since}) は until ({until}) 以前の日付にしてください"
                   " (since must not be after until)"}])
    if ward is not None and c.city.ward(ward) is None:
        raise NotFound(f"区 '{ward}' は登録されていません (unknown ward)")
    agenda = c.ward_agenda.agenda(since, until, ward, c.clock_facts, c.city, c.calendar,
                                  c.now())
    return {"since": since, "until": until, "ward": ward,
            "decisions": shown(agenda.decisions), "budget_outcomes": agenda.budget_outcomes,
            "feedback": agenda.feedback, "overdue": agenda.overdue,
            "awaiting_ward": agenda.awaiting_ward, "common_needs": agenda.common_needs}
