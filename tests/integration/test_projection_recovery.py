"""Views recover from anything (architecture decision 2), on SQLite and on PostgreSQL.

Every test runs over all of `container.views`, so a view added later is covered too:

- a view built live, batch by batch while the log was written, equals one rebuilt from the log;
- a crash in the middle of a batch leaves no partial change, and after a restart the views
  equal a fresh rebuild;
- at-least-once delivery (a batch again, overlapping batches) has an exactly-once effect;
- on PostgreSQL the follower wakes on LISTEN/NOTIFY, not on a poll, and stops promptly.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.follower import Follower
from domain.permissions import Actor, Role
from infra.demo import load_demo
from infra.settings import Settings
from infra.sql import Tx
from projections.base import Event, View
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

Dump = dict[str, Any]


class Crash(BaseException):
    """The process dying in the middle of a batch (not an `Exception`: nothing contains it)."""


class HandlerBug(Exception):
    """A view's handler raising on an event: contained, the view is tried again later."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh store of each kind."""
    if request.param == "postgres":
        return Settings(data_dir=tmp_path / "data",
                        database_url=request.getfixturevalue("postgres_url"),
                        poll_interval=0.05)
    return Settings(data_dir=tmp_path / "data", database_url="", poll_interval=0.05)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings, clock=lambda: NOW)
    try:
        yield c
    finally:
        c.close()


# ── helpers ─────────────────────────────────────────────────────────────────

def dump_view(view: View) -> Dump:
    """Every row of the view's tables (sorted, so order of insertion does not matter)."""
    tables: Dump = {}
    with view.db.transaction() as tx:
        for table in view.tables:
            tx.execute(f"SELECT * FROM {table}")
            tables[table] = sorted(tx.fetchall(), key=repr)
    return tables


def dump(views: list[View]) -> Dump:
    """Every view's rows and position."""
    return {v.name: {"position": v.position(), "tables": dump_view(v)} for v in views}


def rebuild(follower: Follower) -> None:
    """Drop every view, forget the positions, and catch up from the start of the log."""
    for view in follower.views:
        view.drop()
    follower.positions.update({v.name: v.position() for v in follower.views})
    assert follower.position() == 0
    follower.catch_up()


def fresh_views(views: list[View]) -> list[View]:
    """New objects for the same views over the same databases (as after a restart)."""
    return [type(v)(v.db, v.transcoder) for v in views]


def faulty(view: View, after: int, min_in_batch: int,
           error: type[BaseException] = Crash) -> View:
    """The same view, raising `error` once: on the first event from the `after`-th handled on,
    at which at least `min_in_batch` events of the same batch were already handled."""
    state = {"total": 0, "in_batch": 0, "crashed": 0}

    class Faulty(type(view)):  # type: ignore[misc]
        def process(self, batch: Any) -> int:
            state["in_batch"] = 0
            return int(super().process(batch))

        def handle(self, tx: Tx, event: Event) -> None:
            state["total"] += 1
            if (not state["crashed"] and state["total"] >= after
                    and state["in_batch"] >= min_in_batch):
                state["crashed"] = state["in_batch"]
                raise error(f"{self.name} after {state['in_batch']} events of a batch")
            super().handle(tx, event)
            state["in_batch"] += 1

    Faulty.__name__ = f"Faulty{type(view).__name__}"
    obj = Faulty(view.db, view.transcoder)
    obj.crash_state = state  # type: ignore[attr-defined]
    return obj


def log_batch(c: Container, start: int, limit: int) -> list[tuple[int, Event]]:
    """(position, event) pairs straight from the notification log."""
    return [(n.id, c.app.mapper.to_domain_event(n))
            for n in c.app.recorder.select_notifications(start=start, limit=limit)]


def rebuilt_elsewhere(c: Container, tmp_path: Path) -> Dump:
    """The views built from scratch from the same log, in a store of their own."""
    if c.settings.uses_postgres:  # one database: rebuild in place (the caller dumped first)
        rebuild(c.follower)
        return dump(c.views)
    copy = tmp_path / "rebuilt"
    copy.mkdir()
    source = sqlite3.connect(c.settings.data_dir / "events.sqlite")
    target = sqlite3.connect(copy / "events.sqlite")
    try:
        source.backup(target)  # WAL-safe copy of the log alone (no views file)
    finally:
        source.close()
        target.close()
    other = build(Settings(data_dir=copy, database_url=""), clock=lambda: NOW)
    try:
        assert other.follower.position() == 0
        other.follower.catch_up()
        return dump(other.views)
    finally:
        other.close()


# ── rebuild equals live ─────────────────────────────────────────────────────

def test_a_rebuild_equals_the_views_built_live(container: Container) -> None:
    c = container
    c.follower.batch_size = 37  # small batches, interleaved with the writes
    c.follower.start()
    try:
        load_demo(c.app, NOW)
        head = c.app.position()
        assert head > 500
        assert c.follower.wait_for(head, 60)
    finally:
        c.follower.stop()
    c.follower.catch_up()
    live = dump(c.views)
    assert len(live) == len(c.views) >= 4
    assert all(v["position"] == head for v in live.values())
    assert all(any(rows for rows in v["tables"].values()) for v in live.values()), \
        "every view holds something after the demo"

    c.follower.batch_size = 500
    rebuild(c.follower)
    assert dump(c.views) == live


# ── a crash in the middle of a batch ────────────────────────────────────────

def test_a_crash_mid_batch_changes_nothing_and_a_restart_equals_a_rebuild(
        container: Container, tmp_path: Path) -> None:
    c = container
    load_demo(c.app, NOW)
    head = c.app.position()
    batch_size = 64
    step = max(head // (len(c.views) + 2), 2)
    views = c.views
    # Every view crashes once, in turn, each time on a restarted follower, so the views
    # stand at different positions when the next one crashes.
    for index in range(len(views)):
        current = fresh_views(views)
        current[index] = faulty(current[index], after=step, min_in_batch=batch_size // 4)
        follower = Follower(c.app, current, batch_size=batch_size, subscribe=False)
        with pytest.raises(Crash):
            while True:
                before = dump(current)
                positions = dict(follower.positions)
                assert follower.catch_up_once(), f"{current[index].name} never crashed"
        crashed = current[index]
        assert crashed.crash_state["crashed"] >= batch_size // 4  # type: ignore[attr-defined]
        after = dump(current)
        # The batch was under way: the views before the faulty one applied it, the faulty
        # one (and those after it) left no partial change, not even their position.
        for i, view in enumerate(current):
            if i < index:
                assert after[view.name]["position"] > positions[view.name]
            else:
                assert after[view.name] == before[view.name], view.name
                assert view.position() == positions[view.name]
        assert follower.positions[crashed.name] == positions[crashed.name]

    # Restart without the fault: fresh objects, the same databases.
    restarted = Follower(c.app, fresh_views(views), subscribe=False)
    assert restarted.position() < head
    restarted.catch_up()
    recovered = dump(restarted.views)
    assert all(v["position"] == head for v in recovered.values())
    assert rebuilt_elsewhere(c, tmp_path) == recovered


def test_a_failing_follower_thread_retries_from_the_views(container: Container) -> None:
    """The running follower (polling or subscribed) survives a failing handler and catches up."""
    c = container
    load_demo(c.app, NOW)
    head = c.app.position()
    views = fresh_views(c.views)
    views[-1] = faulty(views[-1], after=head // 2, min_in_batch=10, error=HandlerBug)
    follower = Follower(c.app, views, poll_interval=0.05, batch_size=100, retry_interval=0.05)
    follower.start()
    try:
        assert follower.wait_for(head, 60)
    finally:
        follower.stop()
    assert views[-1].crash_state["crashed"]  # type: ignore[attr-defined]
    live = dump(follower.views)
    rebuild(follower)
    assert dump(follower.views) == live


# ── at-least-once delivery ──────────────────────────────────────────────────

def test_a_batch_delivered_again_changes_nothing(container: Container) -> None:
    c = container
    load_demo(c.app, NOW)
    head = c.app.position()
    for view in c.views:
        first = log_batch(c, 1, 300)
        assert view.process(first) == 300
        once = dump_view(view)
        assert view.process(first) == 300
        assert dump_view(view) == once
        assert view.position() == 300
        # Overlapping and repeated batches: each event still counts once.
        for start in range(150, head + 1, 150):
            batch = log_batch(c, start, 250)
            view.process(batch)
            view.process(batch[:100])
        assert view.position() == head
    duplicated = dump(c.views)
    rebuild(c.follower)
    assert dump(c.views) == duplicated


# ── PostgreSQL: LISTEN/NOTIFY instead of polling ────────────────────────────

STAFF = Actor(id="user-staff", name="staff", role=Role.WARD_STAFF, ward="higashi")
NEED = {"ward": "higashi", "office": "higashi-exchange-room-1",
        "school_district": "higashi-sakuragi", "source": "council_meeting",
        "policy_area": "transport", "title": "バス停にベンチがほしい",
        "description": "桜木校区の自治協議会で、高齢者がバスを待つ間に座れる場所がないとの声。",
        "observed_on": NOW.date(), "residents_affected": 120, "urgency": "normal"}


@pytest.mark.postgres
def test_on_postgres_the_follower_wakes_on_notify_not_on_a_poll(postgres_url: str,
                                                                tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, poll_interval=30)
    reader = build(settings, clock=lambda: NOW)
    writer = build(settings, clock=lambda: NOW)  # another process, as far as the reader knows
    try:
        assert reader.follower.subscribe
        threads_before = set(threading.enumerate())
        reader.follower.start()
        time.sleep(1.5)  # past the follower's first safety read of the log
        for i in range(3):
            written = writer.app.record_need(STAFF, {**NEED, "title": f"件 {i}"})
            started = time.monotonic()
            assert reader.follower.wait_for(written.position, 5), "not woken by NOTIFY"
            assert time.monotonic() - started < 5
            assert reader.follower.position() >= written.position
        assert reader.needs_index.position() == written.position

        started = time.monotonic()
        reader.follower.stop()
        assert time.monotonic() - started < 2, "stop() ends the subscription promptly"
        assert reader.follower._thread is not None
        assert not reader.follower._thread.is_alive()
        deadline = time.monotonic() + 2
        while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not set(threading.enumerate()) - threads_before, "subscription threads linger"
    finally:
        writer.close()
        reader.close()


def test_on_sqlite_the_follower_polls(tmp_path: Path) -> None:
    c = build(Settings(data_dir=tmp_path, database_url=""), clock=lambda: NOW)
    try:
        assert not c.follower.subscribe
        c.follower.start()
        written = c.app.record_need(STAFF, dict(NEED))
        assert c.follower.wait_for(written.position, 5)  # poke() skips the poll's wait
        started = time.monotonic()
        c.follower.stop()
        assert time.monotonic() - started < 2
    finally:
        c.close()
