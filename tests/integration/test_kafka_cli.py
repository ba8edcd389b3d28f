"""The scale-out commands for people: `tsunagi kafka up|status|down`, relays taking turns."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.demo import load_demo
from infra.kafka.broker import KafkaBroker
from infra.settings import Settings
from tests.kafka_helpers import PATIENCE, ScaleOut, wait_until
from wiring.bootstrap import build

pytestmark = pytest.mark.kafka
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _tsunagi(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wiring.cli", *args], capture_output=True,
                          text=True, timeout=PATIENCE, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
                               "TSUNAGI_DATA_DIR": str(data_dir)})


def test_kafka_up_starts_a_broker_in_the_background_and_down_stops_it(tmp_path: Path) -> None:
    data = tmp_path / "var"
    try:
        up = _tsunagi("kafka", "up", data_dir=data)
        assert up.returncode == 0, up.stderr
        last = up.stdout.strip().splitlines()[-1]
        assert last.startswith("TSUNAGI_KAFKA_BOOTSTRAP=127.0.0.1:")
        broker = KafkaBroker(data / "kafka")
        assert broker.running(), "the broker outlives the command that started it"
        assert last == f"TSUNAGI_KAFKA_BOOTSTRAP={broker.bootstrap}"

        again = _tsunagi("kafka", "up", data_dir=data)  # no second broker on the same data
        assert again.returncode == 0
        assert again.stdout.strip().splitlines()[-1] == last
        status = _tsunagi("kafka", "status", data_dir=data)
        assert status.returncode == 0 and last in status.stdout
    finally:
        down = _tsunagi("kafka", "down", data_dir=data)
    assert down.returncode == 0, down.stderr
    assert not KafkaBroker(data / "kafka").running()
    assert _tsunagi("kafka", "status", data_dir=data).returncode == 1


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_two_relays_on_one_store_take_turns_and_publish_each_event_once(
        tmp_path: Path, kafka_broker: KafkaBroker, kafka_topic: str, backend: str,
        request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    c = build(settings, clock=lambda: NOW)
    try:
        load_demo(c.app, NOW)
        head = c.app.position()
    finally:
        c.close()
    scale = ScaleOut(settings, kafka_broker, kafka_topic, tmp_path / "logs")
    relays = [scale.start("relay") for _ in range(2)]
    try:
        wait_until(lambda: scale.relay_position() == head, "one relay published the log")
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
        assert [relay.wait(timeout=60) for relay in relays] == [0, 0]
    finally:
        for relay in relays:
            if relay.poll() is None:
                relay.kill()
    positions = [json.loads(m.value)["position"] for m in scale.messages()]
    assert sorted(positions) == list(range(1, head + 1)), "no event published twice"


def test_relay_and_consume_without_a_broker_say_what_is_missing(tmp_path: Path) -> None:
    for args in (("relay",), ("consume", "--group", "g", "--all")):
        done = _tsunagi(*args, data_dir=tmp_path)
        assert done.returncode == 2
        assert "TSUNAGI_KAFKA_BOOTSTRAP" in done.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "wiring.cli", "consume", "--group", "g", "--projection", "nope"],
        capture_output=True, text=True, timeout=PATIENCE, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
             "TSUNAGI_DATA_DIR": str(tmp_path), "TSUNAGI_KAFKA_BOOTSTRAP": "127.0.0.1:9"})
    assert unknown.returncode == 2 and "no view named nope" in unknown.stderr
