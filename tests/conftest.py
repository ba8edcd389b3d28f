"""Session-wide test fixtures.

Keep this file small: fixtures for one concern live in their own module
(e.g. ``tests/pg_server.py``) and are only wired up here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.kafka_server import kafka_broker, kafka_topic  # noqa: F401 — fixtures
from tests.pg_server import PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, started on first use.

    A throwaway cluster on a free port of 127.0.0.1, or the server named by
    ``TSUNAGI_TEST_POSTGRES_URL``.  ``restart()`` is available on the
    throwaway cluster only (``server.external`` tells which).
    """
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of a fresh, empty database of its own for this test."""
    return postgres_server.create_database(f"test_{uuid.uuid4().hex}")
