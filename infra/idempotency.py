"""Remembered responses for `Idempotency-Key`: a retried POST gets the first answer again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.sql import Database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS idempotency ("
    " user_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL,"
    " body_hash TEXT NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL,"
    " body TEXT NOT NULL, created_at TEXT NOT NULL,"
    " PRIMARY KEY (user_id, method, path, key))",
)
#: responses are kept at least this long (the contract says 24 hours)
RETENTION = timedelta(hours=48)


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

    def get(self, user_id: str, method: str, path: str, key: str) -> StoredResponse | None:
        """The stored response for this key, if it is still kept."""
        with self.db.transaction() as tx:
            tx.execute("SELECT body_hash, status, headers, body FROM idempotency"
                       " WHERE user_id = ? AND method = ? AND path = ? AND key = ?",
                       (user_id, method, path, key))
            row = tx.fetchone()
        if row is None:
            return None
        return StoredResponse(row[0], int(row[1]), json.loads(row[2]), row[3].encode())

    def put(self, user_id: str, method: str, path: str, key: str,
            response: StoredResponse) -> None:
        """Remember the first response (a concurrent twin keeps the earlier one)."""
        now = datetime.now(UTC)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM idempotency WHERE created_at < ?",
                       ((now - RETENTION).isoformat(),))
            tx.execute("INSERT INTO idempotency (user_id, method, path, key, body_hash, status,"
                       " headers, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT DO NOTHING",
                       (user_id, method, path, key, response.body_hash, response.status,
                        json.dumps(response.headers), response.body.decode(),
                        now.isoformat()))
