"""Views fed as Kafka would feed them, without a broker: messages, keys, offsets.

- every event of the demo log reads back from its message alone (no application);
- views fed partition by partition, in any interleaving that keeps each key's order,
  with copies published again at new offsets, equal a rebuild from the log;
- a message that is not ours is skipped and still moves the view's offset.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.envelope import BadMessage, decode, encode, transcoder
from consumers.routing import Router
from infra.demo import load_demo
from infra.settings import Settings
from infra.sql import Database, open_database
from projections.base import Delivery, View
from projections.tracking import key_position, offsets
from tests.view_helpers import dump_rows
from wiring.bootstrap import Container, build, build_views

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TOPIC = "tsunagi.events.v1"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Container,
                                                                             Database]]:
    """A store holding the demo log, and an empty views database of the same kind."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue(
            "postgres_url"))
        other = open_database(server.create_database(f"kafka_{uuid.uuid4().hex}"))
    else:
        settings = Settings(data_dir=tmp_path / "log", database_url="")
        other = open_database(tmp_path / "kafka-views.sqlite")
    c = build(settings, clock=lambda: NOW)
    load_demo(c.app, NOW)
    try:
        yield c, other
    finally:
        c.close()
        other.close()


def _messages(c: Container) -> list[tuple[str, bytes, int]]:
    """(key, value, position) of every event, as the relay publishes them."""
    router, codec = Router(c.app), transcoder()
    out = []
    for n in c.app.recorder.select_notifications(start=1, limit=100_000):
        event = c.app.mapper.to_domain_event(n)
        key, value = encode(n.id, event, router.route(event), codec)
        out.append((key.decode(), value, n.id))
    return out


def test_every_event_reads_back_from_its_message_alone(
        backend: tuple[Container, Database]) -> None:
    c, _ = backend
    codec = transcoder()  # no application: no vault, no calendar, no store
    notifications = c.app.recorder.select_notifications(start=1, limit=100_000)
    messages = _messages(c)
    assert len(messages) == len(notifications) > 500
    for (key, value, position), n in zip(messages, notifications, strict=True):
        original = c.app.mapper.to_domain_event(n)
        message = decode(value, codec)
        assert message.position == position == n.id
        assert type(message.event) is type(original)
        assert message.event.__dict__ == original.__dict__
        assert message.route.key == key
    keys = {key for key, _, _ in messages}
    wards = {f"kumamoto:{w}" for w in ("chuo", "higashi", "nishi", "minami", "kita")}
    assert keys == wards | {"kumamoto:_city"}  # city-wide indicator observations


def test_a_later_event_is_routed_by_its_aggregates_ward_even_across_a_merge(
        backend: tuple[Container, Database]) -> None:
    c, _ = backend
    router = Router(c.app)
    cross_ward = 0
    for n in c.app.recorder.select_notifications(start=1, limit=100_000):
        event = c.app.mapper.to_domain_event(n)
        if type(event).__qualname__.startswith("Observation."):
            continue  # not a need's or a proposal's (routed by its own ward or the city)
        is_need = type(event).__qualname__.startswith("Need.")
        owner = (c.app.get_need(event.originator_id) if is_need
                 else c.app.get_proposal(event.originator_id))
        assert router.route(event).ward == owner.ward
        if type(event).__qualname__ == "Proposal.Merged":
            into = c.app.get_proposal(event.__dict__["into"])
            cross_ward += into.ward != owner.ward
    assert cross_ward > 0, "the demo merges proposals into another ward's"


def _interleave(messages: list[tuple[str, bytes, int]], partitions: int,
                rng: random.Random) -> list[list[Delivery]]:
    """Chunks of deliveries as a consumer might get them: each partition in offset order,
    the partitions' chunks interleaved at random; one event in ten published twice."""
    codec = transcoder()
    per_partition: dict[int, list[Delivery]] = {p: [] for p in range(partitions)}
    keys = sorted({k for k, _, _ in messages})
    home = {k: i % partitions for i, k in enumerate(keys)}
    for key, value, _ in messages:
        copies = 2 if rng.random() < 0.1 else 1  # a restarted relay publishes it again
        for _ in range(copies):
            part = per_partition[home[key]]
            m = decode(value, codec)
            part.append(Delivery(TOPIC, home[key], len(part), key, m.position, m.event))
    chunks: list[list[Delivery]] = []
    cursors = dict.fromkeys(per_partition, 0)
    while any(cursors[p] < len(per_partition[p]) for p in per_partition):
        p = rng.choice([p for p in per_partition if cursors[p] < len(per_partition[p])])
        size = rng.randint(1, 60)
        chunks.append(per_partition[p][cursors[p]:cursors[p] + size])
        cursors[p] += size
    return chunks


@pytest.mark.parametrize("seed", [1, 2])
def test_views_fed_by_key_in_any_interleaving_equal_a_rebuild(
        backend: tuple[Container, Database], seed: int) -> None:
    c, other = backend
    c.follower.catch_up()
    rebuilt = dump_rows(c.views)
    views: list[View] = build_views(other, transcoder())
    for chunk in _interleave(_messages(c), partitions=3, rng=random.Random(seed)):
        for view in views:
            view.process_deliveries(TOPIC, chunk[0].partition, chunk)
        if random.Random(seed).random() < 0.05:  # and a chunk delivered again
            for view in views:
                view.process_deliveries(TOPIC, chunk[0].partition, chunk)
    assert dump_rows(views) == rebuilt
    head = c.app.position()
    assert max(key_position(other, v.name, k) for v in views
               for k in ("kumamoto:chuo", "kumamoto:kita")) <= head


def test_a_message_that_is_not_ours_is_skipped_and_moves_the_offset(
        backend: tuple[Container, Database]) -> None:
    c, other = backend
    codec = transcoder()
    for bad in (b"not json", b'{"schema": "other/v9"}', b'{"schema": "tsunagi.event/v1"}'):
        with pytest.raises(BadMessage):
            decode(bad, codec)
    key, value, position = _messages(c)[0]
    good = decode(value, codec)
    view = build_views(other, codec)[0]
    deliveries = [Delivery(TOPIC, 0, 0, "", 0, None),
                  Delivery(TOPIC, 0, 1, key, position, good.event),
                  Delivery(TOPIC, 0, 2, "", 0, None)]
    assert view.process_deliveries(TOPIC, 0, deliveries) == 3
    assert offsets(other, view.name, TOPIC) == {0: 3}
    assert key_position(other, view.name, key) == position
