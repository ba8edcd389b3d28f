"""The department queue: what each head-office division has on its desk.

Per proposal the view keeps what the queue shows (title, ward, status, submission)
and the instants behind its clocks; per division the proposals on its desk, kept
as the proposal changes, so a read is one indexed query over the desk and the
time-dependent parts (the running clock, overdue, business days open) are
computed for those items only, against the lead division's targets as the city
file gives them at read time. Per need its urgency and the proposal it belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.calendar import BusinessCalendar
from domain.clocks import CLOCKS, ClockFacts, proposal_clock_facts, read_clock
from domain.need import URGENCIES, Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import FINAL, OPEN
from infra.sql import Tx
from projections.base import Event, View

#: a proposal without needs counts as of normal urgency
DEFAULT_URGENCY = "normal"


def urgency_rank(urgency: str) -> int:
    """low < normal < high < urgent (an unknown value counts as normal)."""
    return URGENCIES.index(urgency) if urgency in URGENCIES \
        else URGENCIES.index(DEFAULT_URGENCY)


@dataclass(frozen=True)
class QueuedProposal:
    """What the queue shows of a proposal."""

    id: UUID
    title: str
    ward: str
    status: str
    lead_department: str
    submitted_at: datetime


@dataclass(frozen=True)
class QueueItem:
    """One proposal on a division's desk, read at an instant."""

    proposal: QueuedProposal
    role: str  # lead | co
    urgency: str
    clock: str | None
    due_on: date | None
    business_days_open: int
    overdue: bool


def desk_roles(proposal: Proposal) -> dict[str, str]:
    """The divisions whose desk the proposal is on, with their role: the lead while it is
    open or final without feedback yet, each co-division while it is open."""
    if proposal.submitted_at is None:
        return {}
    roles: dict[str, str] = {}
    if proposal.status in OPEN:
        roles.update((d, "co") for d in proposal.co_departments)
    if proposal.status in OPEN or (proposal.status in FINAL
                                   and not proposal.closed_for_originators):
        roles[proposal.lead_department] = "lead"
    return roles


def _encode_clocks(proposal: Proposal) -> str:
    def at(instant: datetime | None) -> str | None:
        return instant.isoformat() if instant is not None else None
    return json.dumps({name: [at(f.started_at), at(f.stopped_at),
                              [[at(a), at(b)] for a, b in f.pauses], at(f.cancelled_at)]
                       for name, f in proposal_clock_facts(proposal).items()})


def _decode_clocks(text: str) -> dict[str, ClockFacts]:
    def at(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value is not None else None
    facts: dict[str, ClockFacts] = {}
    for name, (started, stopped, pauses, cancelled) in json.loads(text).items():
        facts[name] = ClockFacts(name, at(started), at(stopped),
                                 tuple((datetime.fromisoformat(a), at(b)) for a, b in pauses),
                                 at(cancelled))
    return facts


_CASE_UPSERT = (
    "INSERT INTO department_queue_cases (id, title, ward, status, lead_department,"
    " submitted_at, clocks, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET title = excluded.title, ward = excluded.ward,"
    " status = excluded.status, lead_department = excluded.lead_department,"
    " submitted_at = excluded.submitted_at, clocks = excluded.clocks,"
    " state = excluded.state")
#: proposals per statement when taking a batch's proposals off their desks
_CHUNK = 500


class DepartmentQueue(View):
    """Proposal state per proposal, the divisions' desks, and urgency per need."""

    name = "department_queue"
    #: 2: what the queue shows and the desks kept as columns and rows (tables renamed)
    version = 2
    tables = ("department_queue_cases", "department_queue_desks", "department_queue_needs")
    schema = (
        "CREATE TABLE IF NOT EXISTS department_queue_cases ("
        " id TEXT PRIMARY KEY, title TEXT NOT NULL, ward TEXT NOT NULL,"
        " status TEXT NOT NULL, lead_department TEXT NOT NULL, submitted_at TEXT,"
        " clocks TEXT NOT NULL, state TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS department_queue_desks ("
        " department TEXT NOT NULL, proposal TEXT NOT NULL, role TEXT NOT NULL,"
        " PRIMARY KEY (department, proposal))",
        "CREATE INDEX IF NOT EXISTS department_queue_desks_proposal"
        " ON department_queue_desks (proposal)",
        "CREATE TABLE IF NOT EXISTS department_queue_needs ("
        " id TEXT PRIMARY KEY, proposal TEXT, urgency TEXT NOT NULL, state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS department_queue_needs_proposal"
        " ON department_queue_needs (proposal)",
    )

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            self._proposal(tx, event)
        elif isinstance(event, Need.Event):
            self._need(tx, event)

    def _proposal(self, tx: Tx, event: Proposal.Event) -> None:
        proposal = self.evolve(tx, "department_queue_cases", Proposal, event)
        if proposal is None:
            return
        pid = str(proposal.id)
        self.upsert(tx, _CASE_UPSERT, pid, lambda: (
            pid, proposal.title, proposal.ward, proposal.status, proposal.lead_department,
            proposal.submitted_at.isoformat() if proposal.submitted_at is not None else None,
            _encode_clocks(proposal), self.encode_state(proposal)))
        self.mark(tx, "desks", pid, proposal, self._desks)

    @staticmethod
    def _desks(tx: Tx, proposals: dict[str, Proposal]) -> None:
        """Put each proposal on the desks it is on as the batch leaves it, and no other."""
        ids = sorted(proposals)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            tx.execute("DELETE FROM department_queue_desks WHERE proposal IN"
                       f" ({', '.join('?' for _ in chunk)})", chunk)
        for pid in ids:
            for department, role in desk_roles(proposals[pid]).items():
                tx.execute("INSERT INTO department_queue_desks (department, proposal, role)"
                           " VALUES (?, ?, ?)", (department, pid, role))

    def _need(self, tx: Tx, event: Need.Event) -> None:
        need = self.evolve(tx, "department_queue_needs", Need, event)
        if need is None:
            return
        self.upsert(tx,
            "INSERT INTO department_queue_needs (id, proposal, urgency, state)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET proposal = excluded.proposal,"
            " urgency = excluded.urgency, state = excluded.state", need.id,
            lambda: (str(need.id), str(need.proposal) if need.proposal is not None else None,
                     need.urgency, self.encode_state(need)),
        )

    # ── reading ───────────────────────────────────────────────────────────

    def queue(self, department: str, city: CityData, calendar: BusinessCalendar,
              now: datetime) -> list[QueueItem]:
        """The division's queue at `now`, in order (due date, urgency, submission)."""
        with self.db.transaction() as tx:
            tx.execute(
                "SELECT c.id, c.title, c.ward, c.status, c.lead_department, c.submitted_at,"
                " c.clocks, d.role FROM department_queue_desks d"
                " JOIN department_queue_cases c ON c.id = d.proposal"
                " WHERE d.department = ?", (department,))
            rows = tx.fetchall()
            urgencies: dict[str, str] = {}
            if rows:
                tx.execute(
                    "SELECT n.proposal, n.urgency FROM department_queue_desks d"
                    " JOIN department_queue_needs n ON n.proposal = d.proposal"
                    " WHERE d.department = ?", (department,))
                for proposal_id, urgency in tx.fetchall():
                    current = urgencies.get(proposal_id)
                    if current is None or urgency_rank(urgency) > urgency_rank(current):
                        urgencies[proposal_id] = urgency
        items = [self._item(row, urgencies, city, calendar, now) for row in rows]
        items.sort(key=lambda i: (i.due_on is None, i.due_on or date.max,
                                  -urgency_rank(i.urgency), i.proposal.submitted_at,
                                  str(i.proposal.id)))
        return items

    @staticmethod
    def _item(row: tuple[Any, ...], urgencies: dict[str, str], city: CityData,
              calendar: BusinessCalendar, now: datetime) -> QueueItem:
        pid, title, ward, status, lead, submitted_at, clocks, role = row
        proposal = QueuedProposal(UUID(pid), title, ward, status, lead,
                                  datetime.fromisoformat(submitted_at))
        targets = city.targets_for(lead)
        facts = _decode_clocks(clocks)
        readings = [read_clock(facts[name], getattr(targets, name), calendar, now)
                    for name in CLOCKS]
        running = [r for r in readings if r.state == "running" and r.due_on is not None]
        clock = min(running, key=lambda r: r.due_on or date.max) if running else None
        due_on = clock.due_on if clock is not None else None
        return QueueItem(
            proposal=proposal, role=role,
            urgency=urgencies.get(pid, DEFAULT_URGENCY),
            clock=clock.name if clock is not None else None,
            due_on=due_on,
            business_days_open=calendar.elapsed(proposal.submitted_at, now),
            overdue=due_on is not None and calendar.has_ended(due_on, now),
        )
