"""Indicator observations: one row per observation, read as history or as of an instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.observation import Observation
from infra.sql import Tx
from projections.base import Event, View


@dataclass(frozen=True)
class ObservationRow:
    """One observation as the view keeps it."""

    id: UUID
    indicator: str
    fiscal_year: int
    ward: str | None
    school_district: str | None
    value: float
    source: str
    effective_at: datetime
    recorded_at: datetime


def latest_per_place(rows: list[ObservationRow]) -> list[ObservationRow]:
    """For each fiscal year and place, the observation that supersedes the others.

    The latest `effective_at` wins (the later record breaks ties), so a correction
    recorded later replaces the earlier value without erasing it from the history.
    """
    best: dict[tuple[int, str | None, str | None], ObservationRow] = {}
    for row in rows:
        key = (row.fiscal_year, row.ward, row.school_district)
        if key not in best or (row.effective_at, row.recorded_at) > (
                best[key].effective_at, best[key].recorded_at):
            best[key] = row
    return sorted(best.values(), key=lambda r: (r.fiscal_year, r.ward or "",
                                                r.school_district or ""))


class IndicatorObservations(View):
    """Every observation of every indicator, with the instant it took effect."""

    name = "indicator_observations"
    tables = ("indicator_observations",)
    schema = (
        "CREATE TABLE IF NOT EXISTS indicator_observations ("
        " id TEXT PRIMARY KEY, indicator TEXT NOT NULL, fiscal_year INTEGER NOT NULL,"
        " ward TEXT, school_district TEXT, value DOUBLE PRECISION NOT NULL,"
        " source TEXT NOT NULL, effective_at TEXT NOT NULL, recorded_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS indicator_observations_by_indicator"
        " ON indicator_observations (indicator, effective_at)",
    )

    def handle(self, tx: Tx, event: Event) -> None:
        if not isinstance(event, Observation.Event):
            return
        observation = self.evolve(tx, "indicator_observations", Observation, event)
        if observation is None:
            return
        # Observations are created once and never changed: a replay meets the same row.
        tx.execute(
            "INSERT INTO indicator_observations (id, indicator, fiscal_year, ward,"
            " school_district, value, source, effective_at, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (str(observation.id), observation.indicator, observation.fiscal_year,
             observation.ward, observation.school_district, observation.value,
             observation.source, _utc(observation.effective_at),
             _utc(observation.recorded_at)),
        )

    def history(self, indicator: str, as_of: datetime | None = None,
                fiscal_year: int | None = None) -> list[ObservationRow]:
        """The indicator's observations known as of `as_of` (all when None), oldest first."""
        where: list[str] = ["indicator = ?"]
        params: list[Any] = [indicator]
        if as_of is not None:
            where.append("effective_at <= ?")
            params.append(_utc(as_of))
        if fiscal_year is not None:
            where.append("fiscal_year = ?")
            params.append(fiscal_year)
        with self.db.transaction() as tx:
            tx.execute("SELECT id, indicator, fiscal_year, ward, school_district, value, source,"
                       " effective_at, recorded_at FROM indicator_observations"
                       f" WHERE {' AND '.join(where)} ORDER BY effective_at, recorded_at",
                       params)
            rows = tx.fetchall()
        return [_row(r) for r in rows]


def _utc(instant: datetime) -> str:
    # One offset for every stored instant, so text order is time order.
    return instant.astimezone(UTC).isoformat()


def _row(r: tuple[Any, ...]) -> ObservationRow:
    return ObservationRow(UUID(r[0]), r[1], int(r[2]), r[3], r[4], float(r[5]), r[6],
                          datetime.fromisoformat(r[7]), datetime.fromisoformat(r[8]))
