"""What the feeding processes count for Prometheus, and a log that does not flood.

Counters live in `REGISTRY`, one per process: the API adds them to its `/metrics`
with `add_feed_metrics`; `tsunagi relay` and `tsunagi consume` serve them on
`--metrics-port`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from consumers.feeds import ViewFeed
    from projections.base import ViewStopped

REGISTRY = CollectorRegistry()

VIEW_FAILURES = Counter("tsunagi_view_failures", "Times a view's handler failed on an event",
                        ["view"], registry=REGISTRY)
BAD_MESSAGES = Counter("tsunagi_kafka_bad_messages",
                       "Messages skipped because they were not valid JSON or had an unknown"
                       " schema", ["topic", "reason"], registry=REGISTRY)
RELAY_LAG = Gauge("tsunagi_relay_lag_events",
                  "Log position minus the position the relay has published", ["topic"],
                  registry=REGISTRY)
RELAY_PUBLISHED = Gauge("tsunagi_relay_position", "Log position the relay has published",
                        ["topic"], registry=REGISTRY)
CONSUMER_LAG = Gauge("tsunagi_consumer_lag_messages",
                     "End offset minus the view's next offset, per partition",
                     ["group", "view", "partition"], registry=REGISTRY)

#: a repeating failure of the same view on the same event is logged at most this often
LOG_EVERY = 300.0


class FailureLog:
    """Logs a view's failure with its traceback once, then a line at most every LOG_EVERY s."""

    def __init__(self, logger: logging.Logger, every: float = LOG_EVERY) -> None:
        self.logger = logger
        self.every = every
        self._last: dict[tuple[str, int], float] = {}
        self._suppressed: dict[tuple[str, int], int] = {}

    def failed(self, stopped: ViewStopped) -> None:
        """Log one failure, unless the same one was logged recently."""
        f = stopped.failure
        key = (f.view, f.position)
        now = time.monotonic()
        last = self._last.get(key)
        if last is None:
            self.logger.error("view %s stopped at position %d (%s): %s; the other views go on",
                              f.view, f.position, f.event_type, f.error, exc_info=stopped)
        elif now - last >= self.every:
            self.logger.error("view %s still fails at position %d (%s): %s"
                              " (%d failures not logged since)", f.view, f.position,
                              f.event_type, f.error, self._suppressed.get(key, 0))
        else:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        self._suppressed[key] = 0


class _FeedCollector(Collector):
    """Each view's state as gauges, read from the feed when scraped."""

    def __init__(self, feed: ViewFeed) -> None:
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        stopped = GaugeMetricFamily("tsunagi_view_stopped",
                                    "1 while a view is stopped by a failing event", labels=["view"])
        position = GaugeMetricFamily("tsunagi_view_position",
                                     "Log position the view reflects (highest over keys on Kafka)",
                                     labels=["view"])
        for state in self.feed.states():
            stopped.add_metric([state.view], 1.0 if state.failure else 0.0)
            position.add_metric([state.view], float(state.position))
        yield stopped
        yield position
        yield from REGISTRY.collect()


def add_feed_metrics(registry: CollectorRegistry, feed: ViewFeed) -> None:
    """Add the views' states and this process's feed counters to a registry being served."""
    registry.register(_FeedCollector(feed))
