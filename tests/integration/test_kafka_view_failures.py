"""A view fed from Kafka whose handler fails stops alone, and resumes after a restart.

A test-only fault in one view's handler; the consumer runs in this process against
the real broker so that the fault can be put in and taken out.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.envelope import transcoder
from consumers.kafka_views import ViewConsumer
from domain.proposal import Proposal
from infra.demo import load_demo
from infra.kafka import clients
from infra.kafka.broker import KafkaBroker
from infra.settings import Settings
from infra.sql import Database, open_database
from projections.base import View
from projections.tracking import failures
from tests.kafka_helpers import ScaleOut, rebuilt_from_log
from tests.view_helpers import dump_rows, with_fault
from wiring.bootstrap import Container, build, build_views

pytestmark = pytest.mark.kafka
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
FAILING = "department_queue"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def published(request: pytest.FixtureRequest, tmp_path: Path, kafka_broker: KafkaBroker,
              kafka_topic: str) -> Iterator[tuple[Container, ScaleOut, Database, Database]]:
    """The demo log published to a topic; a views database and one for the rebuild."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        settings = Settings(data_dir=tmp_path / "data",
                            database_url=request.getfixturevalue("postgres_url"))
        views, other = (open_database(server.create_database(f"{n}_{uuid.uuid4().hex}"))
                        for n in ("views", "rebuilt"))
    else:
        settings = Settings(data_dir=tmp_path / "data", database_url="")
        views, other = (open_database(tmp_path / f"{n}.sqlite") for n in ("views", "rebuilt"))
    c = build(settings, clock=lambda: NOW)
    load_demo(c.app, NOW)
    scale = ScaleOut(settings, kafka_broker, kafka_topic, tmp_path / "logs")
    scale.run("relay", "--once")
    try:
        yield c, scale, views, other
    finally:
        c.close()
        views.close()
        other.close()


def _consume(scale: ScaleOut, views: list[View], group: str) -> int:
    consumer = ViewConsumer(views, lambda: clients.consumer(scale.broker.bootstrap, group),
                            scale.topic, group)
    return consumer.run(threading.Event(), until_caught_up=True)


def test_a_kafka_fed_view_that_fails_stops_alone_and_a_restart_resumes_it(
        published: tuple[Container, ScaleOut, Database, Database]) -> None:
    c, scale, db, other = published
    rebuilt = rebuilt_from_log(c, other)
    views = build_views(db, transcoder())
    index = [v.name for v in views].index(FAILING)
    views[index] = with_fault(views[index], lambda e: isinstance(e, Proposal.Acknowledged))
    assert _consume(scale, views, "views") == 1, "exit 1: a view stopped"

    recorded = failures(db)
    assert set(recorded) == {FAILING}
    assert recorded[FAILING].event_type == "ProposalAcknowledged"
    now = dump_rows(views)
    assert all(now[name] == rebuilt[name] for name in now if name != FAILING)
    assert now[FAILING] != rebuilt[FAILING]

    restarted = build_views(db, transcoder())  # the code is fixed
    assert _consume(scale, restarted, "views") == 0
    assert dump_rows(restarted) == rebuilt
    assert failures(db) == {}
