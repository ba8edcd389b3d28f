"""A thin, two-backend SQL helper for Tsunagi's own tables (not the event store).

Statements are written once with `?` placeholders; the PostgreSQL backend turns
them into psycopg's `%s`. Only portable SQL is used (ON CONFLICT, standard types).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Tx(ABC):
    """One open transaction."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row (one round trip where the backend can)."""
        for row in rows:
            self.execute(sql, row)

    @abstractmethod
    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row of the last statement."""

    @abstractmethod
    def fetchall(self) -> list[tuple[Any, ...]]:
        """The remaining rows of the last statement."""

    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a query in chunks of up to `size`, never all of them held at once
        (SQLite steps its cursor; PostgreSQL reads through a server-side cursor)."""
        self.execute(sql, params)
        while rows := self.fetchmany(size):
            yield rows

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        """Up to `size` more rows of the last statement ([] when there are none left)."""
        rows: list[tuple[Any, ...]] = []
        while len(rows) < size and (row := self.fetchone()) is not None:
            rows.append(row)
        return rows

    @property
    @abstractmethod
    def rowcount(self) -> int:
        """Rows touched by the last statement."""


class Database(ABC):
    """A place for tables, opened per transaction."""

    #: appended to a SELECT that must lock its rows until the transaction ends
    #: (SQLite needs none: `BEGIN IMMEDIATE` already makes writers take turns)
    lock_rows: str = ""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Commit on success, roll back on error."""
        yield  # type: ignore[misc]

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A transaction that only reads, from one snapshot, and makes no writer wait
        however long it lasts (for long reads; `transaction` for anything that writes)."""
        with self.transaction() as tx:
            yield tx

    def execute_script(self, statements: Sequence[str]) -> None:
        """Run DDL statements in one transaction."""
        with self.transaction() as tx:
            for statement in statements:
                tx.execute(statement)

    def close(self) -> None:  # noqa: B027 — optional to override
        """Release connections."""

    def scrub(self) -> None:  # noqa: B027 — optional to override
        """Make deleted rows unrecoverable from the files where the backend can."""


class _SQLiteTx(Tx):
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, [tuple(r) for r in rows])

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchall()]

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchmany(size)]

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SQLiteDatabase(Database):
    """A SQLite file in WAL mode; one connection per thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten, so erased personal data leaves no trace in the file.
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteTx(cursor)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT")
        finally:
            cursor.close()


    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        # Deferred: in WAL mode the first read takes a snapshot and holds no lock a
        # writer waits for (`BEGIN IMMEDIATE` would, for the whole read).
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        try:
            yield _SQLiteTx(cursor)
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()

    def scrub(self) -> None:
        # The write-ahead log still holds old page images until checkpointed away.
        self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")


#: names of server-side cursors, unique in the process
_STREAMS = itertools.count(1)


class _PostgresTx(Tx):
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # psycopg pipelines executemany: one round trip for the rows, not one each
        self._cursor.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[tuple[Any, ...]]]:
        # a client cursor would hold the whole result in libpq's memory
        with self._cursor.connection.cursor(name=f"tsunagi_stream_{next(_STREAMS)}") as named:
            named.itersize = size
            named.execute(sql.replace("?", "%s"), tuple(params))
            while rows := named.fetchmany(size):
                yield [tuple(r) for r in rows]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchall()]

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchmany(size)]

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class PostgresDatabase(Database):
    """A PostgreSQL database through a small connection pool."""

    lock_rows = " FOR UPDATE"

    def __init__(self, url: str, max_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        # `check` drops connections broken by a server restart before they are handed out.
        self._pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True,
                                    kwargs={"autocommit": False}, timeout=10,
                                    check=ConnectionPool.check_connection)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PostgresTx(cursor)

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _PostgresTx(cursor)

    def close(self) -> None:
        self._pool.close()


def open_database(url_or_path: str | Path) -> Database:
    """A PostgreSQL database for a `postgresql://` URL, else a SQLite file."""
    text = str(url_or_path)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(text)
    return SQLiteDatabase(Path(text))
