"""Views fed from Kafka by a member of a consumer group.

Each view stores, with its change and in one transaction, the next offset per
partition and the highest log position per key; on assignment the consumer
seeks to the lowest offset its views stored, and each view skips what it already
has. Nothing is committed to Kafka: a rebalance or a kill neither loses nor
doubles an effect. A message that is not ours is logged, counted and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition

from consumers.envelope import BadMessage, decode, transcoder
from consumers.metrics import BAD_MESSAGES, CONSUMER_LAG, VIEW_FAILURES, FailureLog
from projections import tracking
from projections.base import Delivery, View, ViewStopped, transient

log = logging.getLogger(__name__)

#: how often a running consumer updates its lag gauges, in seconds
LAG_EVERY = 5.0


class _SeekOnAssignment(ConsumerRebalanceListener):
    """Starts each newly assigned partition where the views left it."""

    def __init__(self, runner: ViewConsumer) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass  # offsets live with the views; nothing to commit

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.runner.assigned = set(assigned)
        self.runner.seek_pending.update(assigned)  # seek from the poll loop, not the IO thread


class ViewConsumer:
    """Runs a set of views from one topic as a member of a consumer group."""

    def __init__(self, views: Sequence[View], make_consumer: Callable[[], Any], topic: str,
                 group: str, *, poll_timeout_ms: int = 300) -> None:
        self.views = list(views)
        self.make_consumer = make_consumer
        self.topic = topic
        self.group = group
        self.poll_timeout_ms = poll_timeout_ms
        self.codec = transcoder()
        self.stopped: set[str] = set()
        self.assigned: set[TopicPartition] = set()
        self.seek_pending: set[TopicPartition] = set()
        self.bad_messages = 0
        self._failure_log = FailureLog(log)

    def run(self, stop: threading.Event, *, until_caught_up: bool = False) -> int:
        """Consume until `stop` (or, with `until_caught_up`, until the lag is 0); exit code."""
        consumer = self.make_consumer()
        consumer.subscribe([self.topic], listener=_SeekOnAssignment(self))
        next_lag = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    records = consumer.poll(timeout_ms=self.poll_timeout_ms)
                    sought = self._seek(consumer)
                    for tp, batch in records.items():
                        if tp not in sought:  # fetched before the seek: read again after it
                            self._apply(tp, batch)
                    if until_caught_up and not records and self._caught_up(consumer):
                        break
                    if time.monotonic() >= next_lag and consumer.assignment():
                        self.lag(consumer.end_offsets(list(consumer.assignment())))
                        next_lag = time.monotonic() + LAG_EVERY
                except Exception as exc:
                    if not transient(exc):
                        raise
                    log.warning("views unavailable (%s); reading again from their offsets", exc)
                    self.seek_pending.update(self.assigned)
                    stop.wait(1.0)
        finally:
            consumer.close(autocommit=False)
        return 1 if self.stopped else 0

    def _seek(self, consumer: Any) -> set[TopicPartition]:
        sought: set[TopicPartition] = set()
        while self.seek_pending:  # pop(): the rebalance listener may add to it meanwhile
            tp = self.seek_pending.pop()
            if tp in consumer.assignment():
                consumer.seek(tp, self._start_offset(tp))
            sought.add(tp)
        return sought

    def _start_offset(self, tp: TopicPartition) -> int:
        running = [v for v in self.views if v.name not in self.stopped] or self.views
        return min(tracking.offsets(v.db, v.name, tp.topic).get(tp.partition, 0)
                   for v in running)

    def _apply(self, tp: TopicPartition, records: Sequence[Any]) -> None:
        deliveries = [self._delivery(r) for r in records]
        for view in self.views:
            if view.name in self.stopped:
                continue
            try:
                view.process_deliveries(tp.topic, tp.partition, deliveries)
            except ViewStopped as stopped:
                self.stopped.add(view.name)
                VIEW_FAILURES.labels(view=view.name).inc()
                self._failure_log.failed(stopped)

    def _delivery(self, record: Any) -> Delivery:
        try:
            message = decode(record.value, self.codec)
        except BadMessage as bad:
            self.bad_messages += 1
            BAD_MESSAGES.labels(topic=record.topic, reason=bad.reason).inc()
            log.warning("skipped the message at %s/%d@%d: %s", record.topic, record.partition,
                        record.offset, bad)
            return Delivery(record.topic, record.partition, record.offset, "", 0, None)
        return Delivery(record.topic, record.partition, record.offset, message.route.key,
                        message.position, message.event)

    def lag(self, ends: dict[TopicPartition, int]) -> dict[str, dict[int, int]]:
        """Per running view, the messages left per partition."""
        out: dict[str, dict[int, int]] = {}
        for view in self.views:
            if view.name in self.stopped:
                continue
            reached = tracking.offsets(view.db, view.name, self.topic)
            out[view.name] = {tp.partition: max(end - reached.get(tp.partition, 0), 0)
                              for tp, end in ends.items()}
            for partition, behind in out[view.name].items():
                CONSUMER_LAG.labels(group=self.group, view=view.name,
                                    partition=str(partition)).set(behind)
        return out

    def _caught_up(self, consumer: Any) -> bool:
        assignment = consumer.assignment()
        if not assignment or self.seek_pending:
            return False
        ends = consumer.end_offsets(list(assignment))
        return all(behind == 0 for per_view in self.lag(ends).values()
                   for behind in per_view.values())

