"""A batch applied at once equals its events applied one by one; versions rebuild views.

Views hold their writes back to the end of a batch and keep aggregate states in memory
(`projections/batch.py`); these tests run on SQLite and on PostgreSQL, over every view of
`container.views`, so a view added later is covered too:

- one batch of the whole log leaves the same rows as one event per batch (an event sees
  what the batch's earlier events wrote);
- a handler failing in the middle of a batch leaves exactly the events before it;
- a row that fails only when the batch is written is blamed on the event that made it;
- a view whose `version` differs from the stored one starts empty and rebuilds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.application import event_type_name
from infra.demo import load_demo
from infra.settings import Settings
from infra.sql import Database, Tx
from projections import tracking
from projections.base import Event, View, ViewStopped
from tests.view_helpers import dump_view, with_fault
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh store of each kind."""
    if request.param == "postgres":
        return Settings(data_dir=tmp_path / "data",
                        database_url=request.getfixturevalue("postgres_url"))
    return Settings(data_dir=tmp_path / "data", database_url="")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings, clock=lambda: NOW)
    try:
        load_demo(c.app, NOW)
        yield c
    finally:
        c.close()


def whole_log(c: Container) -> list[tuple[int, Event]]:
    """Every (position, event) of the log."""
    return [(n.id, c.app.mapper.to_domain_event(n))
            for n in c.app.recorder.select_notifications(start=1, limit=1_000_000)]


def one_by_one(view: View, batch: list[tuple[int, Event]]) -> None:
    for item in batch:
        view.process([item])


def test_one_batch_of_the_whole_log_leaves_what_one_event_per_batch_leaves(
        container: Container) -> None:
    log = whole_log(container)
    for view in container.views:
        view.drop()
        assert view.process(log) == log[-1][0]
        batched = dump_view(view)
        view.drop()
        one_by_one(view, log)
        assert dump_view(view) == batched, view.name


def test_a_handler_failing_mid_batch_leaves_exactly_the_events_before_it(
        container: Container) -> None:
    log = whole_log(container)
    # a need or proposal event late enough that the batch has held back rows before it
    position, failing = next((p, e) for p, e in log[len(log) // 2:]
                             if event_type_name(e).startswith(("Need", "Proposal")))
    for view in container.views:
        view.drop()
        one_by_one(view, [(p, e) for p, e in log if p < position])
        expected = dump_view(view)
        view.drop()
        faulty = with_fault(view, lambda event: event is failing)
        with pytest.raises(ViewStopped) as stopped:
            faulty.process(log)
        assert stopped.value.failure.position == position, view.name
        assert stopped.value.reached == faulty.position() < position
        assert dump_view(view) == expected, view.name


class Probe(View):
    """A view whose row for one chosen event breaks a constraint only when written."""

    name = "batch_probe"
    tables = ("batch_probe",)
    schema = ("CREATE TABLE IF NOT EXISTS batch_probe (position BIGINT PRIMARY KEY,"
              " type TEXT NOT NULL)",)
    breaks_at = 0

    def handle(self, tx: Tx, event: Event) -> None:
        position = self.handling_position
        tx.execute("INSERT INTO batch_probe (position, type) VALUES (?, ?)",
                   (position, None if position == self.breaks_at else event_type_name(event)))


def test_a_row_failing_when_the_batch_is_written_is_blamed_on_its_event(
        container: Container) -> None:
    log = whole_log(container)
    probe = Probe(container.views[0].db, container.app.mapper.transcoder)
    probe.breaks_at = log[len(log) // 2][0]
    with pytest.raises(ViewStopped) as stopped:
        probe.process(log)
    assert stopped.value.failure.position == probe.breaks_at
    assert probe.position() == probe.breaks_at - 1
    with probe.db.transaction() as tx:
        tx.execute("SELECT position FROM batch_probe ORDER BY position")
        assert [r[0] for r in tx.fetchall()] == [p for p, _ in log if p < probe.breaks_at]


def bumped(view: View, version: int) -> View:
    """The same view over the same tables, at another version of its handlers."""
    cls = type(f"{type(view).__name__}V{version}", (type(view),), {"version": version})
    made: View = cls(view.db, view.transcoder)
    return made


def stored_version(db: Database, name: str) -> int:
    with db.transaction() as tx:
        return tracking.lock_version(tx, db, name)


def test_a_view_of_another_version_starts_empty_and_rebuilds_from_the_log(
        container: Container) -> None:
    c = container
    c.follower.catch_up()
    head = c.app.position()
    for view in c.views:
        built = dump_view(view)
        own, other = view.version, view.version + 1
        assert view.position() == head and stored_version(view.db, view.name) == own
        bumped_view = bumped(view, other)
        assert bumped_view.position() == 0, view.name
        assert all(not rows for rows in dump_view(bumped_view).values()), view.name
        assert stored_version(view.db, view.name) == other
        bumped_view.process(whole_log(c))
        assert dump_view(bumped_view) == built, view.name
        # started again at the same version: kept
        assert bumped(view, other).position() == head
        # and back at its own version (another process, or a rollback): emptied again
        assert type(view)(view.db, view.transcoder).position() == 0
        assert stored_version(view.db, view.name) == own
