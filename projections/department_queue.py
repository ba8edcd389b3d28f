"""The department queue: what each head-office division has on its desk.

Per proposal the view keeps its state (with the instants its clocks need) and
per need its urgency and the proposal it belongs to. Which proposals are on a
division's desk is read from the stored rows; the time-dependent parts (the
running clock, overdue, business days open) are computed when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import BusinessCalendar
from domain.clocks import proposal_clocks
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
class QueueItem:
    """One proposal on a division's desk, read at an instant."""

    proposal: Proposal
    role: str  # lead | co
    urgency: str
    clock: str | None
    due_on: date | None
    business_days_open: int
    overdue: bool


class DepartmentQueue(View):
    """Proposal state per proposal and urgency per need, for the divisions' queues."""

    name = "department_queue"
    tables = ("department_queue_proposals", "department_queue_needs")
    schema = (
        "CREATE TABLE IF NOT EXISTS department_queue_proposals ("
        " id TEXT PRIMARY KEY, lead_department TEXT NOT NULL,"
        " co_departments TEXT NOT NULL, status TEXT NOT NULL, submitted INTEGER NOT NULL,"
        " closed_for_originators INTEGER NOT NULL, state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS department_queue_proposals_lead"
        " ON department_queue_proposals (lead_department)",
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
        proposal = self.evolve(tx, "department_queue_proposals", Proposal, event)
        if proposal is None:
            return
        self.upsert(tx,
            "INSERT INTO department_queue_proposals (id, lead_department, co_departments,"
            " status, submitted, closed_for_originators, state) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET lead_department = excluded.lead_department,"
            " co_departments = excluded.co_departments, status = excluded.status,"
            " submitted = excluded.submitted,"
            " closed_for_originators = excluded.closed_for_originators,"
            " state = excluded.state", proposal.id,
            lambda: (str(proposal.id), proposal.lead_department,
                     "|" + "|".join(proposal.co_departments) + "|", proposal.status,
                     int(proposal.submitted_at is not None),
                     int(bool(proposal.closed_for_originators)), self.encode_state(proposal)),
        )

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
        open_ = sorted(OPEN)
        final = sorted(FINAL)
        marks = ", ".join("?" for _ in open_)
        final_marks = ", ".join("?" for _ in final)
        with self.db.transaction() as tx:
            tx.execute(
                "SELECT state, lead_department FROM department_queue_proposals"
                " WHERE submitted = 1 AND ("
                f" (lead_department = ? AND (status IN ({marks})"
                f"   OR (status IN ({final_marks}) AND closed_for_originators = 0)))"
                f" OR (lead_department <> ? AND co_departments LIKE ? AND status IN ({marks})))",
                [department, *open_, *final, department, f"%|{department}|%", *open_],
            )
            rows = tx.fetchall()
            proposals = [self.decode_state(Proposal, r[0]) for r in rows]
            urgencies: dict[str, str] = {}
            if proposals:
                tx.execute(
                    "SELECT proposal, urgency FROM department_queue_needs WHERE proposal IN"
                    f" ({', '.join('?' for _ in proposals)})",
                    [str(p.id) for p in proposals])
                for proposal_id, urgency in tx.fetchall():
                    current = urgencies.get(proposal_id)
                    if current is None or urgency_rank(urgency) > urgency_rank(current):
                        urgencies[proposal_id] = urgency
        items: list[QueueItem] = []
        for aggregate, (_, lead) in zip(proposals, rows, strict=True):
            proposal: Proposal = aggregate
            readings = proposal_clocks(proposal, city.targets_for(proposal.lead_department),
                                       calendar, now)
            running = [r for r in readings.values()
                       if r.state == "running" and r.due_on is not None]
            clock = min(running, key=lambda r: r.due_on or date.max) if running else None
            due_on = clock.due_on if clock is not None else None
            assert proposal.submitted_at is not None
            items.append(QueueItem(
                proposal=proposal,
                role="lead" if lead == department else "co",
                urgency=urgencies.get(str(proposal.id), DEFAULT_URGENCY),
                clock=clock.name if clock is not None else None,
                due_on=due_on,
                business_days_open=calendar.elapsed(proposal.submitted_at, now),
                overdue=due_on is not None and calendar.has_ended(due_on, now),
            ))
        items.sort(key=lambda i: (i.due_on is None, i.due_on or date.max,
                                  -urgency_rank(i.urgency), i.proposal.submitted_at,
                                  str(i.proposal.id)))
        return items
