"""What the relay needs from each store: a lease, and a way to wait for new events.

SQLite: a lock on a file beside the log, and polling. PostgreSQL: a session
advisory lock, and LISTEN on the channel the event store NOTIFYs on each insert.
"""

from __future__ import annotations

import fcntl
import threading
import zlib
from pathlib import Path
from typing import Any

import psycopg

from consumers.relay import Lease, Waker

#: the longest a relay on PostgreSQL waits without a NOTIFY before it looks anyway
NOTIFY_WAIT = 5.0


class FileLease(Lease):
    """An exclusive lock on a file (SQLite: the relays share one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def acquire(self, stop: threading.Event, interval: float) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        while not stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                stop.wait(interval)
                continue
            self._file = handle
            return True
        handle.close()
        return False

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLease(Lease):
    """A PostgreSQL session advisory lock, held on a connection of its own."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.key = zlib.crc32(name.encode())  # a stable 32-bit key for the lock's name
        self._conn: psycopg.Connection[Any] | None = None

    def acquire(self, stop: threading.Event, interval: float) -> bool:
        conn = psycopg.connect(self.url, autocommit=True)
        while not stop.is_set():
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if row and row[0]:
                self._conn = conn
                return True
            stop.wait(interval)
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session releases its advisory locks
            self._conn = None


class NotifyWaker(Waker):
    """Waits for the event store's NOTIFY (or NOTIFY_WAIT seconds)."""

    def __init__(self, url: str, channel: str, stop: threading.Event) -> None:
        self.url = url
        self.channel = channel
        self.stop = stop
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self) -> None:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.url, autocommit=True)
                self._conn.execute(f'LISTEN "{self.channel}"')
                return  # events written before LISTEN: the caller reads the log once more
            for _ in self._conn.notifies(timeout=NOTIFY_WAIT, stop_after=1):
                pass
        except psycopg.OperationalError:  # the server went away: poll until it is back
            self.close()
            self.stop.wait(1.0)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
