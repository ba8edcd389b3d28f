"""`/api/v1/views/…`: read models for the divisions' desks and the wards' feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api import queries
from api.deps import ActorDep, ContainerDep, FreshView
from api.render import shown
from api.schemas import QueryDate, problem_responses
from domain.errors import InvalidCommand
from projections.ward_feedback import FeedbackItem

router = APIRouter(prefix="/views", tags=["views"])


Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]


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


@router.get("/department-queue/{department}", response_model=DepartmentQueueOut,
            dependencies=[FreshView("department_queue")],
            responses=problem_responses(401, 404, 422, 503))
def department_queue(department: str, c: ContainerDep, _: ActorDep, limit: Limit = 50,
                     cursor: Cursor = None) -> dict[str, Any]:
    """The division's open proposals (lead or co) and final ones still owing feedback,
    a page at a time in queue order."""
    queue = queries.department_queue(c, department, limit, cursor)
    return {
        "department": department,
        "as_of": shown(queue.as_of),
        "items": [{"proposal": str(i.proposal.id), "title": i.proposal.title,
                   "ward": i.proposal.ward, "status": i.proposal.status, "role": i.role,
                   "urgency": i.urgency, "submitted_at": shown(i.proposal.submitted_at),
                   "clock": i.clock, "due_on": i.due_on,
                   "business_days_open": i.business_days_open, "overdue": i.overdue}
                  for i in queue.items],
        "next_cursor": queue.next_cursor,
    }


def _feedback_page(c: ContainerDep, column: str, value: str, limit: int,
                   cursor: str | None) -> dict[str, Any]:
    page = queries.feedback_page(c, column, value, limit, cursor)
    return {column: value, "items": [_feedback_out(i) for i in page.items],
            "next_cursor": page.next_cursor}


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
                  cursor: Cursor = None) -> dict[str, Any]:
    """Every need recorded in the ward, newest first, with the latest feedback."""
    return _feedback_page(c, "ward", ward, limit, cursor)


@router.get("/office-feedback/{office}", response_model=OfficeFeedbackOut,
            dependencies=[FreshView("ward_feedback")],
            responses=problem_responses(401, 404, 422, 503))
def office_feedback(office: str, c: ContainerDep, _: ActorDep, limit: Limit = 50,
                    cursor: Cursor = None) -> dict[str, Any]:
    """Every need recorded at the office, newest first, with the latest feedback."""
    return _feedback_page(c, "office", office, limit, cursor)


class AgendaDecisionOut(BaseModel):
    """A decision taken in the period."""

    proposal: str
    title: str
    ward: str
    decision: str
    decided_at: datetime


class AgendaBudgetOut(BaseModel):
    """A budget outcome recorded in the period (0 yen when not budgeted)."""

    proposal: str
    title: str
    ward: str
    outcome: str
    amount_jpy: int | None


class AgendaFeedbackOut(BaseModel):
    """Feedback recorded in the period."""

    proposal: str
    title: str
    ward: str
    delivered_on: date
    channel: str


class AgendaOverdueOut(BaseModel):
    """A lead division's proposals with a running clock past its due date."""

    department: str
    proposals: list[str]
    titles: list[str]  # of `proposals`, in the same order


class AgendaAwaitingOut(BaseModel):
    """A ward's proposals waiting for its answer (`info_requested`)."""

    ward: str
    proposals: list[str]
    titles: list[str]  # of `proposals`, in the same order


class AgendaCommonNeedsOut(BaseModel):
    """Needs recorded in the period in two or more wards under one policy area."""

    policy_area: str
    wards: list[str]
    needs: list[str]
    titles: list[str]  # of `needs`, in the same order


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
    since: Annotated[QueryDate, Query(description="First JST date of the period")],
    until: Annotated[QueryDate, Query(description="Last JST date of the period (inclusive)")],
    ward: Annotated[str | None, Query(max_length=100,
                                      description="Only this ward's items")] = None,
) -> dict[str, Any]:
    """Decisions, budget outcomes and feedback of the period; overdue proposals and
    questions awaiting the ward as of the end of `until`; needs shared across wards."""
    if since > until:
        raise InvalidCommand("since", "range_reversed", start=since.isoformat(),
                             end=until.isoformat())
    agenda = queries.meeting_agenda(c, since, until, ward)

    def acts(entries: list[queries.AgendaEntry]) -> list[dict[str, Any]]:
        return [{"proposal": e.proposal, "title": e.title, "ward": e.ward, **shown(e.detail)}
                for e in entries]

    return {"since": since, "until": until, "ward": ward,
            "decisions": acts(agenda.decisions), "budget_outcomes": acts(agenda.budget_outcomes),
            "feedback": acts(agenda.feedback),
            "overdue": [{"department": g.key, "proposals": g.ids, "titles": g.titles}
                        for g in agenda.overdue],
            "awaiting_ward": [{"ward": g.key, "proposals": g.ids, "titles": g.titles}
                              for g in agenda.awaiting_ward],
            "common_needs": [{"policy_area": g.key, "wards": g.wards,
                              "needs": g.ids, "titles": g.titles}
                             for g in agenda.common_needs]}
