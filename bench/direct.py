"""Baselines in the library alone: direct saves (ingest's (a)) and reading the log (rebuild's).

    python -m bench.direct saves --events 2000 [--data-dir D | --database-url U]
    python -m bench.direct read [--data-dir D | --database-url U]

`saves` saves one new aggregate with one event of a need's fields per call, as a
bare `eventsourcing` application would on the same store; `read` pages through the
notification log with `select_notifications` and decodes every event.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder

from bench.loadgen import NEED_BODY
from domain.application import DateAsISO
from infra.eventstore import event_store_env
from infra.settings import Settings
from wiring.bootstrap import build

#: the follower's page size, so the baseline reads as the rebuild does
PAGE = 500


class PlainNeed(Aggregate):
    """A need with the same fields as `Need.Recorded`, and no rules."""

    @event("Recorded")
    def __init__(self, city: str, ward: str, office: str, school_district: str | None,
                 source: str, policy_area: str, title: str, description: str,
                 observed_on: date, residents_affected: int | None, urgency: str,
                 location: dict[str, Any] | None, plan_goals: list[str],
                 reporter_ref: str | None, effective_at: datetime, actor: str) -> None:
        self.ward = ward
        self.title = title


class PlainApp(Application[UUID]):
    """A bare application: the library's save and nothing else."""

    name = "Tsunagi"  # the same table names as Tsunagi's on PostgreSQL

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def direct_saves(settings: Settings, events: int) -> dict[str, Any]:
    """Save `events` new aggregates one by one; saves per second."""
    app = PlainApp(env=event_store_env(settings))
    # the body the load generator posts, as the need's event holds it
    fields: dict[str, Any] = {**NEED_BODY, "observed_on": date.fromisoformat(
        NEED_BODY["observed_on"]), "city": "kumamoto", "reporter_ref": None, "actor": "bench"}
    for _ in range(10):  # warm-up
        app.save(PlainNeed(effective_at=datetime.now(UTC), **fields))
    started = time.perf_counter()
    for _ in range(events):
        app.save(PlainNeed(effective_at=datetime.now(UTC), **fields))
    elapsed = time.perf_counter() - started
    app.close()
    return {"events": events, "seconds": round(elapsed, 3),
            "per_second": round(events / elapsed, 1)}


def read_log(settings: Settings) -> dict[str, Any]:
    """Read and decode every notification, a page at a time; events per second."""
    container = build(settings)
    try:
        app = container.app
        started = time.perf_counter()
        start, count = 1, 0
        while True:
            page = app.recorder.select_notifications(start=start, limit=PAGE)
            if not page:
                break
            for notification in page:
                app.mapper.to_domain_event(notification)
            count += len(page)
            start = page[-1].id + 1
        elapsed = time.perf_counter() - started
    finally:
        container.close()
    return {"events": count, "seconds": round(elapsed, 3),
            "per_second": round(count / elapsed, 1) if elapsed else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    """Command line: prints the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.direct")
    parser.add_argument("mode", choices=("saves", "read"))
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url)
    result = direct_saves(settings, args.events) if args.mode == "saves" else read_log(settings)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
