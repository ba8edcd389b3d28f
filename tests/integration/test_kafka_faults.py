"""Faults against the real broker (issue 8), on SQLite and on PostgreSQL.

The relay and the consumers run as real `tsunagi relay` / `tsunagi consume`
processes; a fault is a real SIGKILL, a real broker stop. After each, the
Kafka-fed views must equal views rebuilt from the log alone.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from api.app import create_app
from infra.demo import load_demo
from infra.kafka.broker import KafkaBroker, free_port
from infra.kafka.clients import end_offsets
from infra.settings import Settings
from infra.sql import Database, open_database
from tests.kafka_helpers import ScaleOut, rebuilt_from_log, wait_until
from wiring.bootstrap import Container, build

pytestmark = pytest.mark.kafka
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
VIEW_NAMES = ("needs_index", "proposals_index", "department_queue", "ward_feedback",
              "clock_facts", "clock_summaries", "ward_agenda", "indicator_observations")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings,
                                                                           Database]]:
    """Settings of a fresh store, and an empty database of the same kind for rebuilds."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        settings = Settings(data_dir=tmp_path / "data",
                            database_url=request.getfixturevalue("postgres_url"))
        other = open_database(server.create_database(f"rebuilt_{uuid.uuid4().hex}"))
    else:
        settings = Settings(data_dir=tmp_path / "data", database_url="")
        other = open_database(tmp_path / "rebuilt.sqlite")
    try:
        yield settings, other
    finally:
        other.close()


@pytest.fixture
def scale(store: tuple[Settings, Database], kafka_broker: KafkaBroker, kafka_topic: str,
          tmp_path: Path) -> ScaleOut:
    return ScaleOut(store[0], kafka_broker, kafka_topic, tmp_path / "logs")


@pytest.fixture
def writer(scale: ScaleOut) -> Iterator[Container]:
    """The store's application, holding the demo history; it runs no follower."""
    c = build(scale.settings, clock=lambda: NOW)
    load_demo(c.app, NOW)
    try:
        yield c
    finally:
        c.close()


def _caught_up(scale: ScaleOut) -> bool:
    """Every Kafka-fed view has read every partition to its end."""
    ends = end_offsets(scale.broker.bootstrap, scale.topic)
    reached = scale.offsets()
    return len(reached) == len(VIEW_NAMES) and all(
        reached[v].get(p, 0) >= end for v in reached for p, end in ends.items())


def _positions_per_key(scale: ScaleOut) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for record in scale.messages():
        out.setdefault(record.key.decode(), []).append(json.loads(record.value)["position"])
    return out


def test_a_relay_killed_mid_stream_and_restarted_delivers_every_event_once_in_effect(
        scale: ScaleOut, writer: Container, store: tuple[Settings, Database]) -> None:
    head = writer.app.position()
    relay = scale.start("relay", TSUNAGI_RELAY_BATCH_SIZE="10")
    wait_until(lambda: scale.relay_position() >= 200, "the relay published 200 events")
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    assert scale.relay_position() < head, "killed before the end of the log"

    scale.run("relay", "--once", TSUNAGI_RELAY_BATCH_SIZE="10")
    assert scale.relay_position() == head
    published = {p for positions in _positions_per_key(scale).values() for p in positions}
    assert published == set(range(1, head + 1)), "every event arrived at least once"

    scale.run("consume", "--group", "views", "--all", "--until-caught-up")
    assert scale.kafka_dump() == rebuilt_from_log(writer, store[1])


def test_one_of_two_consumers_killed_the_other_takes_over_and_the_views_end_complete(
        scale: ScaleOut, writer: Container, store: tuple[Settings, Database]) -> None:
    scale.run("relay", "--once")
    first = scale.start("consume", "--group", "views", "--all")
    second = scale.start("consume", "--group", "views", "--all")
    try:
        wait_until(lambda: any(any(o.values()) for o in scale.offsets().values()),
                   "the consumers started applying")
        first.send_signal(signal.SIGKILL)
        first.wait()
        wait_until(lambda: _caught_up(scale), "the survivor read every partition")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    assert scale.kafka_dump() == rebuilt_from_log(writer, store[1])


def test_a_broker_stopped_ten_seconds_loses_nothing_and_reorders_no_ward(
        scale: ScaleOut, writer: Container, store: tuple[Settings, Database]) -> None:
    staff = writer.users.add("staff", "ward_staff", "higashi", None, None)[1]
    written = threading.Event()

    def keep_writing() -> None:  # needs keep coming while the broker is away
        with TestClient(create_app(writer, follow=False),
                        headers={"Authorization": f"Bearer {staff}"}) as client:
            for i in range(60):
                response = client.post("/api/v1/needs", json={
                    "ward": "higashi", "office": "higashi-exchange-room-1",
                    "source": "counter", "policy_area": "transport", "title": f"停電中の件 {i}",
                    "description": "ブローカー停止中に記録", "observed_on": "2026-11-20"})
                assert response.status_code == 201, response.text
                time.sleep(0.25)
        written.set()

    relay = scale.start("relay", TSUNAGI_RELAY_BATCH_SIZE="20", TSUNAGI_KAFKA_FLUSH_TIMEOUT="5")
    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        wait_until(lambda: scale.relay_position() > 100, "the relay is publishing")
        scale.broker.stop()
        time.sleep(10)
        scale.broker.start()
        thread.join()
        head = writer.app.position()
        wait_until(lambda: scale.relay_position() == head, "the relay published everything")
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=60) == 0, "SIGTERM: finish the batch, record, exit 0"
    finally:
        if relay.poll() is None:
            relay.kill()
        thread.join()
    assert written.is_set()

    for key, positions in _positions_per_key(scale).items():
        first_seen = list(dict.fromkeys(positions))  # a copy sent again comes later
        assert first_seen == sorted(first_seen), f"{key}: events out of order"
    scale.run("consume", "--group", "views", "--all", "--until-caught-up")
    assert scale.kafka_dump() == rebuilt_from_log(writer, store[1])


def test_messages_not_ours_are_counted_skipped_and_the_consumer_goes_on(
        scale: ScaleOut, writer: Container, store: tuple[Settings, Database]) -> None:
    scale.run("relay", "--once")
    producer = KafkaProducer(bootstrap_servers=scale.broker.bootstrap)
    for value in (b"{not json", json.dumps({"schema": "someone.else/v3"}).encode()):
        producer.send(scale.topic, key=b"kumamoto:higashi", value=value)
    producer.flush(timeout=30)
    producer.close()
    port = free_port()
    consumer = scale.start("consume", "--group", "views", "--all", "--metrics-port", str(port))
    try:
        wait_until(lambda: _caught_up(scale), "the consumer read past the bad messages")
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=60)
    for reason in ("invalid-json", "unknown-schema"):
        assert (f'tsunagi_kafka_bad_messages_total{{reason="{reason}",topic="{scale.topic}"}}'
                " 1.0") in text
    assert scale.kafka_dump() == rebuilt_from_log(writer, store[1])


def test_no_message_holds_a_reporters_name_or_contact(scale: ScaleOut,
                                                      writer: Container) -> None:
    staff = writer.users.add("staff", "ward_staff", "higashi", None, None)[1]
    people = [("熊本 太郎", "096-000-1234"), ("桜木 花子", "hanako@example.jp")]
    with TestClient(create_app(writer, follow=False),
                    headers={"Authorization": f"Bearer {staff}"}) as client:
        for name, contact in people:
            response = client.post("/api/v1/needs", json={
                "ward": "higashi", "office": "higashi-exchange-room-1", "source": "counter",
                "policy_area": "transport", "title": "街灯が暗い", "description": "通学路",
                "observed_on": "2026-11-20", "reporter": {"name": name, "contact": contact}})
            assert response.status_code == 201, response.text
    scale.run("relay", "--once")
    messages = scale.messages()
    assert len(messages) == writer.app.position()
    for record in messages:
        text = record.key.decode() + record.value.decode()
        for name, contact in people:
            assert name not in text and contact not in text
    assert sum('"reporter_ref"' in m.value.decode() for m in messages) > 0
