"""The department queue: what each head-office division has on its desk.

Per proposal the view keeps what the queue shows (title, ward, status, submission);
per division the proposals on its desk, each row with the queue's sort keys: the due
date of the running clock due first, the highest urgency of the proposal's needs and
the submission. A running clock's due date does not depend on the instant it is read
at (start + target + paused business days), so the keys are computed when the events
are applied, against the lead division's targets as the city file gives them then,
and a page is one range scan of an index. Only what does change with time (business
days open, overdue) is computed at read time, for the page's items. Per need its
urgency and the proposal it belongs to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

from domain.calendar import BusinessCalendar, default_calendar
from domain.clocks import CLOCKS, proposal_clock_facts, read_clock
from domain.need import URGENCIES, Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import FINAL, OPEN
from infra.city import load_city
from infra.settings import Settings
from infra.sql import Database, Tx
from projections.base import Event, InvalidCursor, View, encode_cursor
from projections.clock_facts import at_text

#: a proposal without needs counts as of normal urgency
DEFAULT_URGENCY = "normal"
#: the due key of an item without a running clock: after every date
NO_DUE = "9999-12-31"


def urgency_rank(urgency: str) -> int:
    """low < normal < high < urgent (an unknown value counts as normal)."""
    return URGENCIES.index(urgency) if urgency in URGENCIES \
        else URGENCIES.index(DEFAULT_URGENCY)


def urgency_order(urgency: str) -> int:
    """The urgency as a sort key: 0 for urgent, the most urgent first."""
    return len(URGENCIES) - 1 - urgency_rank(urgency)


DEFAULT_ORDER = urgency_order(DEFAULT_URGENCY)


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


def running_clock(proposal: Proposal, city: CityData,
                  calendar: BusinessCalendar) -> tuple[str | None, date | None]:
    """The running (not paused, stopped or cancelled) clock due first, and its due date.

    Read at the proposal's latest clock fact: at any later instant the same clocks run,
    due the same day (only business days and lateness move with time).
    """
    facts = proposal_clock_facts(proposal)
    instants = [i for f in facts.values()
                for i in (f.started_at, f.stopped_at, f.cancelled_at,
                          *(at for pause in f.pauses for at in pause)) if i is not None]
    if not instants:
        return None, None
    targets = city.targets_for(proposal.lead_department)
    readings = [read_clock(facts[name], getattr(targets, name), calendar, max(instants))
                for name in CLOCKS]
    running = [r for r in readings if r.state == "running" and r.due_on is not None]
    if not running:
        return None, None
    clock = min(running, key=lambda r: r.due_on or date.max)
    return clock.name, clock.due_on


# ── the keyset cursor: the sort keys of a page's last item ──────────────────

_DUE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00", re.ASCII)


def decode_queue_cursor(cursor: str) -> tuple[str, int, str, str]:
    """(due key, urgency order, submission, proposal id) of a queue cursor; `InvalidCursor`
    for anything a queue page did not hand out (another list's cursor included)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != 4:
        raise InvalidCursor()
    due, order, submitted, proposal = values
    if not (isinstance(due, str) and _DUE.fullmatch(due)
            and type(order) is int and 0 <= order < len(URGENCIES)
            and isinstance(submitted, str) and _AT.fullmatch(submitted)
            and isinstance(proposal, str) and _is_uuid(proposal)):
        raise InvalidCursor()
    return due, order, submitted, proposal


def _is_uuid(text: str) -> bool:
    try:
        return str(UUID(text)) == text
    except ValueError:
        return False


_CASE_UPSERT = (
    "INSERT INTO department_queue_cards (id, title, ward, status, lead_department,"
    " submitted_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET title = excluded.title, ward = excluded.ward,"
    " status = excluded.status, lead_department = excluded.lead_department,"
    " submitted_at = excluded.submitted_at, state = excluded.state")
_DESK_INSERT = (
    "INSERT INTO department_queue_entries (department, proposal, role, due_key,"
    " urgency_order, submitted_at, clock) VALUES (?, ?, ?, ?, ?, ?, ?)")
_ORDER = "d.due_key, d.urgency_order, d.submitted_at, d.proposal"
#: proposals per statement when taking a batch's proposals off their desks
_CHUNK = 500


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[start:start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


def _marks(ids: Sequence[str]) -> str:
    return ", ".join("?" for _ in ids)


class DepartmentQueue(View):
    """Proposal state per proposal, the divisions' desks with their order, urgency per need."""

    name = "department_queue"
    #: 2: what the queue shows and the desks kept as columns and rows (tables renamed)
    #: 3: the desks' rows keep the sort keys (due date, urgency, submission), read by
    #: keyset pages; new tables, as `CREATE TABLE IF NOT EXISTS` keeps a version 2 table's
    #: columns (the version 2 tables `department_queue_cases` and `_desks` are left unused)
    version = 3
    tables = ("department_queue_cards", "department_queue_entries", "department_queue_needs")
    schema = (
        "CREATE TABLE IF NOT EXISTS department_queue_cards ("
        " id TEXT PRIMARY KEY, title TEXT NOT NULL, ward TEXT NOT NULL,"
        " status TEXT NOT NULL, lead_department TEXT NOT NULL, submitted_at TEXT,"
        " state TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS department_queue_entries ("
        " department TEXT NOT NULL, proposal TEXT NOT NULL, role TEXT NOT NULL,"
        " due_key TEXT NOT NULL, urgency_order INTEGER NOT NULL,"
        " submitted_at TEXT NOT NULL, clock TEXT, PRIMARY KEY (department, proposal))",
        "CREATE INDEX IF NOT EXISTS department_queue_entries_proposal"
        " ON department_queue_entries (proposal)",
        "CREATE INDEX IF NOT EXISTS department_queue_entries_order ON department_queue_entries"
        " (department, due_key, urgency_order, submitted_at, proposal)",
        "CREATE TABLE IF NOT EXISTS department_queue_needs ("
        " id TEXT PRIMARY KEY, proposal TEXT, urgency TEXT NOT NULL, state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS department_queue_needs_proposal"
        " ON department_queue_needs (proposal)",
    )

    def __init__(self, db: Database, transcoder: Transcoder, city: CityData | None = None,
                 calendar: BusinessCalendar | None = None) -> None:
        # `View(db, transcoder)` as every view (a restart, a rebuild): the configured city
        self.city = city if city is not None else load_city(Settings().city)
        self.calendar = calendar if calendar is not None else default_calendar()
        super().__init__(db, transcoder)

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            self._proposal(tx, event)
        elif isinstance(event, Need.Event):
            self._need(tx, event)

    def _proposal(self, tx: Tx, event: Proposal.Event) -> None:
        proposal = self.evolve(tx, "department_queue_cards", Proposal, event)
        if proposal is None:
            return
        pid = str(proposal.id)
        self.upsert(tx, _CASE_UPSERT, pid, lambda: (
            pid, proposal.title, proposal.ward, proposal.status, proposal.lead_department,
            proposal.submitted_at.isoformat() if proposal.submitted_at is not None else None,
            self.encode_state(proposal)))
        self.mark(tx, "desks", pid, proposal, self._desks)

    def _desks(self, tx: Tx, proposals: dict[str, Proposal]) -> None:
        """Put each proposal on the desks it is on as the batch leaves it, and no other,
        with its sort keys."""
        ids = sorted(proposals)
        orders = self._urgency_orders(tx, ids)
        for chunk in _chunks(ids):
            tx.execute(f"DELETE FROM department_queue_entries WHERE proposal IN ({_marks(chunk)})",
                       chunk)
        for pid in ids:
            proposal = proposals[pid]
            roles = desk_roles(proposal)
            if not roles:
                continue
            assert proposal.submitted_at is not None  # only a submitted one is on a desk
            clock, due_on = running_clock(proposal, self.city, self.calendar)
            keys = (due_on.isoformat() if due_on is not None else NO_DUE,
                    orders.get(pid, DEFAULT_ORDER), at_text(proposal.submitted_at), clock)
            for department, role in roles.items():
                tx.execute(_DESK_INSERT, (department, pid, role, *keys))

    def _urgencies(self, tx: Tx, proposals: dict[str, None]) -> None:
        """The urgency of each proposal on its desks, from its needs as the batch leaves them."""
        ids = sorted(proposals)
        orders = self._urgency_orders(tx, ids)
        by_order: dict[int, list[str]] = {}
        for pid in ids:
            by_order.setdefault(orders.get(pid, DEFAULT_ORDER), []).append(pid)
        for order, pids in sorted(by_order.items()):
            for chunk in _chunks(pids):
                tx.execute("UPDATE department_queue_entries SET urgency_order = ?"
                           f" WHERE proposal IN ({_marks(chunk)})", [order, *chunk])

    @staticmethod
    def _urgency_orders(tx: Tx, ids: Sequence[str]) -> dict[str, int]:
        """The most urgent of each proposal's needs, as a sort key (absent: no needs)."""
        orders: dict[str, int] = {}
        for chunk in _chunks(ids):
            # names the needs' table: their rows held back in the batch are written first
            tx.execute("SELECT proposal, urgency FROM department_queue_needs"
                       f" WHERE proposal IN ({_marks(chunk)})", chunk)
            for pid, urgency in tx.fetchall():
                order = urgency_order(urgency)
                if order < orders.get(pid, len(URGENCIES)):
                    orders[pid] = order
        return orders

    def _need(self, tx: Tx, event: Need.Event) -> None:
        before = self._need_before(tx, event)  # read before `evolve` changes the kept state
        need = self.evolve(tx, "department_queue_needs", Need, event)
        if need is None:
            return
        after = (str(need.proposal) if need.proposal is not None else None, need.urgency)
        self.upsert(tx,
            "INSERT INTO department_queue_needs (id, proposal, urgency, state)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET proposal = excluded.proposal,"
            " urgency = excluded.urgency, state = excluded.state", need.id,
            lambda: (str(need.id), str(need.proposal) if need.proposal is not None else None,
                     need.urgency, self.encode_state(need)),
        )
        if before != after:  # joined, left or changed urgency: its proposals' urgency
            for pid in {before[0] if before else None, after[0]} - {None}:
                assert pid is not None
                self.mark(tx, "urgency", pid, None, self._urgencies)

    def _need_before(self, tx: Tx, event: Need.Event) -> tuple[str | None, str] | None:
        """(proposal, urgency) of the need before `event`; None if the view has not got it."""
        if event.originator_version == 1:
            return None
        id_ = str(event.originator_id)
        found, need = self.load_kept(tx, "department_queue_needs", Need, id_)
        if found:
            return None if need is None else (
                str(need.proposal) if need.proposal is not None else None, need.urgency)
        row = self.read_unkept(tx, "department_queue_needs",
                               "SELECT proposal, urgency FROM department_queue_needs"
                               " WHERE id = ?", (id_,))
        return None if row is None else (row[0], str(row[1]))

    # ── reading ───────────────────────────────────────────────────────────

    def queue(self, department: str, calendar: BusinessCalendar, now: datetime,
              limit: int = 50, cursor: str | None = None
              ) -> tuple[list[QueueItem], str | None]:
        """A page of the division's queue at `now`, in order (due date, none last; urgency,
        urgent first; submission; proposal id), and the next page's cursor (None: the last)."""
        where, params = "d.department = ?", list[Any]([department])
        if cursor:
            where += (" AND (d.due_key, d.urgency_order, d.submitted_at, d.proposal)"
                      " > (?, ?, ?, ?)")
            params.extend(decode_queue_cursor(cursor))
        with self.db.transaction() as tx:
            tx.execute(
                f"SELECT {_ORDER}, d.role, d.clock, c.title, c.ward, c.status,"
                " c.lead_department, c.submitted_at FROM department_queue_entries d"
                " JOIN department_queue_cards c ON c.id = d.proposal"
                f" WHERE {where} ORDER BY {_ORDER} LIMIT ?", [*params, limit + 1])
            rows = tx.fetchall()
        next_cursor = encode_cursor(*rows[limit - 1][:4]) if len(rows) > limit else None
        return [self._item(row, calendar, now) for row in rows[:limit]], next_cursor

    @staticmethod
    def _item(row: tuple[Any, ...], calendar: BusinessCalendar, now: datetime) -> QueueItem:
        due_key, order, _, pid, role, clock, title, ward, status, lead, submitted_at = row
        proposal = QueuedProposal(UUID(pid), title, ward, status, lead,
                                  datetime.fromisoformat(submitted_at))
        due_on = None if due_key == NO_DUE else date.fromisoformat(due_key)
        return QueueItem(
            proposal=proposal, role=role,
            urgency=URGENCIES[len(URGENCIES) - 1 - int(order)],
            clock=clock, due_on=due_on,
            business_days_open=calendar.elapsed(proposal.submitted_at, now),
            overdue=due_on is not None and calendar.has_ended(due_on, now),
        )
