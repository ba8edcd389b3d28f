"""What every view shares: its own tables, where it is, batches in one transaction.

A view's change and where it is in its source (the log position, or Kafka offsets
and positions per key) are written in the same transaction, and an event already
applied is skipped, so a crash or a replay neither loses nor doubles an event. A
handler that raises stops its own view at that event, and no other.
"""

from __future__ import annotations

import base64
import json
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Transcoder

from domain.application import event_type_name
from domain.errors import InvalidCommand
from infra.sql import Database, Tx
from projections import tracking
from projections.batch import BatchTx, FlushFailed, transient
from projections.kept import KeptStates, share_encodings
from projections.tracking import ViewFailure

Event = DomainEventProtocol[Any]
R = TypeVar("R")
#: tries at creating a view's tables when several processes start at once
SCHEMA_ATTEMPTS = 5
#: events per batch when rebuilding: a state is read, decoded and written once per batch
#: (measured at 100k events on SQLite: 18 % less CPU than the follower's 500)
REBUILD_BATCH_SIZE = 5000


class HandlerFailed(Exception):
    """A view's handler raised on one event: the view stops before it."""

    def __init__(self, view: str, position: int, event: Event, cause: Exception) -> None:
        super().__init__(f"{view} failed on {event_type_name(event)} at position {position}:"
                         f" {type(cause).__name__}: {cause}")
        self.view = view
        self.position = position
        self.event = event
        self.cause = cause


class ViewStopped(Exception):
    """Raised after a view applied what came before a failing event and recorded why."""

    def __init__(self, failure: ViewFailure, reached: int) -> None:
        super().__init__(f"view {failure.view} stopped at position {failure.position}"
                         f" ({failure.event_type}): {failure.error}")
        self.failure = failure
        #: the log position the view reflects now (the one before the failing event)
        self.reached = reached


@dataclass(frozen=True)
class Delivery:
    """One event as it arrives from Kafka: where it was read, its key and log position."""

    topic: str
    partition: int
    offset: int
    key: str
    position: int
    event: Event | None  # None for a message that could not be read: skipped, not applied


__all__ = ["Delivery", "Event", "HandlerFailed", "View", "ViewStopped", "transient"]


#: the last batch's subject ids: every view of a follower is handed the same batch
_last_ids: tuple[Sequence[tuple[int, Event]], frozenset[str]] | None = None


def _subject_ids(batch: Sequence[tuple[int, Event]]) -> frozenset[str]:
    """The ids of the aggregates a batch's events are of, computed once per batch
    (some may be of events a view has applied already: their states are read for nothing)."""
    global _last_ids
    last = _last_ids
    if last is not None and last[0] is batch:
        return last[1]
    ids = frozenset(str(e.originator_id) for _, e in batch)
    _last_ids = (batch, ids)
    return ids


class View(KeptStates, ABC):
    """A projection of the log: pure handlers from event to view change, plus its store.

    `version` names what the handlers make of the log: raise it when they change what
    they store, and a view that finds rows of another version empties itself at start
    and rebuilds from the start of its source (the log, or the Kafka topic).
    """

    name: str
    schema: tuple[str, ...]
    tables: tuple[str, ...]
    #: the version of the handlers' output; stored with the view (`view_versions`)
    version: int = 1

    def __init__(self, db: Database, transcoder: Transcoder) -> None:
        self.db = db
        self.transcoder = transcoder
        #: the log position of the event being handled (for views that keep it)
        self.handling_position = 0
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                db.execute_script(tracking.SCHEMA + self.schema)
                self._check_version()
                break
            except Exception:
                # Processes starting together (a consumer group, API workers) race on
                # `CREATE … IF NOT EXISTS` on PostgreSQL: a deadlock or a duplicate type.
                if attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _check_version(self) -> None:
        """Empty the view if its rows were made by another version of its handlers."""
        with self.db.transaction() as tx:
            # Locked: of processes starting together, the first empties, the others see
            # the new version and keep what it may have applied since.
            stored = tracking.lock_version(tx, self.db, self.name)
            if stored != self.version:
                self._empty(tx)
                tracking.store_version(tx, self.name, self.version)

    def position(self) -> int:
        """The log position this view reflects (0 when empty)."""
        with self.db.transaction() as tx:
            tx.execute("SELECT position FROM view_tracking WHERE view = ?", (self.name,))
            row = tx.fetchone()
            return int(row[0]) if row else 0

    def failure(self) -> ViewFailure | None:
        """Why the view stopped, if it did (as recorded by any process)."""
        return tracking.failures(self.db).get(self.name)

    # ── fed by the log ────────────────────────────────────────────────────

    def process(self, batch: Sequence[tuple[int, Event]]) -> int:
        """Apply a batch of (position, event) in one transaction; returns the new position.

        If a handler raises, nothing of the batch stays; then what came before the failing
        event is applied, the failure is recorded, and `ViewStopped` is raised.
        """
        try:
            return self._in_batch(lambda tx: self._apply_log(tx, batch))
        except HandlerFailed as failed:
            with self.db.transaction() as raw:
                before = [(p, e) for p, e in batch if p < failed.position]
                reached = self._apply_log(BatchTx(raw, buffered=False), before)
                failure = tracking.record_failure(raw, self._failure(failed))
            raise ViewStopped(failure, reached) from failed.cause

    def _in_batch(self, apply: Callable[[BatchTx], R]) -> R:
        """`apply` in one transaction, its writes held back to the end (`BatchTx`).

        If writing them fails, the batch is applied again without holding anything back,
        so that the failure is blamed on the event that caused it.
        """
        try:
            with self.db.transaction() as raw:
                tx = BatchTx(raw)
                result = apply(tx)
                tx.finish()
                return result
        except FlushFailed:
            with self.db.transaction() as raw:
                return apply(BatchTx(raw, buffered=False))

    def _apply_log(self, tx: BatchTx, batch: Sequence[tuple[int, Event]]) -> int:
        current = tracking.lock_log_position(tx.tx, self.db, self.name)
        tx.ids.update(_subject_ids(batch))
        share_encodings(batch)
        for position, event in batch:
            if position <= current:
                continue  # already applied: at-least-once delivery, exactly-once effect
            self._handle(tx, position, event)
            current = position
        tracking.store_log_position(tx.tx, self.name, current)
        tracking.clear_failure_before(tx.tx, self.name, current)
        return current

    # ── fed by Kafka ──────────────────────────────────────────────────────

    def process_deliveries(self, topic: str, partition: int,
                           deliveries: Sequence[Delivery]) -> int:
        """Apply one partition's deliveries in one transaction with the offset and key positions.

        Returns the next offset to read. A handler's failure is handled as in `process`.
        """
        try:
            return self._in_batch(
                lambda tx: self._apply_deliveries(tx, topic, partition, deliveries))
        except HandlerFailed as failed:
            with self.db.transaction() as raw:
                failing = next(d.offset for d in deliveries if d.event is failed.event)
                before = [d for d in deliveries if d.offset < failing]
                self._apply_deliveries(BatchTx(raw, buffered=False), topic, partition, before)
                failure = tracking.record_failure(raw, self._failure(failed))
            raise ViewStopped(failure, failed.position - 1) from failed.cause

    def _apply_deliveries(self, tx: BatchTx, topic: str, partition: int,
                          deliveries: Sequence[Delivery]) -> int:
        raw = tx.tx
        next_offset = tracking.lock_offset(raw, self.db, self.name, topic, partition)
        fresh = [d for d in deliveries if d.offset >= next_offset]
        if not fresh:
            return next_offset
        known = tracking.key_positions(raw, self.name, {d.key for d in fresh if d.event})
        tx.ids.update(str(d.event.originator_id) for d in fresh if d.event is not None)
        share_encodings(deliveries)
        reached: dict[str, int] = {}
        applied: set[int] = set()
        for delivery in fresh:
            if delivery.event is not None and delivery.position > known[delivery.key]:
                self._handle(tx, delivery.position, delivery.event)
                known[delivery.key] = reached[delivery.key] = delivery.position
                applied.add(delivery.position)
            # else: a copy published again by a restarted relay, or a message we cannot read
            next_offset = delivery.offset + 1
        tracking.store_key_positions(raw, self.name, reached)
        tracking.store_offset(raw, self.name, topic, partition, next_offset)
        tracking.clear_failure_among(raw, self.name, applied)
        return next_offset

    # ── one event ─────────────────────────────────────────────────────────

    def _handle(self, tx: Tx, position: int, event: Event) -> None:
        self.handling_position = position
        try:
            self.handle(tx, event)
        except FlushFailed:
            raise  # an earlier event's row: `_in_batch` applies the batch again to tell which
        except Exception as exc:
            if transient(exc):
                raise  # the database is away: the whole batch is retried later
            raise HandlerFailed(self.name, position, event, exc) from exc

    def _failure(self, failed: HandlerFailed) -> ViewFailure:
        cause = failed.cause
        return ViewFailure(self.name, failed.position, event_type_name(failed.event),
                           f"{type(cause).__name__}: {cause}", datetime.now(UTC))

    @abstractmethod
    def handle(self, tx: Tx, event: Event) -> None:
        """Apply one event's change to the view's tables.

        Inside `process` the `tx` is a `BatchTx`: its `INSERT`s are written when the
        batch ends, and any other statement first writes those of the tables it names.
        """

    def drop(self) -> None:
        """Empty the view and forget where it was, so it rebuilds from the start."""
        with self.db.transaction() as tx:
            self._empty(tx)

    def _empty(self, tx: Tx) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")
        tracking.forget(tx, self.name)

    def newest_first(self, select: str, table: str, order: str, where: list[str],
                     params: list[Any], limit: int,
                     cursor: str | None) -> tuple[list[tuple[Any, ...]], str | None]:
        """A keyset page, newest `order` first (ties by id), and the next page's cursor.

        `select` lists the columns after `id, <order>`, which every row starts with.
        """
        where, params = list(where), list(params)
        if cursor:
            last_order, last_id = decode_cursor(cursor)
            where.append(f"({order} < ? OR ({order} = ? AND id < ?))")
            params.extend([last_order, last_order, last_id])
        sql = f"SELECT id, {order}, {select} FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} DESC, id DESC LIMIT ?"
        params.append(limit + 1)
        with self.db.transaction() as tx:
            tx.execute(sql, params)
            rows = tx.fetchall()
        next_cursor = encode_cursor(rows[limit - 1][1], rows[limit - 1][0]) \
            if len(rows) > limit else None
        return rows[:limit], next_cursor


def search_text(*parts: str | None) -> str:
    """NFKC-normalised, case-folded text for substring search (全角/半角 alike)."""
    return unicodedata.normalize("NFKC", " ".join(p for p in parts if p)).casefold()


def like_pattern(query: str) -> str:
    """A LIKE pattern matching `query` as a substring, with wildcards escaped."""
    escaped = search_text(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class InvalidCursor(InvalidCommand):
    """A `cursor` that no page of ours handed out."""

    code = "invalid-cursor"

    def __init__(self) -> None:
        super().__init__("cursor", "invalid_cursor")


def encode_cursor(*values: Any) -> str:
    """An opaque keyset cursor."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """The values inside a cursor; `InvalidCursor` when it was not one of ours."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != 2 \
            or not all(isinstance(v, str) for v in values):
        raise InvalidCursor()
    return values
