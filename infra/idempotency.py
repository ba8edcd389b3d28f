"""Remembered responses for `Idempotency-Key`: a retried POST gets the first answer again."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.sql import Database, Tx

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS idempotency ("
    " user_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL,"
    " body_hash TEXT NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL,"
    " body TEXT NOT NULL, created_at TEXT NOT NULL,"
    " PRIMARY KEY (user_id, method, path, key))",
)
#: responses are kept at least this long (the contract says 24 hours)
RETENTION = timedelta(hours=48)
#: a claim whose request never finished (a crashed process) is released after this
STALE_CLAIM = timedelta(minutes=2)
#: seconds between purges of records past their time. Each purge scans the table (a few
#: milliseconds at 10,000 keys, under the write lock), so it is not done on every claim;
#: `begin` itself treats a record past its time as absent, whenever it was purged.
PURGE_INTERVAL = 60.0


@dataclass(frozen=True)
class StoredResponse:
    """The first response given to a key."""

    body_hash: str
    status: int
    headers: dict[str, str]
    body: bytes


def body_digest(body: bytes) -> str:
    """A stable digest of a request body (JSON is canonicalised when it parses)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True,
                               ensure_ascii=False).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyStore:
    """Keys scoped to user, method and path."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute_script(SCHEMA)
        self._next_purge = 0.0  # the first claim purges

    def begin(self, user_id: str, method: str, path: str, key: str,
              body_hash: str) -> StoredResponse | None:
        """Claim the key for this request, or return what it already holds.

        None: the caller owns the key and must `finish` or `abandon` it. Otherwise the
        stored response, whose `status` is 0 while its first request is still running.
        A record past its time (kept beyond `RETENTION`, or a claim older than
        `STALE_CLAIM`) counts as absent: the key is claimed anew.
        """
        now = datetime.now(UTC)
        expired, stale = (now - RETENTION).isoformat(), (now - STALE_CLAIM).isoformat()
        scope = (user_id, method, path, key)
        with self.db.transaction() as tx:
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + PURGE_INTERVAL
                tx.execute("DELETE FROM idempotency WHERE created_at < ?"
                           " OR (status = 0 AND created_at < ?)", (expired, stale))
            tx.execute("INSERT INTO idempotency (user_id, method, path, key, body_hash, status,"
                       " headers, body, created_at) VALUES (?, ?, ?, ?, ?, 0, '{}', '', ?)"
                       " ON CONFLICT DO NOTHING", (*scope, body_hash, now.isoformat()))
            if tx.rowcount == 1:
                return None
            row = _select(tx, scope)
            if row is not None and (row[4] < expired or (int(row[1]) == 0 and row[4] < stale)):
                # Taken over only as it was read: a concurrent taker's update wins.
                tx.execute("UPDATE idempotency SET body_hash = ?, status = 0, headers = '{}',"
                           " body = '', created_at = ? WHERE user_id = ? AND method = ?"
                           " AND path = ? AND key = ? AND created_at = ?",
                           (body_hash, now.isoformat(), *scope, row[4]))
                if tx.rowcount == 1:
                    return None
                row = _select(tx, scope)
        if row is None:  # its claim expired between our two statements: let it run again
            return None
        return StoredResponse(row[0], int(row[1]), json.loads(row[2]), row[3].encode())

    def finish(self, user_id: str, method: str, path: str, key: str,
               response: StoredResponse) -> None:
        """Keep the first response for replays."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE idempotency SET status = ?, headers = ?, body = ?"
                       " WHERE user_id = ? AND method = ? AND path = ? AND key = ?",
                       (response.status, json.dumps(response.headers), response.body.decode(),
                        user_id, method, path, key))

    def abandon(self, user_id: str, method: str, path: str, key: str) -> None:
        """Release a claim whose answer is not worth replaying (a lost race, a failure)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM idempotency WHERE user_id = ? AND method = ? AND path = ?"
                       " AND key = ? AND status = 0", (user_id, method, path, key))


def _select(tx: Tx, scope: tuple[str, str, str, str]) -> tuple[Any, ...] | None:
    tx.execute("SELECT body_hash, status, headers, body, created_at FROM idempotency"
               " WHERE user_id = ? AND method = ? AND path = ? AND key = ?", scope)
    return tx.fetchone()
