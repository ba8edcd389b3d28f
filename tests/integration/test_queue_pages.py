"""The department queue read a page at a time equals the whole queue computed at read time.

The view keeps each desk row's sort keys (due date of the running clock due first,
urgency, submission) as events are applied, and a page is a keyset range over them.
The reference here is the queue as the view computed it before (version 2): every
proposal on the division's desk, its clocks read at the instant asked, the highest
urgency of its needs, sorted in Python. Here it is computed from the application's
own aggregates, so it depends on nothing the view stores. Followed through every page
with small limits, at several instants, the pages must give exactly those items in
that order; and the view's rows must not depend on how the log was cut into batches,
nor on whether a batch held its writes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.clocks import CLOCKS, proposal_clock_facts, read_clock
from domain.need import Need
from domain.proposal import Proposal
from infra.demo import load_demo
from infra.settings import Settings
from projections.base import View
from projections.batch import BatchTx
from projections.department_queue import (
    DEFAULT_URGENCY,
    QueuedProposal,
    QueueItem,
    desk_roles,
    urgency_rank,
)
from tests.integration.test_read_side_invariant import DEPARTMENTS, play
from tests.integration.test_view_batches import whole_log
from tests.view_helpers import dump_view
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
#: the instants read at: now, when some items have become overdue, long after
INSTANTS = (NOW, NOW + timedelta(days=20), NOW + timedelta(days=400))
LIMITS = (1, 2, 7, 200)


def reference_queue(c: Container, department: str, now: datetime) -> list[QueueItem]:
    """The whole queue as version 2 of the view read it, from the aggregates themselves."""
    log = whole_log(c)
    proposal_ids = dict.fromkeys(e.originator_id for _, e in log
                                 if isinstance(e, Proposal.Event))
    need_ids = dict.fromkeys(e.originator_id for _, e in log if isinstance(e, Need.Event))
    urgencies: dict[str, str] = {}
    for need_id in need_ids:
        need = c.app.get_need(need_id)
        if need.proposal is None:
            continue
        current = urgencies.get(str(need.proposal))
        if current is None or urgency_rank(need.urgency) > urgency_rank(current):
            urgencies[str(need.proposal)] = need.urgency
    items = []
    for proposal_id in proposal_ids:
        proposal = c.app.get_proposal(proposal_id)
        role = desk_roles(proposal).get(department)
        if role is None:
            continue
        assert proposal.submitted_at is not None
        targets = c.city.targets_for(proposal.lead_department)
        facts = proposal_clock_facts(proposal)
        readings = [read_clock(facts[name], getattr(targets, name), c.calendar, now)
                    for name in CLOCKS]
        running = [r for r in readings if r.state == "running" and r.due_on is not None]
        clock = min(running, key=lambda r: r.due_on or date.max) if running else None
        due_on = clock.due_on if clock is not None else None
        items.append(QueueItem(
            proposal=QueuedProposal(proposal.id, proposal.title, proposal.ward,
                                    proposal.status, proposal.lead_department,
                                    proposal.submitted_at),
            role=role, urgency=urgencies.get(str(proposal.id), DEFAULT_URGENCY),
            clock=clock.name if clock is not None else None, due_on=due_on,
            business_days_open=c.calendar.elapsed(proposal.submitted_at, now),
            overdue=due_on is not None and c.calendar.has_ended(due_on, now)))
    items.sort(key=lambda i: (i.due_on is None, i.due_on or date.max,
                              -urgency_rank(i.urgency), i.proposal.submitted_at,
                              str(i.proposal.id)))
    return items


def every_page(c: Container, department: str, now: datetime, limit: int) -> list[QueueItem]:
    """The queue followed page by page, each page at most `limit` long."""
    items: list[QueueItem] = []
    cursor: str | None = None
    while True:
        page, cursor = c.department_queue.queue(department, c.calendar, now, limit, cursor)
        assert len(page) <= limit
        if cursor is not None:
            assert len(page) == limit  # a next page only after a full one
        items.extend(page)
        if cursor is None:
            return items


def assert_pages_equal_reference(c: Container, departments: list[str]) -> int:
    """Every division's queue at every instant, paged with every limit; returns the items."""
    c.follower.catch_up()
    seen = 0
    for department in departments:
        for now in INSTANTS:
            expected = reference_queue(c, department, now)
            seen += len(expected)
            for limit in LIMITS:
                assert every_page(c, department, now, limit) == expected, (department, now,
                                                                           limit)
    return seen


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """The demo history on a fresh store of each kind."""
    if request.param == "postgres":
        store = Settings(data_dir=tmp_path / "data",
                         database_url=request.getfixturevalue("postgres_url"))
    else:
        store = Settings(data_dir=tmp_path / "data", database_url="")
    c = build(store, clock=lambda: NOW)
    try:
        load_demo(c.app, NOW)
        yield c
    finally:
        c.close()


def test_the_demo_queues_paged_equal_the_whole_queues_read_at_each_instant(
        demo: Container) -> None:
    seen = assert_pages_equal_reference(demo, [d.id for d in demo.city.departments])
    assert seen > 50  # the demo puts proposals on several desks


def test_the_rows_do_not_depend_on_how_the_log_is_cut_into_batches(demo: Container) -> None:
    log = whole_log(demo)
    view = demo.department_queue
    view.drop()
    view.process(log)
    whole = dump_view(view)
    assert whole["department_queue_entries"]
    for size in (1, 7, 64):
        view.drop()
        for start in range(0, len(log), size):
            view.process(log[start:start + size])
        assert dump_view(view) == whole, size
    view.drop()
    unbuffered(view, log)
    assert dump_view(view) == whole


def unbuffered(view: View, log: list[tuple[int, Any]]) -> None:
    """The log applied as a view applies a batch when it blames an event: nothing held back
    and every finisher run at the event that marked its subject."""
    with view.db.transaction() as raw:
        view._apply_log(BatchTx(raw, buffered=False), log)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(data=st.data(), length=st.integers(5, 40))
def test_any_accepted_history_paged_equals_the_whole_queue(
        tmp_path_factory: Any, data: st.DataObject, length: int) -> None:
    store: Path = tmp_path_factory.mktemp("queue")
    with build(Settings(data_dir=store, database_url=""), clock=lambda: NOW) as c:
        play(c, data, length)
        assert_pages_equal_reference(c, DEPARTMENTS)
        view = c.department_queue
        live = dump_view(view)
        view.drop()
        unbuffered(view, whole_log(c))
        assert dump_view(view) == live
