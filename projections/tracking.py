"""Where each view is, per source, and why a view stopped.

A view fed by the in-process follower tracks one log position (`view_tracking`).
A view fed from Kafka tracks, per (topic, partition), the next offset to read
(`view_offsets`) and, per key `<city>:<ward>`, the highest log position applied
(`view_key_positions`): a relay restarted after a crash may publish an event again
at a new offset, and the key's position is what tells the copy from a new event.
Both are written in the transaction that changes the view.

The library's own `Tracking` (application name, notification id) records one
totally ordered upstream per row and refuses a position that does not grow; it
cannot say "offset 41 of partition 3" nor "position 812 of key kumamoto:kita",
so these small tables stand beside it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from infra.sql import Database, Tx

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS view_tracking (view TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS view_offsets (view TEXT NOT NULL, topic TEXT NOT NULL,"
    " kafka_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
    " PRIMARY KEY (view, topic, kafka_partition))",
    "CREATE TABLE IF NOT EXISTS view_key_positions (view TEXT NOT NULL, event_key TEXT NOT NULL,"
    " position BIGINT NOT NULL, PRIMARY KEY (view, event_key))",
    "CREATE TABLE IF NOT EXISTS view_failures (view TEXT PRIMARY KEY, position BIGINT NOT NULL,"
    " event_type TEXT NOT NULL, error TEXT NOT NULL, failed_at TEXT NOT NULL,"
    " attempts BIGINT NOT NULL)",
    # a table of its own rather than a column: `ALTER TABLE … ADD COLUMN IF NOT EXISTS`
    # is not SQLite's, and processes starting together must not race on a migration
    "CREATE TABLE IF NOT EXISTS view_versions (view TEXT PRIMARY KEY, version BIGINT NOT NULL)",
)

#: a stored error message is cut to this many characters (a traceback belongs in the log)
ERROR_CHARS = 500


@dataclass(frozen=True)
class ViewFailure:
    """Why a view stopped: the event it could not apply, and the error."""

    view: str
    position: int
    event_type: str
    error: str
    failed_at: datetime
    attempts: int = 1


def record_failure(tx: Tx, failure: ViewFailure) -> ViewFailure:
    """Store the failure (counting attempts on the same event); returns what is stored."""
    tx.execute("SELECT position, attempts FROM view_failures WHERE view = ?", (failure.view,))
    row = tx.fetchone()
    attempts = int(row[1]) + 1 if row and int(row[0]) == failure.position else 1
    tx.execute(
        "INSERT INTO view_failures (view, position, event_type, error, failed_at, attempts)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (view) DO UPDATE SET"
        " position = excluded.position, event_type = excluded.event_type,"
        " error = excluded.error, failed_at = excluded.failed_at, attempts = excluded.attempts",
        (failure.view, failure.position, failure.event_type, failure.error[:ERROR_CHARS],
         failure.failed_at.astimezone(UTC).isoformat(), attempts))
    return ViewFailure(failure.view, failure.position, failure.event_type,
                       failure.error[:ERROR_CHARS], failure.failed_at, attempts)


def clear_failure_before(tx: Tx, view: str, position: int) -> None:
    """Forget a failure the view has now applied past (after a fix and a restart)."""
    tx.execute("DELETE FROM view_failures WHERE view = ? AND position <= ?", (view, position))


def clear_failure_among(tx: Tx, view: str, applied: set[int]) -> None:
    """Forget a failure whose event the view has now applied (Kafka: keys come unordered)."""
    tx.execute("SELECT position FROM view_failures WHERE view = ?", (view,))
    row = tx.fetchone()
    if row is not None and int(row[0]) in applied:
        tx.execute("DELETE FROM view_failures WHERE view = ?", (view,))


def failures(db: Database) -> dict[str, ViewFailure]:
    """Every recorded failure, by view."""
    with db.transaction() as tx:
        tx.execute("SELECT view, position, event_type, error, failed_at, attempts"
                   " FROM view_failures")
        rows = tx.fetchall()
    return {r[0]: ViewFailure(r[0], int(r[1]), r[2], r[3], datetime.fromisoformat(r[4]),
                              int(r[5])) for r in rows}


def lock_log_position(tx: Tx, db: Database, view: str) -> int:
    """The view's log position, its row held until the transaction ends."""
    # Holding the row makes two followers (several server processes on PostgreSQL)
    # take turns instead of both applying a batch.
    tx.execute("INSERT INTO view_tracking (view, position) VALUES (?, 0)"
               " ON CONFLICT (view) DO NOTHING", (view,))
    tx.execute("SELECT position FROM view_tracking WHERE view = ?" + db.lock_rows, (view,))
    row = tx.fetchone()
    return int(row[0]) if row else 0


def store_log_position(tx: Tx, view: str, position: int) -> None:
    """Record the log position the view now reflects."""
    tx.execute("INSERT INTO view_tracking (view, position) VALUES (?, ?)"
               " ON CONFLICT (view) DO UPDATE SET position = excluded.position",
               (view, position))


def lock_offset(tx: Tx, db: Database, view: str, topic: str, partition: int) -> int:
    """The next offset the view reads on a partition, its row held until the end."""
    # Held, so that a consumer that lost the partition in a rebalance and one that got it
    # take turns: the second then sees the first one's offsets and skips what it applied.
    tx.execute("INSERT INTO view_offsets (view, topic, kafka_partition, next_offset)"
               " VALUES (?, ?, ?, 0) ON CONFLICT (view, topic, kafka_partition) DO NOTHING",
               (view, topic, partition))
    tx.execute("SELECT next_offset FROM view_offsets WHERE view = ? AND topic = ?"
               " AND kafka_partition = ?" + db.lock_rows, (view, topic, partition))
    row = tx.fetchone()
    return int(row[0]) if row else 0


def store_offset(tx: Tx, view: str, topic: str, partition: int, next_offset: int) -> None:
    """Record the next offset to read on a partition."""
    tx.execute("UPDATE view_offsets SET next_offset = ? WHERE view = ? AND topic = ?"
               " AND kafka_partition = ?", (next_offset, view, topic, partition))


def offsets(db: Database, view: str, topic: str) -> dict[int, int]:
    """The next offset per partition the view has reached on a topic."""
    with db.transaction() as tx:
        tx.execute("SELECT kafka_partition, next_offset FROM view_offsets"
                   " WHERE view = ? AND topic = ?", (view, topic))
        return {int(p): int(o) for p, o in tx.fetchall()}


def key_positions(tx: Tx, view: str, keys: set[str]) -> dict[str, int]:
    """The highest log position applied per key (0 for a key never seen)."""
    found = dict.fromkeys(keys, 0)
    if keys:
        marks = ", ".join("?" for _ in keys)
        tx.execute(f"SELECT event_key, position FROM view_key_positions WHERE view = ?"
                   f" AND event_key IN ({marks})", (view, *sorted(keys)))
        found.update({k: int(p) for k, p in tx.fetchall()})
    return found


def store_key_position(tx: Tx, view: str, key: str, position: int) -> None:
    """Record the highest log position applied for a key."""
    tx.execute("INSERT INTO view_key_positions (view, event_key, position) VALUES (?, ?, ?)"
               " ON CONFLICT (view, event_key) DO UPDATE SET position = excluded.position",
               (view, key, position))


def store_key_positions(tx: Tx, view: str, positions: dict[str, int]) -> None:
    """Record the highest log position applied for each of several keys (one statement)."""
    if positions:
        tx.executemany("INSERT INTO view_key_positions (view, event_key, position)"
                       " VALUES (?, ?, ?) ON CONFLICT (view, event_key)"
                       " DO UPDATE SET position = excluded.position",
                       [(view, k, p) for k, p in sorted(positions.items())])


def key_position(db: Database, view: str, key: str) -> int:
    """The highest log position the view has applied for one key."""
    with db.transaction() as tx:
        return key_positions(tx, view, {key})[key]


def lock_version(tx: Tx, db: Database, view: str) -> int:
    """The version of the view's code its rows were made by, its row held until the end.

    A view stored before versions were recorded counts as version 1.
    """
    tx.execute("INSERT INTO view_versions (view, version) VALUES (?, 1)"
               " ON CONFLICT (view) DO NOTHING", (view,))
    tx.execute("SELECT version FROM view_versions WHERE view = ?" + db.lock_rows, (view,))
    row = tx.fetchone()
    return int(row[0]) if row else 1


def store_version(tx: Tx, view: str, version: int) -> None:
    """Record the version of the view's code its rows are made by from now on."""
    tx.execute("UPDATE view_versions SET version = ? WHERE view = ?", (version, view))


def forget(tx: Tx, view: str) -> None:
    """Drop every trace of where the view was (before a rebuild)."""
    for table in ("view_tracking", "view_offsets", "view_key_positions", "view_failures"):
        tx.execute(f"DELETE FROM {table} WHERE view = ?", (view,))
