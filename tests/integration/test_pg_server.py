"""The PostgreSQL test fixtures give a real, working server."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.pg_server import PostgresServer

pytestmark = pytest.mark.postgres


def test_select_one(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)


def test_server_url_points_at_a_database(postgres_server: PostgresServer) -> None:
    assert postgres_server.url.startswith("postgresql://")
    with psycopg.connect(postgres_server.url) as conn:
        row = conn.execute("SELECT current_setting('server_encoding')").fetchone()
    assert row == ("UTF8",)


_seen_urls: set[str] = set()


@pytest.mark.parametrize("run", [1, 2, 3])
def test_each_test_gets_its_own_empty_database(postgres_url: str, run: int) -> None:
    assert postgres_url not in _seen_urls
    _seen_urls.add(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert row == (0,)
        # Leave a table behind: the next run must not see it.
        conn.execute("CREATE TABLE leftover (id int)")


def test_create_database_gives_distinct_databases(postgres_server: PostgresServer) -> None:
    first = postgres_server.create_database(f"distinct_a_{uuid.uuid4().hex}")
    second = postgres_server.create_database(f"distinct_b_{uuid.uuid4().hex}")
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE marker (v text)")
    with psycopg.connect(second) as conn:
        row = conn.execute("SELECT to_regclass('public.marker')").fetchone()
    assert row == (None,)


def test_data_survives_restart(postgres_server: PostgresServer, postgres_url: str) -> None:
    if postgres_server.external:
        pytest.skip("restart() needs the throwaway server, not TSUNAGI_TEST_POSTGRES_URL")
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('before restart')")
    held = psycopg.connect(postgres_url)
    try:
        postgres_server.restart()
        # A connection opened before the restart is gone.
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT v FROM kept").fetchall()
    assert rows == [("before restart",)]
