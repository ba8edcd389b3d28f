"""Needs per school district (校区別のニーズ): who is heard, and who never is.

Counts the needs observed in a period per school district, with a rate per 1,000
residents where the city's file gives the district's residents. Every district of
the city appears, a silent one with 0, so it stands out as much as a vocal one.
Definitions: docs/metrics.md §9.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.reference import CityData


@dataclass(frozen=True)
class DistrictVoice:
    """One school district's needs in the period."""

    school_district: str
    ward: str
    needs: int
    residents: int | None
    per_1000: float | None  # needs per 1,000 residents; None when residents are unknown
    silent: bool  # no need heard in the period


@dataclass(frozen=True)
class DistrictVoices:
    """Every district of the city (or of one ward), in file order."""

    since: date
    until: date
    ward: str | None
    rows: tuple[DistrictVoice, ...]
    without_district: int  # needs of the period that name no school district
    residents_note: str | None


def district_voices(city: CityData, needs: Iterable[tuple[str, str | None, date]],
                    since: date, until: date, ward: str | None = None) -> DistrictVoices:
    """From (ward, school district, observed_on) of each need, the counts per district."""
    counts: Counter[str] = Counter()
    without = 0
    for need_ward, district, observed_on in needs:
        if not since <= observed_on <= until or (ward is not None and need_ward != ward):
            continue
        if district is None:
            without += 1
        else:
            counts[district] += 1
    districts = city.school_districts_in(ward) if ward else city.school_districts
    rows = tuple(
        DistrictVoice(d.id, d.ward, counts[d.id], d.residents,
                      counts[d.id] * 1000 / d.residents if d.residents else None,
                      counts[d.id] == 0)
        for d in districts)
    return DistrictVoices(since, until, ward, rows, without, city.residents_note)
