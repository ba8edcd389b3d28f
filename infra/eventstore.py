"""Event-store configuration for the `eventsourcing` library, from Tsunagi's settings."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from infra.settings import Settings


def event_store_env(settings: Settings) -> dict[str, str]:
    """The library's environment: a SQLite file under the data directory, or PostgreSQL."""
    if settings.uses_postgres:
        return postgres_env(settings.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def postgres_env(url: str) -> dict[str, str]:
    """Split a `postgresql://user:password@host:port/db` URL into the library's keys."""
    parts = urlparse(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "tsunagi",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "tsunagi"),
        "POSTGRES_PASSWORD": unquote(parts.password or "tsunagi"),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        # check a pooled connection before use, so a restarted server is reconnected to
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }
