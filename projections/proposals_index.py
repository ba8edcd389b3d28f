"""The proposals list: every proposal with its current state, filterable and searchable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.calendar import date_jst
from domain.proposal import Proposal
from infra.sql import Tx
from projections.base import Event, View, like_pattern, search_text


def fiscal_year(instant: datetime) -> int:
    """The Japanese fiscal year (1 April – 31 March, JST) of an instant."""
    day = date_jst(instant)
    return day.year if day.month >= 4 else day.year - 1


@dataclass
class ProposalFilter:
    """Filters of `GET /proposals`; a list means any of its values."""

    ward: list[str] = field(default_factory=list)
    lead_department: list[str] = field(default_factory=list)
    department: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    policy_area: list[str] = field(default_factory=list)
    fiscal_year: list[int] = field(default_factory=list)
    q: str | None = None


class ProposalsIndex(View):
    """One row per proposal: filter columns, search text and the proposal's state."""

    name = "proposals_index"
    tables = ("proposals_index",)
    schema = (
        "CREATE TABLE IF NOT EXISTS proposals_index ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, lead_department TEXT NOT NULL,"
        " departments TEXT NOT NULL, status TEXT NOT NULL, policy_area TEXT NOT NULL,"
        " fiscal_year INTEGER, created_at TEXT NOT NULL, search TEXT NOT NULL,"
        " state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS proposals_index_order ON proposals_index (created_at, id)",
    )

    def handle(self, tx: Tx, event: Event) -> None:
        if not isinstance(event, Proposal.Event):
            return
        proposal = self.evolve(tx, "proposals_index", Proposal, event)
        if proposal is None:
            return
        self.upsert(tx,
            "INSERT INTO proposals_index (id, ward, lead_department, departments, status,"
            " policy_area, fiscal_year, created_at, search, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET lead_department = excluded.lead_department,"
            " departments = excluded.departments, status = excluded.status,"
            " policy_area = excluded.policy_area, fiscal_year = excluded.fiscal_year,"
            " search = excluded.search, state = excluded.state", proposal.id,
            lambda: self._row(proposal))

    def _row(self, proposal: Proposal) -> tuple[Any, ...]:
        departments = "|" + "|".join([proposal.lead_department, *proposal.co_departments]) + "|"
        fy = fiscal_year(proposal.submitted_at) if proposal.submitted_at else None
        return (str(proposal.id), proposal.ward, proposal.lead_department, departments,
                proposal.status, proposal.policy_area, fy, proposal.recorded_at.isoformat(),
                search_text(proposal.title, proposal.summary), self.encode_state(proposal))

    def list(self, flt: ProposalFilter, limit: int,
             cursor: str | None) -> tuple[list[Proposal], str | None]:
        """A page of proposals, newest first, and the cursor of the next page."""
        where: list[str] = []
        params: list[Any] = []
        for column in ("ward", "lead_department", "status", "policy_area", "fiscal_year"):
            values = getattr(flt, column)
            if values:
                where.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if flt.department:
            where.append("(" + " OR ".join("departments LIKE ?" for _ in flt.department) + ")")
            params.extend(f"%|{d}|%" for d in flt.department)
        if flt.q:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(like_pattern(flt.q))
        rows, next_cursor = self.newest_first("state", "proposals_index", "created_at",
                                              where, params, limit, cursor)
        items = [self.decode_state(Proposal, r[2]) for r in rows]
        return items, next_cursor
