"""kafka-python clients with the settings measured to work (shared docs: kafka-broker.md)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError
from kafka.partitioner.default import DefaultPartitioner, murmur2

#: reconnect within a second of a broker coming back (the default backs off up to 30 s)
RECONNECT_BACKOFF_MAX_MS = 1000


def producer(bootstrap: str) -> KafkaProducer:
    """An idempotent producer (`acks=all`): a retried batch is written once per partition."""
    return KafkaProducer(
        bootstrap_servers=bootstrap, client_id="tsunagi-relay",
        enable_idempotence=True, acks="all", max_in_flight_requests_per_connection=5,
        linger_ms=5, batch_size=256 * 1024, reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
        allow_auto_create_topics=False,  # the relay creates it, with its partitions
        # longer than any outage we ride out: expired batches wedge kafka-python 3.0.12
        delivery_timeout_ms=120_000)


class KeyPartitions:
    """The partition of each key, as the producer's default partitioner picks it, worked
    out once per key (a relay has a handful of keys, and the partitioner spends more per
    message than anything else in `send` but the batch append: it sorts the partitions and
    hashes the key in Python every time)."""

    def __init__(self, partitions: set[int]) -> None:
        self.partitions = sorted(partitions)
        self._of: dict[bytes, int] = {}

    def __call__(self, key: bytes) -> int:
        """`DefaultPartitioner.partition` for a key that is not None."""
        try:
            return self._of[key]
        except KeyError:
            found = self.partitions[(murmur2(key) & 0x7FFFFFFF) % len(self.partitions)]
            self._of[key] = found
            return found


def key_partitions(producer: KafkaProducer, topic: str,
                   known: KeyPartitions | None = None) -> KeyPartitions | None:
    """The topic's `KeyPartitions` (`known` again while its partitions are the same); None
    when the producer has a partitioner of its own, which then picks as it does."""
    if type(producer.config["partitioner"]) is not DefaultPartitioner:
        return None
    partitions = producer.partitions_for(topic)
    if known is not None and known.partitions == sorted(partitions):
        return known
    return KeyPartitions(partitions)


def consumer(bootstrap: str, group: str, **config: Any) -> KafkaConsumer:
    """A group member that never commits to Kafka: views keep their own offsets."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, client_id=f"tsunagi-{group}",
        enable_auto_commit=False, auto_offset_reset="earliest",
        heartbeat_interval_ms=500, session_timeout_ms=6000, max_poll_records=500,
        allow_auto_create_topics=False,
        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS, **config)


def ensure_topic(bootstrap: str, topic: str, partitions: int, replication: int = 1) -> None:
    """Create the topic (`partitions` partitions, unlimited retention) unless it exists."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tsunagi-admin",
                             reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS)
    try:
        if topic in admin.list_topics():
            return
        with contextlib.suppress(TopicAlreadyExistsError):  # another relay made it meanwhile
            # kept for good: a dropped view is rebuilt by reading the topic from the start
            admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                          replication_factor=replication,
                                          topic_configs={"retention.ms": "-1"})])
    finally:
        admin.close()


def end_offsets(bootstrap: str, topic: str, timeout_ms: int = 5000) -> dict[int, int]:
    """The end offset of every partition of the topic."""
    reader = EndOffsets(bootstrap, topic, timeout_ms)
    try:
        ends = reader()
    finally:
        reader.close()
    if ends is None:
        raise KafkaTimeoutError(f"no end offsets for {topic} from {bootstrap}")
    return ends


class EndOffsets:
    """Asks the broker for a topic's end offsets on one client kept open (None on failure)."""

    def __init__(self, bootstrap: str, topic: str, timeout_ms: int = 5000) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout_ms = timeout_ms
        self._client: KafkaConsumer | None = None
        self._lock = threading.Lock()  # requests from several HTTP threads take turns

    def __call__(self) -> dict[int, int] | None:
        with self._lock:
            try:
                if self._client is None:
                    self._client = KafkaConsumer(
                        bootstrap_servers=self.bootstrap, client_id="tsunagi-lag",
                        request_timeout_ms=self.timeout_ms + 500, allow_auto_create_topics=False,
                        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS)
                parts = self._client.partitions_for_topic(self.topic) or set()
                ends = self._client.end_offsets([TopicPartition(self.topic, p) for p in parts],
                                                timeout_ms=self.timeout_ms)
                return {tp.partition: int(offset) for tp, offset in ends.items()}
            except Exception:  # the broker is away: callers show offsets without lag
                self.close()
                return None

    def close(self) -> None:
        """Release the client."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
