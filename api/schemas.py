"""Pydantic models shared by the routers: command envelopes, outputs, pages."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)
from pydantic_core import PydanticCustomError

from domain import values as limits
from domain.commands import Channel, Urgency

T = TypeVar("T")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                      r"([Zz]|[+-]\d{2}:?\d{2})")


def _only_iso_date(value: Any) -> Any:
    """Dates only as `YYYY-MM-DD` text: a number is not a date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_type", "a date as YYYY-MM-DD")


def _only_iso_instant(value: Any) -> Any:
    """Instants only as ISO 8601 text with an offset: a number is not an instant."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return value
    raise PydanticCustomError("datetime_type", "an ISO 8601 instant with its offset")


def _known_day(value: date) -> date:
    if not limits.FIRST_DAY <= value <= limits.LAST_DAY:
        raise PydanticCustomError("date_out_of_range", "a date from {min} to {max}",
                                  {"min": limits.FIRST_DAY.isoformat(),
                                   "max": limits.LAST_DAY.isoformat()})
    return value


def _known_year(value: datetime) -> datetime:
    if not limits.FIRST_YEAR <= value.year <= limits.LAST_YEAR:
        raise PydanticCustomError("date_out_of_range", "an instant from {min} to {max}",
                                  {"min": limits.FIRST_DAY.isoformat(),
                                   "max": limits.LAST_DAY.isoformat()})
    return value


def whole_number(value: Any) -> Any:
    """A JSON integer, 5.0 included; never a boolean or a text."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "a whole number")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "a number")
    return value


IsoDate = Annotated[date, BeforeValidator(_only_iso_date),
                    Field(json_schema_extra={"format": "date"})]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_only_iso_instant),
                       Field(json_schema_extra={"format": "date-time"})]
#: a date or instant in a query string: ISO text within the years the calendar knows
QueryDate = Annotated[date, AfterValidator(_known_day), BeforeValidator(_only_iso_date),
                      Field(json_schema_extra={"format": "date"})]
QueryInstant = Annotated[IsoInstant, AfterValidator(_known_year)]
Number = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
# JSON integers (JSON Schema counts 5.0 as one too), never a boolean or a text; the bounds
# sit inside the validator so that the schema states them.
Year = Annotated[int, Field(ge=limits.FIRST_YEAR, le=limits.LAST_YEAR),
                 BeforeValidator(whole_number)]
Yen = Annotated[int, Field(ge=0, le=limits.YEN_MAX), BeforeValidator(whole_number)]
Residents = Annotated[int, Field(ge=0, le=limits.RESIDENTS_MAX), BeforeValidator(whole_number)]
Satisfaction = Annotated[int, Field(ge=1, le=5), BeforeValidator(whole_number)]
Ref = Annotated[str, Field(min_length=1, max_length=limits.REF_MAX,
                           pattern=limits.REF_PATTERN)]
Refs = Annotated[list[Ref], Field(max_length=limits.LIST_MAX)]

#: a text that must show something (the domain also refuses zero-width-only text)
Text200 = Field(min_length=1, max_length=limits.TITLE_MAX, pattern=limits.TEXT_PATTERN)
Text10k = Field(min_length=1, max_length=limits.TEXT_MAX, pattern=limits.TEXT_PATTERN)
OptionalText = Field(default=None, max_length=limits.TEXT_MAX,
                     pattern=limits.OPTIONAL_TEXT_PATTERN)

__all__ = ["Channel", "Urgency"]


class Command(BaseModel):
    """Every command body may say when the act really happened."""

    model_config = ConfigDict(extra="forbid")

    effective_at: IsoInstant | None = Field(
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

    lat: Annotated[Number, Field(ge=-90, le=90)] | None = None
    lon: Annotated[Number, Field(ge=-180, le=180)] | None = None
    address: str | None = Field(default=None, max_length=limits.SHORT_TEXT_MAX,
                                pattern=limits.OPTIONAL_TEXT_PATTERN)


class FeedbackIn(Command):
    """Feedback to the originators."""

    message: str = Text10k
    channel: Channel
    delivered_on: IsoDate = Field(description="The day it was told (not in the future)")


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
