"""Configuration from the environment (`TSUNAGI_*`), with working defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives and which city is served."""

    model_config = SettingsConfigDict(env_prefix="TSUNAGI_", extra="ignore")

    #: folder for the SQLite files (events, views, personal data, users)
    data_dir: Path = Path("./var")
    #: `postgresql://…` to keep everything in PostgreSQL; empty for SQLite
    database_url: str = ""
    #: city data file: a name shipped in `infra/cities` or a path
    city: str = "kumamoto"
    #: how long a follower sleeps between polls of the SQLite log, in seconds
    poll_interval: float = 0.2
    #: how long a read with `min_position` waits for its view, in seconds
    min_position_wait: float = 5.0

    @property
    def uses_postgres(self) -> bool:
        """True when the log and views live in PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))
