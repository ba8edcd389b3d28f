"""`/api/v1/indicators/{id}/observations`: a monitor's periodic values of a declared indicator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, Field

from api.deps import ActorDep, ContainerDep, CreationIdDep, FreshView
from api.metrics import AsOf, resolve_as_of
from api.render import RoundedJSONResponse, shown
from api.schemas import Command, Number, Ref, problem_responses, whole_number
from domain import values as limits
from domain.errors import NotFound
from domain.indicators import Indicator
from domain.observation import Observation, RecordObservation
from projections.indicator_observations import ObservationRow, latest_per_place
from wiring.bootstrap import Container

router = APIRouter(prefix="/indicators", tags=["indicators"])


class ObservationIn(Command):
    """One value of the indicator for a fiscal year, where its scope says."""

    fiscal_year: Annotated[int, Field(ge=limits.FIRST_YEAR, le=limits.LAST_YEAR - 1,
                                      description="年度 (April–March), e.g. 2026"),
                           BeforeValidator(whole_number)]
    ward: Ref | None = Field(default=None, description="for indicators measured per ward")
    school_district: Ref | None = Field(
        default=None, description="for indicators measured per school district")
    value: Number = Field(description="in the indicator's unit (see GET /indicators)")
    source: str = Field(min_length=1, max_length=limits.SHORT_TEXT_MAX,
                        pattern=limits.TEXT_PATTERN,
                        description="where the value comes from (survey, council minutes…)")

    def command(self, indicator: str) -> RecordObservation:
        """The domain's command."""
        return RecordObservation(indicator=indicator, **self.model_dump())


class ObservationOut(BaseModel):
    """One observation as recorded."""

    id: str
    indicator: str
    fiscal_year: int
    ward: str | None
    school_district: str | None
    value: float
    source: str
    effective_at: datetime
    recorded_at: datetime


class ObservationsOut(BaseModel):
    """What was known of an indicator as of an instant."""

    indicator: str
    as_of: datetime | None
    items: list[ObservationOut]
    latest: list[ObservationOut]


def indicator_or_404(c: Container, indicator_id: str) -> Indicator:
    """The declared indicator, or a 404 problem."""
    indicator = c.city.indicator(indicator_id)
    if indicator is None:
        raise NotFound("indicator", indicator_id)
    return indicator


def _out(o: Observation | ObservationRow) -> dict[str, Any]:
    return {"id": str(o.id), "indicator": o.indicator, "fiscal_year": o.fiscal_year,
            "ward": o.ward, "school_district": o.school_district, "value": o.value,
            "source": o.source, "effective_at": shown(o.effective_at),
            "recorded_at": shown(o.recorded_at)}


@router.post("/{indicator_id}/observations", status_code=201, response_model=ObservationOut,
             responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
def record_observation(indicator_id: str, body: ObservationIn, c: ContainerDep,
                       actor: ActorDep, observation_id: CreationIdDep) -> JSONResponse:
    """Record a survey result or activity count of a declared indicator (monitor, admin)."""
    indicator = indicator_or_404(c, indicator_id)
    outcome = c.app.record_observation(actor, body.command(indicator.id), observation_id)
    c.follower.poke()
    observation = outcome.aggregate
    out = ObservationOut.model_validate(_out(observation)).model_dump(mode="json")
    return RoundedJSONResponse(
        {**out, "position": outcome.position}, status_code=201,
        headers={"Location": f"/api/v1/indicators/{indicator.id}/observations/"
                             f"{observation.id}"})


@router.get("/{indicator_id}/observations", response_model=ObservationsOut,
            dependencies=[FreshView("indicator_observations")],
            responses=problem_responses(401, 404, 422, 503))
def observations(indicator_id: str, c: ContainerDep, _: ActorDep, as_of: AsOf = None,
                 fiscal_year: Annotated[int | None, Query(
                     ge=limits.FIRST_YEAR, le=limits.LAST_YEAR)] = None) -> dict[str, Any]:
    """The history of an indicator's observations, oldest first, as known at `as_of`.

    `latest` holds, per fiscal year and place, the value that stood at `as_of`.
    """
    indicator = indicator_or_404(c, indicator_id)
    instant = resolve_as_of(c, as_of) if as_of is not None else None
    rows = c.indicator_observations.history(indicator.id, instant, fiscal_year)
    return {"indicator": indicator.id, "as_of": shown(instant) if instant else None,
            "items": [_out(r) for r in rows],
            "latest": [_out(r) for r in latest_per_place(rows)]}


@router.get("/{indicator_id}/observations/{observation_id}", response_model=ObservationOut,
            responses=problem_responses(401, 404, 422))
def observation(indicator_id: str, observation_id: UUID, c: ContainerDep,
                _: ActorDep) -> dict[str, Any]:
    """One observation, read from the log."""
    indicator = indicator_or_404(c, indicator_id)
    found = c.app.get_observation(observation_id)
    if found.indicator != indicator.id:
        raise NotFound("observation", str(observation_id))
    return _out(found)
