"""One real Kafka broker for the whole test session, and a fresh topic per test.

The broker runs from Maven Central jars (infra/kafka/): with Java or Maven
missing the fixture fails with the launcher's message, it never skips.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from infra.kafka.broker import KafkaBroker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A single-node broker on free loopback ports, started on first use."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_topic() -> str:
    """A topic name of this test's own (the relay creates it)."""
    return f"tsunagi.test.{uuid.uuid4().hex[:12]}"
