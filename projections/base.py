"""What every view shares: its own tables, a tracked position, batches in one transaction.

A view's change and the log position it reflects are written in the same
transaction, and an event at or below the stored position is skipped, so a
crash or a replay neither loses nor doubles an event.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, TypeVar

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Transcoder

from domain.base import TrackedAggregate
from domain.errors import InvalidCommand
from infra.sql import Database, Tx

TRACKING_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS view_tracking (view TEXT PRIMARY KEY, position BIGINT NOT NULL)",
)

Event = DomainEventProtocol[Any]
A = TypeVar("A", bound=TrackedAggregate)


class View(ABC):
    """A projection of the log: pure handlers from event to view change, plus its store."""

    name: str
    schema: tuple[str, ...]
    tables: tuple[str, ...]

    def __init__(self, db: Database, transcoder: Transcoder) -> None:
        self.db = db
        self.transcoder = transcoder
        db.execute_script(TRACKING_SCHEMA + self.schema)

    def position(self) -> int:
        """The log position this view reflects (0 when empty)."""
        with self.db.transaction() as tx:
            return self._position(tx)

    def _position(self, tx: Tx) -> int:
        tx.execute("SELECT position FROM view_tracking WHERE view = ?", (self.name,))
        row = tx.fetchone()
        return int(row[0]) if row else 0

    def process(self, batch: Sequence[tuple[int, Event]]) -> int:
        """Apply a batch of (position, event) in one transaction; returns the new position."""
        with self.db.transaction() as tx:
            # Hold the view's tracking row, so that two followers (several server
            # processes on PostgreSQL) take turns instead of both applying a batch.
            tx.execute("INSERT INTO view_tracking (view, position) VALUES (?, 0)"
                       " ON CONFLICT (view) DO NOTHING", (self.name,))
            tx.execute("SELECT position FROM view_tracking WHERE view = ?"
                       + self.db.lock_rows, (self.name,))
            row = tx.fetchone()
            current = int(row[0]) if row else 0
            for position, event in batch:
                if position <= current:
                    continue  # already applied: at-least-once delivery, exactly-once effect
                self.handle(tx, event)
                current = position
            tx.execute("INSERT INTO view_tracking (view, position) VALUES (?, ?)"
                       " ON CONFLICT (view) DO UPDATE SET position = excluded.position",
                       (self.name, current))
        return current

    @abstractmethod
    def handle(self, tx: Tx, event: Event) -> None:
        """Apply one event's change to the view's tables."""

    def drop(self) -> None:
        """Empty the view and forget its position, so it rebuilds from the start."""
        with self.db.transaction() as tx:
            for table in self.tables:
                tx.execute(f"DELETE FROM {table}")
            tx.execute("DELETE FROM view_tracking WHERE view = ?", (self.name,))

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

    # ── helpers for views that keep an aggregate's state ──────────────────

    def encode_state(self, aggregate: TrackedAggregate) -> str:
        """The aggregate's attributes as JSON text (dates and UUIDs kept typed)."""
        return self.transcoder.encode(aggregate.state()).decode()

    def evolve(self, tx: Tx, table: str, cls: type[A], event: Event) -> A | None:
        """The aggregate kept in `table`, with `event` applied (None if it was never seen).

        The domain's own event handlers do the work, so a view never re-implements a rule.
        """
        aggregate: A | None = None
        if event.originator_version > 1:  # not the creation event
            tx.execute(f"SELECT state FROM {table} WHERE id = ?", (str(event.originator_id),))
            row = tx.fetchone()
            if row is None:
                return None  # its creation predates this view's data; a rebuild restores it
            aggregate = self.decode_state(cls, row[0])
        result = event.mutate(aggregate)  # type: ignore[attr-defined]
        assert isinstance(result, cls)
        return result

    def decode_state(self, cls: type[A], text: str) -> A:
        """Rebuild an aggregate object from stored state, without replaying its events."""
        aggregate = object.__new__(cls)
        aggregate.__dict__.update(self.transcoder.decode(text.encode()))
        aggregate.__dict__["_pending_events"] = []
        return aggregate


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
