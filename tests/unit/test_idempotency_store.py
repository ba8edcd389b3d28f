"""`IdempotencyStore`: claims, replays, and records past their time counted as absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.idempotency import RETENTION, STALE_CLAIM, IdempotencyStore, StoredResponse
from infra.sql import open_database

KEY = ("user-1", "POST", "/api/v1/needs", "k-1")


@pytest.fixture
def store(tmp_path: Path) -> IdempotencyStore:
    return IdempotencyStore(open_database(tmp_path / "ops.sqlite"))


def _age(store: IdempotencyStore, by: timedelta) -> None:
    """Make the key's record look created `by` (a timedelta) ago."""
    when = (datetime.now(UTC) - by).isoformat()
    with store.db.transaction() as tx:
        tx.execute("UPDATE idempotency SET created_at = ? WHERE key = ?", (when, KEY[3]))


def test_the_first_claims_a_second_sees_it_running_then_its_answer(
        store: IdempotencyStore) -> None:
    assert store.begin(*KEY, "h") is None
    running = store.begin(*KEY, "h")
    assert running is not None and running.status == 0
    store.finish(*KEY, StoredResponse("h", 201, {"etag": '"1"'}, b'{"id": 1}'))
    assert store.begin(*KEY, "h") == StoredResponse("h", 201, {"etag": '"1"'}, b'{"id": 1}')


def test_a_stale_claim_is_claimed_anew(store: IdempotencyStore) -> None:
    assert store.begin(*KEY, "h") is None
    _age(store, STALE_CLAIM * 1.01)
    assert store.begin(*KEY, "other") is None
    again = store.begin(*KEY, "other")
    assert again is not None and again.status == 0 and again.body_hash == "other"


def test_a_kept_answer_stays_until_retention_then_is_claimed_anew(
        store: IdempotencyStore) -> None:
    assert store.begin(*KEY, "h") is None
    store.finish(*KEY, StoredResponse("h", 201, {}, b"{}"))
    _age(store, STALE_CLAIM * 2)
    kept = store.begin(*KEY, "h")
    assert kept is not None and kept.status == 201
    _age(store, RETENTION * 1.01)
    assert store.begin(*KEY, "h") is None


def test_records_past_their_time_are_purged(store: IdempotencyStore) -> None:
    assert store.begin(*KEY, "h") is None
    _age(store, RETENTION * 1.01)
    store._next_purge = 0.0  # as on the first claim after PURGE_INTERVAL
    assert store.begin("user-2", "POST", "/api/v1/needs", "k-2", "h") is None
    with store.db.transaction() as tx:
        tx.execute("SELECT key FROM idempotency")
        assert tx.fetchall() == [("k-2",)]
