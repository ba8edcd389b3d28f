"""How the views an API process reads are fed, behind one interface.

`LogFeed`: an in-process follower applies the log (embedded, and PostgreSQL
without Kafka). `KafkaFeed` (`TSUNAGI_VIEW_FEED=kafka`): `tsunagi consume`
processes keep the views; this process only reads where they are.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from consumers.follower import Follower
from consumers.routing import Router
from projections import tracking
from projections.base import View
from projections.tracking import ViewFailure

#: how often a Kafka-fed read with `min_position` looks at its view again, in seconds
WAIT_STEP = 0.05
#: how long a Kafka-fed process trusts what it read of the views' failures, in seconds
FAILURES_TTL = 0.5


@dataclass(frozen=True)
class PartitionState:
    """Where a Kafka-fed view is on one partition."""

    partition: int
    next_offset: int
    lag: int | None  # None when the broker could not be asked


@dataclass(frozen=True)
class ViewState:
    """One view as `/healthz` and `tsunagi projections status` show it."""

    view: str
    feed: str  # "log" or "kafka"
    position: int  # log position (the highest applied over keys, on Kafka)
    failure: ViewFailure | None
    partitions: list[PartitionState] = field(default_factory=list)

    @property
    def state(self) -> str:
        """"running", or "stopped" after a failing event."""
        return "stopped" if self.failure else "running"


class ViewFeed(ABC):
    """What keeps a set of views and can say where each one is."""

    name: str
    views: list[View]

    def start(self) -> None:  # noqa: B027 — a feed run elsewhere has nothing to start
        """Begin feeding (while the API is served)."""

    def stop(self) -> None:  # noqa: B027
        """Stop feeding."""

    @abstractmethod
    def states(self) -> list[ViewState]:
        """Every view's state."""

    @abstractmethod
    def failure(self, view: str) -> ViewFailure | None:
        """Why the view stopped, if it did."""

    @abstractmethod
    def wait_for(self, view: str, position: int, timeout: float) -> bool:
        """Block until the view has applied the event at `position`, or `timeout` passes."""

    @abstractmethod
    def position(self, view: str) -> int:
        """Where the view is, as a log position."""


class LogFeed(ViewFeed):
    """Views fed by this process's follower from the log."""

    name = "log"

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.views = follower.views

    def start(self) -> None:
        self.follower.start()

    def stop(self) -> None:
        self.follower.stop()

    def states(self) -> list[ViewState]:
        recorded = tracking.failures(self.views[0].db) if self.views else {}
        return [ViewState(v.name, self.name, self.follower.view_position(v.name),
                          self.follower.stopped.get(v.name) or recorded.get(v.name))
                for v in self.views]

    def failure(self, view: str) -> ViewFailure | None:
        return self.follower.stopped.get(view)

    def wait_for(self, view: str, position: int, timeout: float) -> bool:
        return self.follower.wait_for(position, timeout, view=view)

    def position(self, view: str) -> int:
        return self.follower.view_position(view)


class KafkaFeed(ViewFeed):
    """Views kept by `tsunagi consume`; this process reads where they are."""

    name = "kafka"

    def __init__(self, views: Sequence[View], router: Router, topic: str,
                 end_offsets: Callable[[], dict[int, int] | None]) -> None:
        self.views = list(views)
        self.router = router
        self.topic = topic
        #: the topic's end offset per partition (None when the broker cannot be asked)
        self.end_offsets = end_offsets
        self._failures: dict[str, ViewFailure] = {}
        self._failures_at = float("-inf")

    def _recorded(self) -> dict[str, ViewFailure]:
        if time.monotonic() - self._failures_at > FAILURES_TTL and self.views:
            self._failures = tracking.failures(self.views[0].db)
            self._failures_at = time.monotonic()
        return self._failures

    def stop(self) -> None:
        close = getattr(self.end_offsets, "close", None)
        if close is not None:  # the broker client kept open for the lag
            close()

    def states(self) -> list[ViewState]:
        ends = self.end_offsets() or {}
        failures = tracking.failures(self.views[0].db) if self.views else {}
        out = []
        for view in self.views:
            reached = tracking.offsets(view.db, view.name, self.topic)
            partitions = [PartitionState(p, reached.get(p, 0),
                                         max(end - reached.get(p, 0), 0) if ends else None)
                          for p, end in sorted((ends or dict.fromkeys(reached, 0)).items())]
            out.append(ViewState(view.name, self.name, self.position(view.name),
                                 failures.get(view.name), partitions))
        return out

    def failure(self, view: str) -> ViewFailure | None:
        return self._recorded().get(view)

    def wait_for(self, view: str, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        target = self._view(view)
        route = self.router.route_at(position)
        while route is None or tracking.key_position(target.db, view, route.key) < position:
            if self.failure(view) is not None or time.monotonic() >= deadline:
                return False
            time.sleep(WAIT_STEP)
            if route is None:
                route = self.router.route_at(position)
        return True

    def position(self, view: str) -> int:
        target = self._view(view)
        with target.db.transaction() as tx:
            tx.execute("SELECT MAX(position) FROM view_key_positions WHERE view = ?", (view,))
            row = tx.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _view(self, name: str) -> View:
        return next(v for v in self.views if v.name == name)


def view_health(state: ViewState, head: int) -> dict[str, object]:
    """A view's state as `/healthz` shows it (JSON)."""
    shown: dict[str, object] = {"view": state.view, "feed": state.feed, "state": state.state,
                                "position": state.position, "lag": max(head - state.position, 0)}
    if state.feed == "kafka":
        shown["partitions"] = [{"partition": p.partition, "next_offset": p.next_offset,
                                "lag": p.lag} for p in state.partitions]
    if state.failure is not None:
        f = state.failure
        shown["failure"] = {"position": f.position, "event_type": f.event_type,
                            "error": f.error, "failed_at": f.failed_at.isoformat(),
                            "attempts": f.attempts}
    return shown
