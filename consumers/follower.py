"""The in-process follower: reads the notification log and feeds the views.

On SQLite the library has no subscription, so the follower polls
`select_notifications`; a command that wrote events pokes it to skip the wait.
Each batch is applied to each view in one transaction with its position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application

from projections.base import Event, View

log = logging.getLogger(__name__)


class Follower:
    """Keeps a set of views up to date with one application's log."""

    def __init__(self, app: Application[Any], views: Sequence[View], *,
                 poll_interval: float = 0.2, batch_size: int = 500) -> None:
        self.app = app
        self.views = list(views)
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._advanced = threading.Condition()
        self._thread: threading.Thread | None = None
        self.positions = {v.name: v.position() for v in self.views}

    # ── running ───────────────────────────────────────────────────────────

    def start(self) -> None:
        """Run in a daemon thread until `stop()`."""
        self._thread = threading.Thread(target=self._run, name="tsunagi-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the current batch and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poke(self) -> None:
        """New events were written: look now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.catch_up_once()
            except Exception:  # keep serving reads; the next round retries from the view
                log.exception("follower failed; retrying")
                busy = False
                time.sleep(self.poll_interval)
            if not busy:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def catch_up_once(self) -> bool:
        """Read one batch after the slowest view and apply it; True if there was any."""
        start = min(self.positions.values(), default=0) + 1
        notifications = self.app.recorder.select_notifications(start=start,
                                                               limit=self.batch_size)
        if not notifications:
            return False
        batch: list[tuple[int, Event]] = [
            (n.id, self.app.mapper.to_domain_event(n)) for n in notifications
        ]
        for view in self.views:
            self.positions[view.name] = view.process(batch)
        with self._advanced:
            self._advanced.notify_all()
        return True

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

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every view reflects `position`, or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        self.poke()
        with self._advanced:
            while self.position() < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._advanced.wait(remaining)
        return True
