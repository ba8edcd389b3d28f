"""The in-process follower: reads the notification log and feeds the views.

On SQLite the library has no subscription, so the follower polls
`select_notifications`; a command that wrote events pokes it to skip the wait.
On PostgreSQL it subscribes to the log instead (`recorder.subscribe`, woken by
LISTEN/NOTIFY), so writes by any process reach the views without polling.
Each batch is applied to each view in one transaction with its position. A view
whose handler raises on an event stops there (recorded, logged, counted) while the
others go on; it is tried again every `retry_interval` seconds and at a restart.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, Notification, Subscription

from consumers.metrics import VIEW_FAILURES, FailureLog
from projections.base import Event, View, ViewStopped
from projections.tracking import ViewFailure

log = logging.getLogger(__name__)

#: on PostgreSQL, how long after (re)subscribing the follower reads the log once itself:
#: the library's subscription reads the log before its LISTEN is in place, so a write
#: committed in between would otherwise wait for the next NOTIFY
FIRST_RESYNC = 1.0
#: on PostgreSQL, the least time between such safety reads of the log afterwards
MIN_RESYNC_INTERVAL = 5.0


def supports_subscription(recorder: ApplicationRecorder) -> bool:
    """True when the recorder's `subscribe()` is pushed by the database (PostgreSQL)."""
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder
    except ImportError:  # pragma: no cover — the postgres extra is not installed
        return False
    return isinstance(recorder, PostgresApplicationRecorder)


class _End:
    """Put in the inbox when the subscription ended (with its error, if any)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Follower:
    """Keeps a set of views up to date with one application's log."""

    def __init__(self, app: Application[Any], views: Sequence[View], *,
                 poll_interval: float = 0.2, batch_size: int = 500,
                 subscribe: bool | None = None, retry_interval: float = 60.0) -> None:
        self.app = app
        self.views = list(views)
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        #: follow a subscription (None: whenever the recorder is PostgreSQL's)
        self.subscribe = (supports_subscription(app.recorder) if subscribe is None
                          else subscribe)
        #: on a subscription, the time between safety reads of the log
        self.resync_interval = max(poll_interval, MIN_RESYNC_INTERVAL)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._advanced = threading.Condition()
        self._apply_lock = threading.Lock()  # one batch at a time: thread and catch_up()
        self._thread: threading.Thread | None = None
        self._subscription: Subscription[Any] | None = None
        self.positions = {v.name: v.position() for v in self.views}
        #: views stopped by a failing handler in this process, and when each is tried again
        self.stopped: dict[str, ViewFailure] = {}
        self.retry_interval = retry_interval
        self._retry_at: dict[str, float] = {}
        #: views taken up again after a stop: behind the subscription's stream, they are
        #: fed by reads of the log (whose ids may have gaps, so ids cannot tell)
        self._behind: set[str] = set()
        self._failure_log = FailureLog(log)

    # ── running ───────────────────────────────────────────────────────────

    def start(self) -> None:
        """Run in a daemon thread until `stop()`."""
        self._stop.clear()
        target = self._follow if self.subscribe else self._run
        self._thread = threading.Thread(target=target, name="tsunagi-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the current batch and stop (ending the subscription, if any)."""
        self._stop.set()
        self._wake.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poke(self) -> None:
        """New events were written: look now rather than at the next poll.

        On a subscription NOTIFY already wakes the follower, so this changes nothing.
        """
        self._wake.set()

    def _run(self) -> None:
        """Poll the log (SQLite)."""
        while not self._stop.is_set():
            try:
                busy = self.catch_up_once()
            except Exception:  # keep serving reads; the next round retries from the view
                log.exception("follower failed; retrying")
                busy = False
                self._stop.wait(self.poll_interval)
            if not busy:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def _follow(self) -> None:
        """Follow a subscription to the log (PostgreSQL), resubscribing after a failure."""
        while not self._stop.is_set():
            try:
                self._follow_subscription()
            except Exception:  # keep serving reads; resubscribe from the views' positions
                log.exception("follower failed; resubscribing")
                self._stop.wait(min(self.poll_interval, 1.0))

    def _follow_subscription(self) -> None:
        subscription = self.app.recorder.subscribe(gt=self.position())
        self._subscription = subscription
        inbox: queue.Queue[Notification | _End] = queue.Queue(maxsize=2 * self.batch_size)
        pump = threading.Thread(target=self._pump, args=(subscription, inbox),
                                name="tsunagi-follower-subscription", daemon=True)
        with subscription:
            pump.start()
            try:
                if self._stop.is_set():  # stop() came before the subscription was seen
                    return
                self._apply_from(inbox)
            finally:
                subscription.stop()
                while pump.is_alive():  # unblock the pump if the inbox is full
                    with contextlib.suppress(queue.Empty):
                        inbox.get(timeout=0.05)
                pump.join()
                self._subscription = None

    @staticmethod
    def _pump(subscription: Subscription[Any], inbox: queue.Queue[Notification | _End]) -> None:
        """Move notifications from the (blocking) subscription to the inbox."""
        try:
            for notification in subscription:
                inbox.put(notification)
        except BaseException as error:  # the subscription's own threads failed
            inbox.put(_End(error))
        else:
            inbox.put(_End())

    def _apply_from(self, inbox: queue.Queue[Notification | _End]) -> None:
        """Apply what arrives in batches (what is there, up to batch_size) until stopped."""
        next_resync = time.monotonic() + min(FIRST_RESYNC, self.resync_interval)
        while not self._stop.is_set():
            try:
                item = inbox.get(timeout=max(next_resync - time.monotonic(), 0))
            except queue.Empty:  # nothing for a while: read the log once, in case
                while not self._stop.is_set() and self.catch_up_once():
                    pass
                next_resync = time.monotonic() + self.resync_interval
                continue
            notifications: list[Notification] = []
            end: _End | None = None
            while True:
                if isinstance(item, _End):
                    end = item
                    break
                notifications.append(item)
                if len(notifications) >= self.batch_size:
                    break
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
            if notifications and not self._stop.is_set():
                self._apply(notifications)
                while self._behind and not self._stop.is_set() and self.catch_up_once():
                    pass
            if end is not None:
                if end.error is not None:
                    raise end.error
                return

    def catch_up_once(self) -> bool:
        """Read one batch after the slowest running view and apply it; True if there was any."""
        active = self._active()
        if not active:
            return False
        start = min(self.positions[v.name] for v in active) + 1
        notifications = self.app.recorder.select_notifications(start=start,
                                                               limit=self.batch_size)
        if not notifications:
            self._behind.clear()  # every view has read the log to its end
            return False
        self._apply(notifications, from_log=True)
        return True

    def _active(self) -> list[View]:
        """The views not stopped, and the stopped ones whose retry is due."""
        now = time.monotonic()
        for name in [n for n, at in self._retry_at.items() if at <= now]:
            del self._retry_at[name]
            self.stopped.pop(name, None)
            self._behind.add(name)
        return [v for v in self.views if v.name not in self.stopped]

    def _apply(self, notifications: Sequence[Notification], from_log: bool = False) -> None:
        """Apply notifications to every running view, each view in one transaction.

        `from_log`: read from the log after the slowest view, so every view may take them.
        """
        with self._apply_lock:
            active = self._active()
            # Another path (catch_up(), a safety read) may have applied some already.
            done = min((self.positions[v.name] for v in active), default=0)
            batch: list[tuple[int, Event]] = [
                (n.id, self.app.mapper.to_domain_event(n)) for n in notifications if n.id > done
            ]
            if not batch:
                return
            for view in active:
                if not from_log and view.name in self._behind:
                    continue  # taken up again: catch_up_once() feeds it from the log
                try:
                    self.positions[view.name] = view.process(batch)
                except ViewStopped as stopped:
                    self._stopped(view, stopped)
        with self._advanced:
            self._advanced.notify_all()

    def _stopped(self, view: View, stopped: ViewStopped) -> None:
        """Keep the view where it stood and try it again later; the others go on."""
        self.positions[view.name] = stopped.reached
        self.stopped[view.name] = stopped.failure
        self._retry_at[view.name] = time.monotonic() + self.retry_interval
        VIEW_FAILURES.labels(view=view.name).inc()
        self._failure_log.failed(stopped)

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Apply everything in the log now (used by rebuilds and tests)."""
        end = self.app.recorder.max_notification_id() or 0
        while self.catch_up_once():
            if progress is not None:
                progress(min(self.positions.values(), default=0), end)

    # ── waiting ───────────────────────────────────────────────────────────

    def position(self) -> int:
        """The position every view has reached."""
        return min(self.positions.values(), default=0)

    def view_position(self, name: str) -> int:
        """The position one view has reached."""
        return self.positions[name]

    def wait_for(self, position: int, timeout: float, view: str | None = None) -> bool:
        """Block until `view` (default: every view) reflects `position`, or `timeout` passes.

        A named view that stopped on a failing event cannot get there: False at once.
        (Waiting for every view waits through a stop, for the stopped view's retry.)
        """
        names = [view] if view is not None else list(self.positions)
        deadline = time.monotonic() + timeout
        self.poke()
        with self._advanced:
            while min(self.positions[n] for n in names) < position:
                if view is not None and view in self.stopped:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._advanced.wait(remaining)
        return True

    def reset(self, views: Sequence[View]) -> None:
        """Forget what this process knew of these views (after they were dropped)."""
        with self._apply_lock:
            for view in views:
                self.positions[view.name] = view.position()
                self.stopped.pop(view.name, None)
                self._retry_at.pop(view.name, None)
