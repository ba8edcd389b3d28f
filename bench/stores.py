"""Where a benchmark's data lives: a fresh SQLite folder or a fresh PostgreSQL database.

PostgreSQL is a throwaway cluster started as the tests start theirs
(`tests/pg_server.py`), or the server in `TSUNAGI_TEST_POSTGRES_URL`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg

from infra.settings import Settings
from tests.pg_server import PostgresServer


@dataclass(frozen=True)
class Store:
    """One store for one benchmark: its settings, and the environment a server needs."""

    kind: str  # "sqlite" or "postgres"
    data_dir: Path
    database_url: str = ""

    @property
    def settings(self) -> Settings:
        """Tsunagi's settings for this store."""
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    def env(self) -> dict[str, str]:
        """The environment of a `tsunagi` process on this store."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGI_")}
        env["TSUNAGI_DATA_DIR"] = str(self.data_dir)
        if self.database_url:
            env["TSUNAGI_DATABASE_URL"] = self.database_url
        return env

    def cli_args(self) -> list[str]:
        """`--data-dir` / `--database-url` for the bench's own commands."""
        args = ["--data-dir", str(self.data_dir)]
        return args + (["--database-url", self.database_url] if self.database_url else [])


class Stores:
    """Hands out fresh stores of one kind under a work folder."""

    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        self.work = work
        self.server: PostgresServer | None = None
        if kind == "postgres":
            self.server = PostgresServer()
            self.server.start()

    def fresh(self, name: str) -> Store:
        """An empty store called `name` (any previous one of that name is dropped)."""
        data_dir = self.work / self.kind / name
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        if self.server is None:
            return Store("sqlite", data_dir)
        with psycopg.connect(self.server.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "bench_{name}"')
        return Store("postgres", data_dir, self.server.create_database(f"bench_{name}"))

    def version(self) -> str:
        """The server's version (PostgreSQL) or the library's (SQLite)."""
        if self.server is None:
            return sqlite3.sqlite_version
        with psycopg.connect(self.server.url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def close(self) -> None:
        """Stop the throwaway PostgreSQL server, if one was started."""
        if self.server is not None:
            self.server.stop()
