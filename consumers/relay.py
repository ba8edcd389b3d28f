"""The relay: the notification log is the outbox, Kafka the bus.

It reads the log after its recorded position, publishes each event keyed
`<city>:<ward>` in batches, and records a batch's last position only once the
broker acknowledged every message of it and of the batches before it. It does
not wait for a batch before sending the next: up to `in_flight` batches are out
while it reads and encodes the next one. A crash between sending and recording
publishes those batches again; the consumers skip what they already applied. A
batch not acknowledged in time discards the producer (kafka-python 3.0.12's
idempotent producer can wedge after an outage) and sending starts again after
the recorded position, with a new one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from eventsourcing.persistence import JSONTranscoder
from kafka.errors import KafkaError

from consumers.envelope import Kind, encode, encode_stored, stored_kind, transcoder
from consumers.metrics import RELAY_LAG, RELAY_PUBLISHED
from consumers.routing import Router
from infra.kafka import clients
from infra.sql import Database

log = logging.getLogger(__name__)

#: how often the relay asks for the log's end to set its lag gauge, in seconds
LAG_INTERVAL = 1.0
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


class InFlight:
    """A batch sent: its last log position, and the futures of its messages."""

    __slots__ = ("_seen", "failed", "futures", "last")

    def __init__(self, last: int, futures: list[Any]) -> None:
        self.last = last
        self.futures = futures
        self._seen = 0  # the futures before this one are done
        self.failed = False

    def done(self) -> bool:
        """Whether every message is done (acknowledged, or `failed`); each future is looked
        at until it is done, once after that."""
        futures, i, end = self.futures, self._seen, len(self.futures)
        while i < end and futures[i].is_done:
            if futures[i].exception is not None:
                self.failed = True
            i += 1
        self._seen = i
        return i == end


class Relay:
    """Publishes the log to a topic, at least once, in log order per key."""

    def __init__(self, log_app: Any, db: Database, make_producer: Callable[[], Any],
                 topic: str, *, lease: Lease, waker: Callable[[threading.Event], Waker],
                 batch_size: int = 2000, flush_timeout: float = 30.0,
                 poll_interval: float = 0.2, in_flight: int = 4) -> None:
        self.log_app = log_app
        self.db = db
        self.make_producer = make_producer
        self.topic = topic
        self.lease = lease
        self.make_waker = waker
        self.batch_size = batch_size
        self.flush_timeout = flush_timeout
        self.poll_interval = poll_interval
        #: batches sent and not yet acknowledged before the relay waits for the oldest
        self.in_flight = in_flight
        self.router = Router(log_app)
        self.codec = transcoder()
        self._producer: Any = None
        #: the next log position to send; None: the one after the recorded position
        self._next: int | None = None
        #: batches sent, oldest first, not yet recorded
        self._pending: deque[InFlight] = deque()
        self._kinds: dict[str, Kind | None] = {}
        self._key_partitions: clients.KeyPartitions | None = None
        self._head, self._head_at = 0, -LAG_INTERVAL  # the log's end, and when it was read
        #: the stored state is the JSON transcoder's, as is (not enciphered nor compressed)
        mapper = log_app.mapper
        self._plain = (isinstance(mapper.transcoder, JSONTranscoder)
                       and mapper.cipher is None and mapper.compressor is None)
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
        """Send the batch after what was sent, record what the broker acknowledged so far;
        how many events the batch held. With nothing left to send it waits for what is in
        flight, so an idle relay's recorded position is the end of what it read."""
        if self._next is None:
            self._next = self.position() + 1
        notifications = self.log_app.recorder.select_notifications(start=self._next,
                                                                   limit=self.batch_size)
        if not notifications:
            self.settle(wait=True)
            self._lag(self._next - 1)
            return 0
        if self._producer is None:
            self._producer = self.make_producer()
        try:
            futures = self._send(notifications)
        except KafkaError as exc:  # no room or no metadata in time: the broker is away
            self._fail(f"sending failed: {exc}")
        last = notifications[-1].id
        self._pending.append(InFlight(last, futures))
        self._next = last + 1
        self.settle()
        return len(notifications)

    def _send(self, notifications: Sequence[Any]) -> list[Any]:
        """Send each event's message; the futures of their acknowledgements. The batch is
        encoded before the first is sent: sent back to back, the messages fill the
        producer's batches as a bare producer's do, where sending one by one between
        encodings lets `linger_ms` close smaller ones (more requests; ~8 % slower here)."""
        producer, topic = self._producer, self.topic
        messages = list(map(self.message, notifications))
        send = producer.send
        partitions = self._key_partitions = clients.key_partitions(producer, topic,
                                                                   self._key_partitions)
        if partitions is None:
            return [send(topic, key=key, value=value) for key, value in messages]
        return [send(topic, key=key, value=value, partition=partitions(key))
                for key, value in messages]

    def message(self, n: Any) -> tuple[bytes, bytes]:
        """Key and value of an event: from its stored JSON, else from its domain event."""
        kind = self._kind(n.topic) if self._plain else None
        if kind is not None:
            try:  # as the transcoder reads it (bytes given to `json.loads` cost twice as much)
                state = json.loads(n.state.decode("utf8"))
            except (ValueError, AttributeError):  # the domain event's way says what is wrong
                state = None
            if type(state) is dict:
                message = encode_stored(n.id, n.originator_id, n.originator_version, kind,
                                        state, self.router.route_of(
                                            n.originator_id, n.originator_version, state))
                if message is not None:
                    return message
        event = self.log_app.mapper.to_domain_event(n)
        return encode(n.id, event, self.router.route(event), self.codec)

    def _kind(self, topic: str) -> Kind | None:
        try:
            return self._kinds[topic]
        except KeyError:
            kind = self._kinds[topic] = stored_kind(topic)
            return kind

    def settle(self, *, wait: bool = False) -> None:
        """Record the position of the sent batches the broker acknowledged, oldest first up
        to the first one still in flight. It waits (up to `flush_timeout`) for every batch
        with `wait`, else for the oldest only when more than `in_flight` are out. A batch
        not acknowledged (failed, or not in time when waited for) raises
        `BrokerUnavailable`, and sending starts again after the position recorded."""
        if not self._pending:
            return
        required, late = 0, ""
        if wait:
            required = len(self._pending)
            try:
                self._producer.flush(timeout=self.flush_timeout)
            except KafkaError as exc:
                late = f": {exc}"
        elif len(self._pending) > self.in_flight:
            required = 1
            self._wait_for(self._pending[0].futures, time.monotonic() + self.flush_timeout)
        acknowledged, problem, settled = None, None, 0
        while self._pending:
            batch = self._pending[0]
            if not batch.done():
                if settled < required:
                    problem = f"messages not acknowledged in {self.flush_timeout:g} s{late}"
                break
            if batch.failed:
                errors = [f.exception for f in batch.futures if f.exception is not None]
                problem = (f"{len(errors)} of {len(batch.futures)} messages not"
                           f" acknowledged: {errors[0]}")
                break
            self._pending.popleft()
            acknowledged, settled = batch.last, settled + 1
        if acknowledged is not None:
            self._record(acknowledged)
            self._lag(acknowledged)
        if problem is not None:
            self._fail(problem)

    @staticmethod
    def _wait_for(futures: list[Any], deadline: float) -> None:
        """Wait until every future is done or the deadline passed (`settle` reads them)."""
        for future in futures:
            if not future.is_done:
                try:
                    future.get(timeout=max(deadline - time.monotonic(), 0.0))
                except KafkaError:  # failed or late: `settle` finds it not done or failed
                    return

    def _fail(self, problem: str) -> NoReturn:
        """Drop what is in flight and the producer: send again after the recorded position."""
        self._pending.clear()
        self._next = None
        self._discard_producer()
        raise BrokerUnavailable(problem)

    def _lag(self, published: int) -> None:
        """Set the gauges; the log's end is asked for at most every `LAG_INTERVAL` seconds
        (a query per batch is a round trip or two on PostgreSQL, for a gauge)."""
        now = time.monotonic()
        if now - self._head_at >= LAG_INTERVAL or published > self._head:
            self._head = self.log_app.recorder.max_notification_id() or 0
            self._head_at = now
        RELAY_PUBLISHED.labels(topic=self.topic).set(published)
        RELAY_LAG.labels(topic=self.topic).set(max(self._head - published, 0))

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
        self._next = None  # whoever held the lease before may have published since
        try:
            end = self.log_app.recorder.max_notification_id() or 0
            while not stop.is_set():
                try:
                    published = self.publish_once()
                    if once and self._next is not None and self._next > end:
                        self.settle(wait=True)
                        return
                except BrokerUnavailable as exc:
                    log.warning("relay: %s; sending again", exc)
                    stop.wait(min(self.poll_interval * 5, 1.0))
                    continue
                if not published:
                    waker.wait()
            self.settle(wait=True)  # stopped: what is in flight is recorded before leaving
        except BrokerUnavailable as exc:
            log.warning("relay: stopped with %s; it is sent again on the next start", exc)
        finally:
            waker.close()
            self._pending.clear()
            self._discard_producer_cleanly()
            self.lease.release()

    def _discard_producer_cleanly(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self.flush_timeout)


class BrokerUnavailable(Exception):
    """The broker did not acknowledge a batch in time: it is sent again."""
