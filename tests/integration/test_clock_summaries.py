"""The clock summaries answer "now" exactly as the facts do, on SQLite and PostgreSQL.

For random histories (the read-side invariant's), every grouping with and without a
date range, every uniformity metric, the backlog and the Prometheus clock figures read
from the summaries must equal those replayed from the facts: at the newest instant, and
on later days with no new event (running clocks fall due, paused clocks' due dates move).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import queries
from api.metrics import fact_clock_metrics, summary_clock_metrics
from domain.backlog import backlog
from domain.groupings import GROUP_BYS
from domain.metrics import UNIFORMITY_METRICS, response_metrics
from domain.uniformity import uniformity
from infra.demo import load_demo
from infra.settings import Settings
from tests.integration.test_read_side_invariant import ADMIN, NOW, play
from wiring.bootstrap import Container, build

#: later days with no new event: clocks fall due, the backlog ages
LATER = (timedelta(0), timedelta(days=45), timedelta(days=400))


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_store(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Settings]:
    """Settings for a fresh, empty store, one per history."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        return lambda: Settings(data_dir=tmp_path_factory.mktemp("summaries"),
                                database_url=server.create_database(
                                    f"test_{uuid.uuid4().hex}"))
    return lambda: Settings(data_dir=tmp_path_factory.mktemp("summaries"), database_url="")


def without_created(text: bytes) -> str:
    """Prometheus text without the `_created` samples (the instant each series was made)."""
    return re.sub(r"(?m)^\S*_created\{?.*\n", "", text.decode())


def assert_summaries_equal_facts(c: Container, as_of: datetime,
                                 date_from: date | None = None,
                                 date_to: date | None = None) -> None:
    """Every figure of the summary path equals the fact path's, as of `as_of`."""
    summaries = c.clock_summaries
    assert summaries.answers(as_of)
    proposals, needs = c.clock_facts.load(as_of)
    for group_by in GROUP_BYS:
        for start, end in ((None, None), (date_from, date_to)):
            facts = response_metrics(proposals, needs, group_by, c.city, c.calendar, as_of,
                                     start, end)
            assert summaries.response_metrics(group_by, as_of, start, end) == facts, \
                (group_by, start, end)
        if group_by in ("ward", "school_district"):
            groups = summaries.response_metrics(group_by, as_of)
            facts = response_metrics(proposals, needs, group_by, c.city, c.calendar, as_of)
            for metric in UNIFORMITY_METRICS:
                assert uniformity(groups, metric) == uniformity(facts, metric), metric
    assert summaries.backlog(as_of) == backlog(proposals, c.calendar, as_of)
    assert without_created(summary_clock_metrics(summaries.prometheus(as_of))) \
        == without_created(fact_clock_metrics(c, as_of))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(data=st.data(), length=st.integers(5, 40))
def test_summaries_answer_now_as_the_facts_do(new_store: Callable[[], Settings],
                                              data: st.DataObject, length: int) -> None:
    with build(new_store(), clock=lambda: NOW) as c:
        play(c, data, length)
        c.follower.catch_up()
        days = st.one_of(st.none(), st.dates(date(2025, 9, 1), date(2026, 11, 26)))
        date_from, date_to = data.draw(days, label="from"), data.draw(days, label="to")
        for later in LATER:
            assert_summaries_equal_facts(c, NOW + later, date_from, date_to)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Container]:
    """The demo history, its views caught up."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    with build(Settings(data_dir=tmp_path, database_url=url), clock=lambda: NOW) as c:
        load_demo(c.app, NOW)
        c.follower.catch_up()
        yield c


def test_summaries_answer_the_demo_as_the_facts_do(demo: Container) -> None:
    for later in LATER:
        assert_summaries_equal_facts(demo, NOW + later, date(2026, 4, 1), date(2026, 9, 30))


def test_a_past_instant_is_answered_from_the_facts(demo: Container) -> None:
    c = demo
    past = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    assert not c.clock_summaries.answers(past)
    proposals, needs = c.clock_facts.load(past)
    assert queries.response_groups(c, "department", past) == response_metrics(
        proposals, needs, "department", c.city, c.calendar, past)
    assert queries.department_backlog(c, past).departments == backlog(proposals, c.calendar,
                                                                      past)


def test_now_is_kept_until_the_summaries_move_on(demo: Container) -> None:
    c = demo
    first = queries.response_groups(c, "ward", NOW)
    assert queries.response_groups(c, "ward", NOW) is first  # kept: no new event
    proposal = next(p for p in c.clock_facts.load()[0] if p.status == "submitted")
    c.app.act_on_proposal(ADMIN, uuid.UUID(proposal.id), "acknowledge", None, NOW)
    c.follower.catch_up()
    again = queries.response_groups(c, "ward", NOW)
    assert again is not first and again != first
