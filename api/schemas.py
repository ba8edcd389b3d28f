"""Pydantic models shared by the routers: command envelopes, outputs, pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")

Text200 = Field(min_length=1, max_length=200)
Text10k = Field(min_length=1, max_length=10_000)
Channel = Literal["council_meeting", "notice_board", "letter", "web", "visit", "other"]
Urgency = Literal["low", "normal", "high", "urgent"]


class Command(BaseModel):
    """Every command body may say when the act really happened."""

    model_config = ConfigDict(extra="forbid")

    effective_at: AwareDatetime | None = Field(
        default=None,
        description="When the act really happened (not in the future, not before the"
                    " record's previous act); defaults to now.",
    )

    def command_fields(self) -> dict[str, Any]:
        """The command's own fields, without `effective_at`."""
        return self.model_dump(exclude={"effective_at"})


class Page(BaseModel, Generic[T]):
    """A page of a collection."""

    items: list[T]
    next_cursor: str | None = None


class Location(BaseModel):
    """Where a need was observed."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)


class FeedbackIn(Command):
    """Feedback to the originators."""

    message: str = Text10k
    channel: Channel
    delivered_on: date


class FeedbackOut(BaseModel):
    """Feedback as given."""

    message: str
    channel: str
    delivered_on: date
    effective_at: datetime


class HistoryItem(BaseModel):
    """One event of a record's history."""

    type: str
    version: int
    effective_at: datetime | None
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


class NeedOut(BaseModel):
    """A need as it now stands."""

    id: str
    version: int
    status: str
    ward: str
    office: str
    school_district: str | None
    source: str
    policy_area: str
    title: str
    description: str
    observed_on: date
    residents_affected: int | None
    urgency: str
    location: dict[str, Any] | None
    plan_goals: list[str]
    reporter: dict[str, str] | None = Field(
        default=None, description="Only for the need's office, its ward's staff and mayor,"
                                  " and admins; each read is recorded.")
    recorded_at: datetime
    effective_at: datetime
    proposal: str | None
    merged_into: str | None
    note: str | None
    feedback: list[FeedbackOut]
    allowed_actions: list[str]
    position: int | None = Field(default=None, description="Log position of the last event"
                                                           " a command wrote")


class ClockOut(BaseModel):
    """One clock of a proposal, as of the response."""

    state: Literal["not_started", "running", "paused", "stopped", "cancelled"]
    started_at: datetime | None
    stopped_at: datetime | None
    business_days: int | None
    target: int
    due_on: date | None
    late: bool | None


class BudgetOut(BaseModel):
    """Money asked and granted, in yen."""

    requested_jpy: int | None
    budgeted_jpy: int | None
    fiscal_year: int | None


class ProposalOut(BaseModel):
    """A proposal as it now stands."""

    id: str
    version: int
    status: str
    ward: str
    title: str
    summary: str
    needs: list[str]
    lead_department: str
    co_departments: list[str]
    policy_area: str
    estimated_cost_jpy: int | None
    plan_goals: list[str]
    recorded_at: datetime
    effective_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decision: str | None
    decision_reason: str | None
    deferred_to_fiscal_year: int | None
    budget: BudgetOut
    transfers: list[dict[str, Any]]
    info_requests: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    closed_for_originators: bool
    merged_into: str | None
    merged_from: list[str]
    clocks: dict[str, ClockOut]
    allowed_actions: list[str]
    position: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    current_status: str | None = None
    allowed_actions: list[str] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an endpoint may answer."""
    described = {
        400: "Malformed JSON", 401: "No token or a bad one", 403: "Role or scope does not allow it",
        404: "Not found", 409: "Not allowed in the current status, or lost a race",
        412: "If-Match names a stale version", 413: "Body over 1 MiB",
        422: "Invalid input (validation, reference, effective_at, Idempotency-Key reuse)",
        503: "View or store not ready; retry after Retry-After seconds",
    }
    return {code: {"model": Problem, "description": described[code],
                   "content": {"application/problem+json": {}}} for code in codes}
