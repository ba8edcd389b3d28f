"""What views that keep aggregates' states share: states kept across a batch, rows
written once per batch.

A view keeps a proposal's or need's state to apply the next event with the domain's own
handlers (`evolve`), so it never re-implements a rule. In a batch (`BatchTx`) a state is
read once, kept, and its row written once when the batch ends (`upsert`), and rows that
follow from a state as the batch leaves it are written once too (`mark`). A mixin of
`projections.base.View`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Transcoder

from domain.base import TrackedAggregate
from infra.sql import Tx
from projections.batch import BatchTx

Event = DomainEventProtocol[Any]
A = TypeVar("A", bound=TrackedAggregate)

#: per thread: the batch being applied, and the states its views encoded, by
#: (aggregate id, version) — see `share_encodings`
_batch = threading.local()


def share_encodings(batch: object) -> None:
    """Let the views handed this very batch share the states they encode (`encode_state`).

    Scoped to one batch object (and thread), so two stores in one process never share:
    within a batch every view reads the same log.
    """
    if getattr(_batch, "of", None) is not batch:
        _batch.of, _batch.encoded = batch, {}


class KeptStates:
    """States kept across a batch, and rows written once per batch (see the module)."""

    name: str
    transcoder: Transcoder

    def upsert(self, tx: Tx, sql: str, key: Hashable,
               params: Callable[[], Sequence[Any]]) -> None:
        """Write a row derived from a state `evolve` keeps, once per batch (last one wins).

        `params` is called when the batch ends, so the row is built and its state
        encoded once however many of the batch's events changed it. `sql` must have
        the same effect then as at each event (an `INSERT … ON CONFLICT DO UPDATE` of
        the row of `key`, or an `UPDATE` of the rows the state decides).
        """
        if isinstance(tx, BatchTx):
            tx.defer(sql, (key,), params)
        else:
            tx.execute(sql, params())

    def mark(self, tx: Tx, finisher: str, subject: str, state: Any,
             store: Callable[[Tx, dict[str, Any]], None]) -> None:
        """Have `store(tx, {subject: state, …})` write the rows that follow from the state
        of each subject marked for `finisher`, once when the batch ends (`BatchTx.at_end`):
        for rows that depend only on the state the batch leaves, however many of its
        events changed it. The state object is the caller's: it may change it until then.
        """
        if not isinstance(tx, BatchTx):
            store(tx, {subject: state})
            return
        marked = tx.marked((self.name, finisher))
        marked[subject] = state

        def run() -> None:
            subjects = dict(marked)
            marked.clear()
            store(tx, subjects)
        tx.at_end((self.name, finisher), run)

    def encode_state(self, aggregate: TrackedAggregate) -> str:
        """The aggregate's attributes as JSON text (dates and UUIDs kept typed).

        An aggregate's state at a version follows from its events alone, so within a batch
        the text is kept for the next view that stores the same aggregate at the same
        version (five views keep needs' and proposals' states: each is encoded once).
        """
        encoded: dict[tuple[UUID, int], str] | None = getattr(_batch, "encoded", None)
        key = (aggregate.id, aggregate.version)
        text = encoded.get(key) if encoded is not None else None
        if text is None:
            text = self.transcoder.encode(aggregate.state()).decode()
            if encoded is not None:
                encoded[key] = text
        return text

    def evolve(self, tx: Tx, table: str, cls: type[A], event: Event) -> A | None:
        """The aggregate kept in `table`, with `event` applied (None if it was never seen).

        The domain's own event handlers do the work, so a view never re-implements a rule.
        In a batch the aggregate is read once and kept (`BatchTx.states`): the object
        returned is the one the batch's next event for it changes.
        """
        states = tx.states if isinstance(tx, BatchTx) else None
        key = (table, str(event.originator_id))
        aggregate: A | None = None
        if event.originator_version > 1:  # not the creation event
            if states is not None and key in states:
                aggregate = states[key]
            else:
                text = self._stored_state(tx, table, key[1])
                aggregate = None if text is None else self.decode_state(cls, text)
                if states is not None:
                    states[key] = aggregate
            if aggregate is None:
                return None  # its creation predates this view's data; a rebuild restores it
        result = event.mutate(aggregate)  # type: ignore[attr-defined]
        assert isinstance(result, cls)
        if states is not None:
            states[key] = result
        return result

    @staticmethod
    def _stored_state(tx: Tx, table: str, id_: str) -> str | None:
        if isinstance(tx, BatchTx):
            return tx.stored_state(table, id_)
        tx.execute(f"SELECT state FROM {table} WHERE id = ?", (id_,))
        row = tx.fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def kept(tx: Tx, table: str, id_: str) -> tuple[bool, Any]:
        """(True, the aggregate or None) when the batch keeps the state of `id_` in
        `table`; (False, None) when its row is to be read (see `BatchTx.read_unkept`)."""
        if isinstance(tx, BatchTx) and (table, id_) in tx.states:
            return True, tx.states[(table, id_)]
        return False, None

    def load_kept(self, tx: Tx, table: str, cls: type[A], id_: str) -> tuple[bool, A | None]:
        """As `kept`, but reading the state of one of the batch's aggregates first (with
        the others', see `BatchTx.stored_state`), so a lookup costs no statement of its own."""
        found, aggregate = self.kept(tx, table, id_)
        if found or not isinstance(tx, BatchTx) or id_ not in tx.ids:
            return found, aggregate
        text = tx.stored_state(table, id_)
        loaded = None if text is None else self.decode_state(cls, text)
        tx.states[(table, id_)] = loaded
        return True, loaded

    @staticmethod
    def subject_rows(tx: Tx, sql: str, subject: str) -> list[tuple[Any, ...]]:
        """The rows of a subject the batch does not keep yet, read with the rest of the
        batch's (`BatchTx.batch_rows`: `sql` ends in `IN ({ids})`)."""
        if isinstance(tx, BatchTx):
            return tx.batch_rows(sql, subject)
        tx.execute(sql.format(ids="?"), (subject,))
        return tx.fetchall()

    @staticmethod
    def read_unkept(tx: Tx, table: str, sql: str,
                    params: Sequence[Any]) -> tuple[Any, ...] | None:
        """One row of a state `kept` said the batch does not keep, without writing the
        batch's other rows first."""
        if isinstance(tx, BatchTx):
            return tx.read_unkept(table, sql, params)
        tx.execute(sql, params)
        return tx.fetchone()

    def decode_state(self, cls: type[A], text: str) -> A:
        """Rebuild an aggregate object from stored state, without replaying its events."""
        aggregate = object.__new__(cls)
        aggregate.__dict__.update(self.transcoder.decode(text.encode()))
        aggregate.__dict__["_pending_events"] = []
        return aggregate
