"""The needs list: every need with its current state, filterable and searchable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.need import Need
from infra.sql import Tx
from projections.base import Event, View, like_pattern, search_text


@dataclass
class NeedFilter:
    """Filters of `GET /needs`; a list means any of its values."""

    ward: list[str] = field(default_factory=list)
    office: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    policy_area: list[str] = field(default_factory=list)
    q: str | None = None
    observed_from: date | None = None
    observed_to: date | None = None


class NeedsIndex(View):
    """One row per need: filter columns, search text and the need's state."""

    name = "needs_index"
    tables = ("needs_index",)
    schema = (
        "CREATE TABLE IF NOT EXISTS needs_index ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, office TEXT NOT NULL,"
        " status TEXT NOT NULL, policy_area TEXT NOT NULL, observed_on TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL, search TEXT NOT NULL, state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS needs_index_order ON needs_index (recorded_at, id)",
    )

    def handle(self, tx: Tx, event: Event) -> None:
        if not isinstance(event, Need.Event):
            return
        need = self.evolve(tx, "needs_index", Need, event)
        if need is None:
            return
        self.upsert(tx,
            "INSERT INTO needs_index (id, ward, office, status, policy_area, observed_on,"
            " recorded_at, search, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET ward = excluded.ward, office = excluded.office,"
            " status = excluded.status, policy_area = excluded.policy_area,"
            " observed_on = excluded.observed_on, search = excluded.search,"
            " state = excluded.state", need.id,
            lambda: (str(need.id), need.ward, need.office, need.status, need.policy_area,
                     need.observed_on.isoformat(), need.recorded_at.isoformat(),
                     search_text(need.title, need.description), self.encode_state(need)),
        )

    def list(self, flt: NeedFilter, limit: int, cursor: str | None) -> tuple[list[Need],
                                                                              str | None]:
        """A page of needs, newest first, and the cursor of the next page."""
        where: list[str] = []
        params: list[Any] = []
        for column in ("ward", "office", "status", "policy_area"):
            values = getattr(flt, column)
            if values:
                where.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if flt.q:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(like_pattern(flt.q))
        if flt.observed_from:
            where.append("observed_on >= ?")
            params.append(flt.observed_from.isoformat())
        if flt.observed_to:
            where.append("observed_on <= ?")
            params.append(flt.observed_to.isoformat())
        rows, next_cursor = self.newest_first("state", "needs_index", "recorded_at", where,
                                              params, limit, cursor)
        items = [self.decode_state(Need, r[2]) for r in rows]
        return items, next_cursor
