"""Helpers for tests that compare views: dumps of their rows, and faults put into handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.sql import Tx
from projections.base import Event, View

Dump = dict[str, Any]


def dump_view(view: View) -> Dump:
    """Every row of the view's tables (sorted, so order of insertion does not matter)."""
    tables: Dump = {}
    with view.db.transaction() as tx:
        for table in view.tables:
            tx.execute(f"SELECT * FROM {table}")
            tables[table] = sorted(tx.fetchall(), key=repr)
    return tables


def dump_rows(views: list[View]) -> Dump:
    """Every view's rows, by view name (no positions: feeds track them differently)."""
    return {v.name: dump_view(v) for v in views}


class HandlerFault(Exception):
    """The fault a test puts into a view's handler (a bug, as far as the view can tell)."""


def with_fault(view: View, fails_on: Callable[[Event], bool]) -> View:
    """The same view over the same tables, whose handler raises on every event `fails_on`."""

    class Faulty(type(view)):  # type: ignore[misc]
        def handle(self, tx: Tx, event: Event) -> None:
            if fails_on(event):
                raise HandlerFault(f"test fault in {self.name}")
            super().handle(tx, event)

    Faulty.__name__ = f"Faulty{type(view).__name__}"
    return Faulty(view.db, view.transcoder)
