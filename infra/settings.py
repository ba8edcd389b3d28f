"""Configuration from the environment (`TSUNAGI_*`), with working defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives and which city is served."""

    model_config = SettingsConfigDict(env_prefix="TSUNAGI_", extra="ignore")

    #: folder for the SQLite files (events, views, personal data, users)
    data_dir: Path = Path("./var")
    #: `postgresql://…` to keep everything in PostgreSQL; empty for SQLite
    database_url: str = ""
    #: where the views live, if not with the rest: a `postgresql://…` URL or a SQLite file
    #: (e.g. a consumer group's own copy of the views, beside the embedded ones)
    views_url: str = ""
    #: city data file: a name shipped in `infra/cities` or a path
    city: str = "kumamoto"
    #: how long a follower sleeps between polls of the SQLite log, in seconds
    poll_interval: float = 0.2
    #: how long a read with `min_position` waits for its view, in seconds
    min_position_wait: float = 5.0
    #: how long a view stopped by a failing event waits before it is tried again, in seconds
    view_retry_interval: float = 60.0
    #: who keeps the views an API process reads: its own follower (`log`), or
    #: `tsunagi consume` processes fed from Kafka (`kafka`: the API runs no follower)
    view_feed: Literal["log", "kafka"] = "log"
    #: Kafka's `host:port` (as printed by `tsunagi kafka up`); empty: no Kafka
    kafka_bootstrap: str = ""
    #: the topic the relay publishes the log to
    kafka_topic: str = "tsunagi.events.v1"
    #: partitions of the topic when the relay creates it
    kafka_partitions: int = 6
    #: replicas of the topic when the relay creates it (1 for a single local broker)
    kafka_replication: int = 1
    #: events the relay reads and sends per batch (its position is recorded after each is
    #: acknowledged; up to 4 are in flight). 2,000 rather than 500: on PostgreSQL each batch
    #: costs a few round trips (read, record), ~20 % of a 10k-event catch-up at 500
    relay_batch_size: int = 2000
    #: how long the relay waits for the broker to acknowledge a batch, in seconds
    kafka_flush_timeout: float = 30.0

    @property
    def uses_postgres(self) -> bool:
        """True when the log and views live in PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))
