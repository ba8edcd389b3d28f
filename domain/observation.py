"""Indicator observations (指標の観測値): survey results and activity counts, in the log.

Each observation is its own small aggregate, created once and never changed: a
correction is a later observation of the same indicator, fiscal year and place, and
what was known as of an instant is the latest one recorded (by `effective_at`) by then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain import values as v
from domain.base import TrackedAggregate
from domain.commands import Command, Ref
from domain.states import Transition


class Observation(TrackedAggregate):
    """One value of a declared indicator for a fiscal year and a place."""

    transitions: ClassVar[dict[str, Transition]] = {}
    label_ja: ClassVar[str] = "指標の観測値"

    @event("Recorded")
    def __init__(
        self,
        id: UUID,  # the library takes the aggregate id by this name
        city: str,
        indicator: str,
        fiscal_year: int,
        ward: str | None,
        school_district: str | None,
        value: float,
        source: str,
        effective_at: datetime,
        actor: str,
    ) -> None:
        self.city = city
        self.indicator = indicator
        self.fiscal_year = fiscal_year
        self.ward = ward
        self.school_district = school_district
        self.value = value
        self.source = source
        self.recorded_by = actor
        self._moved(effective_at, "recorded")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordObservation(Command):
    """A monitor records an indicator's value for a fiscal year (and a ward or district)."""

    action: ClassVar[str] = "record"
    indicator: str
    fiscal_year: int
    value: Any
    source: str
    ward: str | None = None
    school_district: str | None = None

    def check(self) -> None:
        self._set("indicator", v.ref(self.indicator, "indicator"))
        self._set("fiscal_year", v.whole(self.fiscal_year, "fiscal_year", v.FIRST_YEAR,
                                         v.LAST_YEAR - 1))
        self._set("value", v.finite(self.value, "value", -1e13, 1e13))
        self._set("source", v.text(self.source, "source", v.SHORT_TEXT_MAX))
        self._set("ward", v.optional_ref(self.ward, "ward"))
        self._set("school_district", v.optional_ref(self.school_district, "school_district"))

    def references(self) -> Iterable[Ref]:
        yield "indicator", self.indicator, "indicator"
        if self.ward is not None:
            yield "ward", self.ward, "ward"
        if self.school_district is not None:
            yield "school_district", self.school_district, "school_district"
