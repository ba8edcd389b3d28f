"""The relay against a producer of our own, without a broker: what it sends, what it records.

- its messages, made from the stored JSON, are byte for byte those `encode` makes from
  the domain events, and land on the partitions the producer's own partitioner picks;
- it keeps batches in flight, and records a position only once the broker acknowledged
  every message up to it;
- a batch not acknowledged drops the producer, and sending starts again after the
  position recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.partitioner.default import DefaultPartitioner

from consumers.envelope import encode, stored_kind, transcoder
from consumers.relay import BrokerUnavailable, Lease, PollWaker, Relay
from consumers.routing import Router
from infra.demo import load_demo
from infra.kafka.clients import KeyPartitions
from infra.settings import Settings
from infra.sql import Database, open_database
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TOPIC = "tsunagi.events.v1"


class Future:
    """A message's acknowledgement, settled by the test."""

    def __init__(self, key: bytes, value: bytes, partition: int | None) -> None:
        self.key, self.value, self.partition = key, value, partition
        self.is_done = False
        self.exception: Exception | None = None

    def failed(self) -> bool:
        return self.is_done and self.exception is not None

    def get(self, timeout: float | None = None) -> None:
        if not self.is_done:
            raise KafkaTimeoutError("not acknowledged")
        if self.exception is not None:
            raise self.exception


class Producer:
    """Keeps what is sent; acknowledges at once with `auto`, else when the test says."""

    def __init__(self, auto: bool = True) -> None:
        self.auto = auto
        self.sent: list[Future] = []
        self.closed = False
        self.config = {"partitioner": DefaultPartitioner()}

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(6))

    def send(self, topic: str, *, key: bytes, value: bytes,
             partition: int | None = None) -> Future:
        future = Future(key, value, partition)
        future.is_done = self.auto
        self.sent.append(future)
        return future

    def flush(self, timeout: float | None = None) -> None:
        if not all(f.is_done for f in self.sent):
            raise KafkaTimeoutError("flush timed out")

    def close(self, timeout: float | None = None) -> None:
        self.closed = True

    def acknowledge(self, upto: int, error: Exception | None = None) -> None:
        """Settle the messages up to log position `upto` (failed with `error`)."""
        for future in self.sent:
            if not future.is_done and _position(future) <= upto:
                future.is_done, future.exception = True, error


class NoLease(Lease):
    def acquire(self, stop: threading.Event, interval: float) -> bool:
        return True

    def release(self) -> None:
        pass


def _position(future: Future) -> int:
    return int(json.loads(future.value)["position"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def writer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """A store holding the demo log."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    c = build(Settings(data_dir=tmp_path / "data", database_url=url), clock=lambda: NOW)
    load_demo(c.app, NOW)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def positions(tmp_path: Path) -> Iterator[Database]:
    """Where the relay records its position."""
    db = open_database(tmp_path / "relay.sqlite")
    try:
        yield db
    finally:
        db.close()


def _relay(c: Container, db: Database, producers: list[Producer], *, auto: bool = True,
           batch_size: int = 50) -> Relay:
    """A relay of the demo log; its first producer acknowledges at once only with `auto`,
    the ones after it (made after a failure) always."""
    def make() -> Producer:
        producers.append(Producer(auto=auto or bool(producers)))
        return producers[-1]

    return Relay(c.app, db, make, TOPIC, lease=NoLease(),
                 waker=lambda stop: PollWaker(stop, 0.01), batch_size=batch_size,
                 flush_timeout=0.05, poll_interval=0.01, in_flight=2)


def test_the_messages_from_stored_json_are_those_of_the_domain_events_byte_for_byte(
        writer: Container, positions: Database) -> None:
    producers: list[Producer] = []
    relay = _relay(writer, positions, producers, batch_size=500)
    head = writer.app.position()
    relay.run(threading.Event(), once=True)
    assert relay.position() == head
    sent = [(f.key, f.value) for p in producers for f in p.sent]
    router, codec = Router(writer.app), transcoder()
    expected = []
    for n in writer.app.recorder.select_notifications(start=1, limit=100_000):
        event = writer.app.mapper.to_domain_event(n)
        expected.append(encode(n.id, event, router.route(event), codec))
    assert len(sent) == head > 500
    assert sent == expected
    partitioner = DefaultPartitioner()
    for future in producers[0].sent:  # the default partitioner's choice, worked out once a key
        assert future.partition == _default(partitioner, future.key)
    many = KeyPartitions(set(range(6)))
    for key in (f"kumamoto:ward-{i}".encode() for i in range(300)):
        assert many(key) == _default(partitioner, key)
    assert all(stored_kind(n.topic) is not None
               for n in writer.app.recorder.select_notifications(start=1, limit=100_000))


def _default(partitioner: DefaultPartitioner, key: bytes) -> int:
    class Cluster:
        def topics(self) -> set[str]:
            return {TOPIC}

        def partitions_for_topic(self, topic: str) -> set[int]:
            return set(range(6))

        def available_partitions_for_topic(self, topic: str) -> set[int]:
            return set(range(6))

    return int(partitioner.partition(TOPIC, key, key, None, None, Cluster()))


def test_a_position_is_recorded_only_once_it_and_everything_before_it_is_acknowledged(
        writer: Container, positions: Database) -> None:
    producers: list[Producer] = []
    relay = _relay(writer, positions, producers, auto=False)
    assert relay.publish_once() == 50  # 1–50 in flight
    assert relay.publish_once() == 50  # 51–100 in flight too
    producer = producers[0]
    producer.acknowledge(upto=100)
    for future in producer.sent[:50]:  # 1–50: some messages not acknowledged yet
        if _position(future) % 7 == 0:
            future.is_done = False
    relay.settle()
    assert relay.position() == 0, "nothing before 51–100 is fully acknowledged"
    producer.acknowledge(upto=100)
    relay.settle()
    assert relay.position() == 100
    assert relay.publish_once() == 50  # 101–150 sent; the store is not read again
    assert relay.position() == 100
    producer.acknowledge(upto=150)
    relay.settle(wait=True)
    assert relay.position() == 150


def test_a_batch_not_acknowledged_in_time_is_sent_again_after_the_recorded_position(
        writer: Container, positions: Database) -> None:
    producers: list[Producer] = []
    relay = _relay(writer, positions, producers, auto=False)
    relay.publish_once()
    relay.publish_once()  # 1–100 in flight: `in_flight` batches
    producers[0].acknowledge(upto=50)
    relay.publish_once()  # 101–150 sent, then the oldest, 1–50, waited for and recorded
    assert relay.position() == 50
    with pytest.raises(BrokerUnavailable, match=r"not acknowledged in 0\.05 s"):
        relay.publish_once()  # 151–200 sent, then 51–100 waited for in vain
    assert relay.position() == 50
    assert producers[0].closed, "the producer that did not deliver is dropped"
    assert relay.publish_once() == 50
    assert [_position(f) for f in producers[1].sent] == list(range(51, 101))


def test_a_failed_message_stops_the_positions_before_its_batch(
        writer: Container, positions: Database) -> None:
    producers: list[Producer] = []
    relay = _relay(writer, positions, producers, auto=False)
    relay.publish_once()
    relay.publish_once()
    producers[0].acknowledge(upto=75)
    producers[0].acknowledge(upto=100, error=KafkaTimeoutError("expired"))
    with pytest.raises(BrokerUnavailable, match="25 of 50 messages not acknowledged"):
        relay.settle()
    assert relay.position() == 50
    head = writer.app.position()
    relay.run(threading.Event(), once=True)  # the new producer acknowledges everything
    assert relay.position() == head
    assert _position(producers[1].sent[0]) == 51
