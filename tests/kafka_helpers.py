"""Helpers for tests against the real broker: CLI processes, the topic's messages, rebuilds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from consumers.envelope import transcoder
from infra.kafka.broker import KafkaBroker
from infra.settings import Settings
from infra.sql import Database
from projections.base import View
from tests.view_helpers import Dump, dump_rows
from wiring.bootstrap import Container, build_views, open_stores

#: the longest a test waits for progress before it fails (a guard against hanging only)
PATIENCE = 180.0


@dataclass
class ScaleOut:
    """One store, one broker, one topic: what the relay and consumer processes share."""

    settings: Settings
    broker: KafkaBroker
    topic: str
    logs: Path
    partitions: int = 6

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `tsunagi` process of this configuration."""
        return {**os.environ, "TSUNAGI_DATA_DIR": str(self.settings.data_dir),
                "TSUNAGI_DATABASE_URL": self.settings.database_url,
                "TSUNAGI_KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "TSUNAGI_KAFKA_TOPIC": self.topic,
                "TSUNAGI_KAFKA_PARTITIONS": str(self.partitions),
                "TSUNAGI_POLL_INTERVAL": "0.05", **extra}

    def start(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        """A `tsunagi` command running in the background (output in the logs folder)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{args[0]}-{time.monotonic_ns()}.log").open("wb")
        return subprocess.Popen([sys.executable, "-m", "wiring.cli", *args],
                                env=self.env(**extra), stdout=out, stderr=subprocess.STDOUT)

    def run(self, *args: str, **extra: str) -> None:
        """A `tsunagi` command run to its end; it must exit 0."""
        done = subprocess.run([sys.executable, "-m", "wiring.cli", *args], env=self.env(**extra),
                              capture_output=True, text=True, timeout=PATIENCE, check=False)
        assert done.returncode == 0, f"tsunagi {' '.join(args)}:\n{done.stdout}{done.stderr}"

    def relay_position(self) -> int:
        """Where the relay has recorded it published up to."""
        stores = open_stores(self.settings)
        try:
            with stores.ops.transaction() as tx:
                tx.execute("SELECT position FROM relay_positions WHERE topic = ?",
                           (self.topic,))
                row = tx.fetchone()
            return int(row[0]) if row else 0
        except Exception:  # the relay has not made its table yet
            return 0
        finally:
            for db in stores.all:
                db.close()

    def offsets(self) -> dict[str, dict[int, int]]:
        """The next offset per partition of every Kafka-fed view (read without any DDL,
        which would take locks against the running consumers)."""
        stores = open_stores(self.settings)
        try:
            with stores.views.transaction() as tx:
                tx.execute("SELECT view, kafka_partition, next_offset FROM view_offsets"
                           " WHERE topic = ?", (self.topic,))
                rows = tx.fetchall()
        except Exception:  # no consumer has made the table yet
            return {}
        finally:
            for db in stores.all:
                db.close()
        out: dict[str, dict[int, int]] = {}
        for view, partition, offset in rows:
            out.setdefault(view, {})[int(partition)] = int(offset)
        return out

    def kafka_views(self) -> tuple[list[View], list[Database]]:
        """The views the consumers keep, opened from this configuration's store."""
        stores = open_stores(self.settings)
        return build_views(stores.views, transcoder()), stores.all

    def kafka_dump(self) -> Dump:
        """Every row of the Kafka-fed views."""
        views, dbs = self.kafka_views()
        try:
            return dump_rows(views)
        finally:
            for db in dbs:
                db.close()

    def messages(self) -> list[Any]:
        """Every message on the topic, partition by partition in offset order."""
        reader = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                               enable_auto_commit=False, consumer_timeout_ms=3000)
        try:
            parts = [TopicPartition(self.topic, p)
                     for p in sorted(reader.partitions_for_topic(self.topic) or ())]
            reader.assign(parts)
            reader.seek_to_beginning(*parts)
            ends = reader.end_offsets(parts)
            out: list[Any] = []
            while any(reader.position(tp) < ends[tp] for tp in parts):
                for batch in reader.poll(timeout_ms=1000).values():
                    out.extend(batch)
            return sorted(out, key=lambda r: (r.partition, r.offset))
        finally:
            reader.close()


def rebuilt_from_log(c: Container, other: Database) -> Dump:
    """The views built from the log alone into another database."""
    views = build_views(other, transcoder())
    batch = [(n.id, c.app.mapper.to_domain_event(n))
             for n in c.app.recorder.select_notifications(start=1, limit=1_000_000)]
    for view in views:
        view.process(batch)
    return dump_rows(views)


def wait_until(done: Callable[[], bool], what: str, patience: float = PATIENCE) -> None:
    """Wait for `done()`, failing (not hanging) if it never comes."""
    deadline = time.monotonic() + patience
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)
