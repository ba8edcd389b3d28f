"""The personal-data vault: reporters' names and contacts, apart from the event log.

Events carry only the opaque reference. Erasure deletes the row for good, and
every read is recorded (who, when) in `personal_data_reads`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from infra.sql import Database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS personal_data ("
    " ref TEXT PRIMARY KEY, data TEXT NOT NULL, stored_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS personal_data_reads ("
    " ref TEXT NOT NULL, reader TEXT NOT NULL, read_at TEXT NOT NULL)",
)


class SqlPersonalDataVault:
    """A `PersonalDataVault` in a SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute_script(SCHEMA)

    def put(self, ref: str, data: dict[str, str]) -> None:
        """Store or replace the data under `ref`."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO personal_data (ref, data, stored_at) VALUES (?, ?, ?)"
                " ON CONFLICT (ref) DO UPDATE SET data = excluded.data",
                (ref, json.dumps(data, ensure_ascii=False), _now()),
            )

    def get(self, ref: str, reader: str) -> dict[str, str] | None:
        """The data, or None once erased; the read is recorded either way."""
        with self.db.transaction() as tx:
            tx.execute("SELECT data FROM personal_data WHERE ref = ?", (ref,))
            row = tx.fetchone()
            tx.execute("INSERT INTO personal_data_reads (ref, reader, read_at) VALUES (?, ?, ?)",
                       (ref, reader, _now()))
        return json.loads(row[0]) if row else None

    def erase(self, ref: str) -> bool:
        """Delete for good; True when there was data."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM personal_data WHERE ref = ?", (ref,))
            erased = tx.rowcount > 0
        self.db.scrub()
        return erased

    def reads(self, ref: str) -> list[tuple[str, str]]:
        """Who read `ref`, and when (for audits)."""
        with self.db.transaction() as tx:
            tx.execute("SELECT reader, read_at FROM personal_data_reads WHERE ref = ?"
                       " ORDER BY read_at", (ref,))
            return [(r[0], r[1]) for r in tx.fetchall()]


def _now() -> str:
    return datetime.now(UTC).isoformat()
