"""Recording indicator observations: the monitoring half of the application's use cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.base import Outcome
from domain.calendar import date_jst
from domain.errors import InvalidCommand, NotFound, NotPermitted
from domain.indicators import Indicator, Scope
from domain.observation import Observation, RecordObservation
from domain.permissions import OBSERVATION_RULES, Actor, permits
from domain.permissions import Scope as Where
from domain.reference import CityData


def fiscal_year_of(instant: datetime) -> int:
    """The Japanese fiscal year (1 April – 31 March, JST) of an instant."""
    day = date_jst(instant)
    return day.year if day.month >= 4 else day.year - 1


class ObservationActs:
    """Observations of declared indicators (mixed into `Tsunagi`)."""

    if TYPE_CHECKING:  # provided by the application
        city: CityData
        repository: Any
        clock: Callable[[], datetime]

        def position(self) -> int: ...
        def _admit(self, command: Any) -> None: ...
        def _when(self, effective_at: datetime | None, aggregate: Any = None) -> datetime: ...
        def _save(self, primary: Any, *others: Any) -> Outcome[Any]: ...

    def get_observation(self, observation_id: UUID) -> Observation:
        """The observation, or `NotFound`."""
        found = self.repository.get(observation_id) if observation_id in self.repository \
            else None
        if not isinstance(found, Observation):
            raise NotFound("observation", str(observation_id))
        return found

    def record_observation(self, actor: Actor, command: RecordObservation,
                           observation_id: UUID | None = None) -> Outcome[Observation]:
        """Record one value of a declared indicator; a retry meets the first record."""
        observation_id = observation_id or Observation.create_id()
        if observation_id in self.repository:
            return Outcome(self.get_observation(observation_id), self.position())
        if not permits(actor, OBSERVATION_RULES["record"], Where(ward=command.ward or "")):
            raise NotPermitted("record-observation", OBSERVATION_RULES["record"],
                               actor.role.value)
        self._admit(command)
        indicator = self.city.indicator(command.indicator)
        assert indicator is not None  # admitted
        value = indicator.check_value(command.value, "value")
        ward, district = self._place(indicator, command)
        when = self._when(command.effective_at)
        if command.fiscal_year > fiscal_year_of(when):
            raise InvalidCommand("fiscal_year", "future_fiscal_year",
                                 value=command.fiscal_year, current=fiscal_year_of(when))
        observation = Observation(id=observation_id, city=self.city.id,
                                  indicator=indicator.id, fiscal_year=command.fiscal_year,
                                  ward=ward, school_district=district, value=value,
                                  source=command.source, effective_at=when, actor=actor.id)
        return self._save(observation)

    def _place(self, indicator: Indicator,
               command: RecordObservation) -> tuple[str | None, str | None]:
        """The ward and district as the indicator's scope asks (a district implies its ward)."""
        if indicator.scope == Scope.CITY:
            if command.ward or command.school_district:
                raise InvalidCommand("ward", "scope_is_city")
            return None, None
        if indicator.scope == Scope.WARD:
            if not command.ward or command.school_district:
                raise InvalidCommand("ward", "scope_needs_ward")
            return command.ward, None
        district = self.city.school_district(command.school_district or "")
        if district is None:
            raise InvalidCommand("school_district", "scope_needs_district")
        if command.ward is not None and command.ward != district.ward:
            raise InvalidCommand("school_district", "district_not_in_ward",
                                 district=district.id, ward=command.ward)
        return district.ward, district.id
