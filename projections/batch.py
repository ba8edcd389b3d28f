"""A view's batch in one transaction: rows written at its end, aggregate states kept in memory.

`View.process` hands its handlers a `BatchTx` instead of the bare transaction. It
holds back `INSERT`s and the rows views give to `View.upsert`, and writes them with
one `executemany` per statement when the batch ends, so a batch costs a few
statements instead of one per event (a round trip each on PostgreSQL). It also keeps
the aggregates `View.evolve` has read or changed, so a state is decoded once and
encoded once per batch instead of once per event.

Reads see the batch's own writes: any other statement first writes what is held
back for the tables it names (an `INSERT`'s order per table is kept), and `evolve`
reads its cache first. A row held back fails only when written, when it can no
longer be told which event it came from: then `FlushFailed` is raised and the view
applies the batch again statement by statement (`buffered=False`), which blames
the right event.

The kept states are the batch's truth for the rows `evolve` reads: a view that
deletes or rewrites such a row with a statement of its own must not also `evolve`
it in the same batch.

A view whose rows follow from a subject's state as the batch leaves it (a summary,
the desks a proposal is on) registers a finisher with `at_end` instead of writing them
at each event: it runs once when the batch ends, before the held-back rows are written,
over every subject the batch marked (`marked`). Unbuffered (when blaming an event) a
finisher runs at once, at the event that marked its subject.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing import persistence as es_persistence

from infra.sql import Tx

_INSERT = re.compile(r"\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_UPDATE = re.compile(r"\s*UPDATE\s+(\w+)", re.IGNORECASE)
_NAME = re.compile(r"\w+")

Params = Sequence[Any] | Callable[[], Sequence[Any]]
#: ids per statement when reading the states of a batch's aggregates
READ_CHUNK = 500


def transient(exc: BaseException) -> bool:
    """True for a database that cannot be reached now (retried), not a handler's bug."""
    if isinstance(exc, sqlite3.OperationalError | es_persistence.OperationalError
                  | es_persistence.InterfaceError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover — the PostgreSQL driver is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


class FlushFailed(Exception):
    """Writing a batch's held-back rows failed; the event that caused it is not known."""


@functools.cache
def written_table(sql: str) -> str | None:
    """The table an `INSERT` or `UPDATE` statement writes (None for any other statement)."""
    found = _INSERT.match(sql) or _UPDATE.match(sql)
    return found.group(1).lower() if found else None


@functools.cache
def _inserted_table(sql: str) -> str | None:
    """The table of an `INSERT` that may be held back (one without `RETURNING`)."""
    found = _INSERT.match(sql)
    return found.group(1).lower() if found and "RETURNING" not in sql.upper() else None


@functools.cache
def _names(sql: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _NAME.findall(sql))


@dataclass
class _Held:
    """The rows held back for one statement, in the order they came (keyed: last wins)."""

    table: str
    keyed: bool
    rows: dict[Hashable, Params] = field(default_factory=dict)


class BatchTx(Tx):
    """A transaction that holds writes back until the batch ends, and caches states."""

    def __init__(self, tx: Tx, buffered: bool = True) -> None:
        self.tx = tx
        self.buffered = buffered
        #: aggregates by (table, id) as the batch has left them; None: not in the view
        self.states: dict[tuple[str, str], Any] = {}
        self._held: dict[str, _Held] = {}
        #: ids of the aggregates the batch's events are of (their states read together)
        self.ids: set[str] = set()
        self._rows: dict[str, dict[str, list[tuple[Any, ...]]]] = {}  # `batch_rows` read
        self._finishers: dict[Hashable, Callable[[], None]] = {}
        self._marks: dict[Hashable, dict[str, Any]] = {}

    # ── work done once when the batch ends ────────────────────────────────

    def marked(self, finisher: Hashable) -> dict[str, Any]:
        """The subjects (id: anything) marked for `finisher` in this batch, to be filled."""
        return self._marks.setdefault(finisher, {})

    def at_end(self, finisher: Hashable, run: Callable[[], None]) -> None:
        """Call `run` once when the batch ends (at once when unbuffered); `run` takes the
        subjects from `marked(finisher)` and empties it."""
        if not self.buffered:
            run()
            return
        self._finishers.setdefault(finisher, run)

    def finish(self) -> None:
        """Run the finishers, then write everything held back: the batch's end."""
        while self._finishers:
            run = self._finishers.pop(next(iter(self._finishers)))
            try:
                run()
            except FlushFailed:
                raise
            except Exception as exc:
                if transient(exc):
                    raise
                # not known which event made the state it failed on: applied again unbuffered
                raise FlushFailed(f"{type(exc).__name__}: {exc}") from exc
        self.flush()

    # ── held-back writes ──────────────────────────────────────────────────

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        name = _inserted_table(sql) if self.buffered else None
        if name is not None:
            # keep the order of writes to one table: another statement's rows go first
            self.flush({name}, keep=sql)
            held = self._held.setdefault(sql, _Held(name, keyed=False))
            held.rows[len(held.rows)] = tuple(params)
            return
        self.flush(self.tables_named(sql))
        self.tx.execute(sql, params)

    def defer(self, sql: str, key: Hashable, params: Params) -> None:
        """Write `sql` with `params` when the batch ends; a later call with the same key
        replaces an earlier one. `params` may be a function, called then.

        For statements whose effect is the same at the end of the batch as at each event
        (an upsert of a row from the state `evolve` keeps): they may run in any order.
        """
        if not self.buffered:
            self.tx.execute(sql, params() if callable(params) else params)
            return
        table = written_table(sql)
        if table is None:
            raise ValueError(f"cannot hold back {sql!r}: not an INSERT or UPDATE")
        self._held.setdefault(sql, _Held(table, keyed=True)).rows[key] = params

    def flush(self, tables: set[str] | None = None, keep: str | None = None) -> None:
        """Write what is held back (for `tables` only, when given; not `keep`'s rows)."""
        for sql, held in list(self._held.items()):
            if sql == keep or (tables is not None and held.table not in tables):
                continue
            del self._held[sql]
            rows = [p() if callable(p) else p for p in held.rows.values()]
            try:
                self.tx.executemany(sql, rows)
            except Exception as exc:
                if transient(exc):
                    raise
                raise FlushFailed(f"{type(exc).__name__}: {exc}") from exc

    def tables_named(self, sql: str) -> set[str]:
        """The tables with held-back rows that a statement names (and so may read)."""
        held = {h.table for h in self._held.values()}
        if not held:
            return set()
        return held & _names(sql)

    def stored_state(self, table: str, id_: str) -> str | None:
        """The `state` column of a row whose state the batch has not kept yet (read with
        the rest of the batch's, see `batch_rows`)."""
        rows = self.batch_rows(f"SELECT id, state FROM {table} WHERE id IN ({{ids}})", id_)
        return str(rows[0][1]) if rows else None

    def batch_rows(self, sql: str, id_: str) -> list[tuple[Any, ...]]:
        """The rows of `id_` that `sql` selects: its first column is a subject's id and it
        ends in `IN ({ids})`. The first call for a statement reads them for every subject
        of the batch (`READ_CHUNK` ids a statement, not one statement per subject); a
        subject's rows are handed out once, for a subject the batch does not keep yet (the
        caller keeps it from then on). Rows held back by `defer` are those of subjects the
        batch keeps, so only plain `INSERT`s into the tables named are written first.
        """
        if id_ not in self.ids:
            self._flush_inserts_named(sql)
            self.tx.execute(sql.format(ids="?"), (id_,))
            return self.tx.fetchall()
        found = self._rows.get(sql)
        if found is None:
            found = self._rows[sql] = {}
            self._flush_inserts_named(sql)
            wanted = sorted(self.ids)
            for start in range(0, len(wanted), READ_CHUNK):
                chunk = wanted[start:start + READ_CHUNK]
                self.tx.execute(sql.format(ids=", ".join("?" for _ in chunk)), chunk)
                for row in self.tx.fetchall():
                    found.setdefault(str(row[0]), []).append(row)
        return found.pop(id_, [])

    def read_unkept(self, table: str, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """One row of `table` whose state the batch has not kept (not in `states`).

        Rows held back by `defer` are those of states kept in the batch, so only
        plain `INSERT`s into the table need writing first.
        """
        self._flush_inserts(table)
        self.tx.execute(sql, params)
        return self.tx.fetchone()

    def _flush_inserts_named(self, sql: str) -> None:
        for table in self.tables_named(sql):
            self._flush_inserts(table)

    def _flush_inserts(self, table: str) -> None:
        if any(h.table == table and not h.keyed for h in self._held.values()):
            self.flush({table})

    # ── reading ───────────────────────────────────────────────────────────

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.tx.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.tx.fetchall()

    @property
    def rowcount(self) -> int:
        return self.tx.rowcount
