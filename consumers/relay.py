"""The relay: the notification log is the outbox, Kafka the bus.

It reads the log after its recorded position, publishes each event keyed
`<city>:<ward>`, and records the new position only once the broker acknowledged
every message of the batch. A crash between the two publishes a batch again; the
consumers skip what they already applied. A flush that times out discards the
producer (kafka-python 3.0.12's idempotent producer can wedge after an outage)
and the batch is sent again by a new one.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError

from consumers.envelope import encode, transcoder
from consumers.metrics import RELAY_LAG, RELAY_PUBLISHED
from consumers.routing import Router
from infra.sql import Database

log = logging.getLogger(__name__)

SCHEMA = ("CREATE TABLE IF NOT EXISTS relay_positions (topic TEXT PRIMARY KEY,"
          " position BIGINT NOT NULL)",)


class Waker(ABC):
    """Waits until the log may have grown."""

    @abstractmethod
    def wait(self) -> None:
        """Return when new events may be there (or after a while)."""

    def close(self) -> None:  # noqa: B027 — optional
        """Release what waiting holds."""


class PollWaker(Waker):
    """SQLite: nothing tells us, so look again after a while."""

    def __init__(self, stop: threading.Event, interval: float) -> None:
        self.stop = stop
        self.interval = interval

    def wait(self) -> None:
        self.stop.wait(self.interval)


class Lease(ABC):
    """Lets one relay per store and topic publish; the others wait their turn."""

    @abstractmethod
    def acquire(self, stop: threading.Event, interval: float) -> bool:
        """Hold the lease (waiting while another relay has it); False if stopped first."""

    @abstractmethod
    def release(self) -> None:
        """Let another relay take over."""


class Relay:
    """Publishes the log to a topic, at least once, in log order per key."""

    def __init__(self, log_app: Any, db: Database, make_producer: Callable[[], Any],
                 topic: str, *, lease: Lease, waker: Callable[[threading.Event], Waker],
                 batch_size: int = 500, flush_timeout: float = 30.0,
                 poll_interval: float = 0.2) -> None:
        self.log_app = log_app
        self.db = db
        self.make_producer = make_producer
        self.topic = topic
        self.lease = lease
        self.make_waker = waker
        self.batch_size = batch_size
        self.flush_timeout = flush_timeout
        self.poll_interval = poll_interval
        self.router = Router(log_app)
        self.codec = transcoder()
        self._producer: Any = None
        db.execute_script(SCHEMA)

    def position(self) -> int:
        """The last log position the broker acknowledged."""
        with self.db.transaction() as tx:
            tx.execute("SELECT position FROM relay_positions WHERE topic = ?", (self.topic,))
            row = tx.fetchone()
        return int(row[0]) if row else 0

    def _record(self, position: int) -> None:
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO relay_positions (topic, position) VALUES (?, ?)"
                       " ON CONFLICT (topic) DO UPDATE SET position = excluded.position",
                       (self.topic, position))

    def publish_once(self) -> int:
        """Publish one batch after the recorded position; how many events it held."""
        start = self.position() + 1
        notifications = self.log_app.recorder.select_notifications(start=start,
                                                                   limit=self.batch_size)
        if not notifications:
            self._lag(start - 1)
            return 0
        if self._producer is None:
            self._producer = self.make_producer()
        futures = []
        for n in notifications:
            event = self.log_app.mapper.to_domain_event(n)
            key, value = encode(n.id, event, self.router.route(event), self.codec)
            futures.append(self._producer.send(self.topic, key=key, value=value))
        try:
            self._producer.flush(timeout=self.flush_timeout)
            failed = [f.exception for f in futures if not f.is_done or f.failed()]
        except KafkaError as exc:
            failed = [exc]
        if failed:
            self._discard_producer()
            raise BrokerUnavailable(f"{len(failed)} of {len(futures)} messages not"
                                    f" acknowledged: {failed[0]}")
        last = notifications[-1].id
        self._record(last)
        self._lag(last)
        return len(notifications)

    def _lag(self, published: int) -> None:
        RELAY_PUBLISHED.labels(topic=self.topic).set(published)
        RELAY_LAG.labels(topic=self.topic).set(
            max((self.log_app.recorder.max_notification_id() or 0) - published, 0))

    def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:  # a wedged producer may fail to close; it is dropped anyway
                log.debug("closing a discarded producer failed", exc_info=True)

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Publish until `stop` is set (or, with `once`, up to the log's current end)."""
        if not self.lease.acquire(stop, self.poll_interval):
            return
        waker = self.make_waker(stop)
        try:
            end = self.log_app.recorder.max_notification_id() or 0
            while not stop.is_set():
                try:
                    published = self.publish_once()
                except BrokerUnavailable as exc:
                    log.warning("relay: %s; sending again", exc)
                    stop.wait(min(self.poll_interval * 5, 1.0))
                    continue
                if once and self.position() >= end:
                    return
                if not published:
                    waker.wait()
        finally:
            waker.close()
            self._discard_producer_cleanly()
            self.lease.release()

    def _discard_producer_cleanly(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self.flush_timeout)


class BrokerUnavailable(Exception):
    """The broker did not acknowledge a batch in time: it is sent again."""
