"""Profile the slowest reads in-process with pyinstrument, on a store that holds a history.

Figures kept by the views' memos (clock facts, clock summaries) are forgotten first: this
profiles the computation a read does right after a write.

Usage: `python -m bench.profile [--data-dir D | --database-url U] [--out FOLDER]`;
writes one text profile per read and prints the seconds each took. With `--views`,
the ward agenda and the department queue instead (the parameters `bench.measure`
uses), each timed `--repeat` times: median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from api import queries
from api.metrics import backlog_by_department, prometheus_metrics, response_payload
from domain.calendar import date_jst
from infra.settings import Settings
from wiring.bootstrap import Container, build


def reads(c: Container) -> dict[str, Callable[[], Any]]:
    """The reads the issue names as loading every fact into Python."""
    now = c.now()
    year_ago = now - timedelta(days=365)
    return {
        "metrics_response": lambda: response_payload(c, "ward", now),
        "metrics_response_year_ago": lambda: response_payload(c, "ward", year_ago),
        "metrics_backlog": lambda: backlog_by_department(c, None, None),  # type: ignore[arg-type]
        "prometheus": lambda: prometheus_metrics(c, None),  # type: ignore[arg-type]
    }


def view_reads(c: Container) -> dict[str, Callable[[], Any]]:
    """The agenda of last month and transport planning's queue, as `bench.measure` reads them."""
    month_end = date_jst(c.now()).replace(day=1) - timedelta(days=1)
    since = month_end.replace(day=1)
    return {
        "department_queue": lambda: queries.department_queue(c, "transport-planning"),
        "agenda": lambda: queries.meeting_agenda(c, since, month_end, None),
        "agenda_ward": lambda: queries.meeting_agenda(c, since, month_end, "higashi"),
        "agenda_year_ago": lambda: queries.meeting_agenda(
            c, since - timedelta(days=365), month_end - timedelta(days=365), None),
    }


def timings(read: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median and p95 of `repeat` calls, in milliseconds."""
    ms = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    return {"median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 2)}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "profiles")
    parser.add_argument("--tag", default="")
    parser.add_argument("--views", action="store_true",
                        help="the agenda and the department queue instead of the metrics")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    with build(Settings(data_dir=args.data_dir, database_url=args.database_url)) as c:
        c.follower.catch_up()
        if args.views:
            figures = {}
            for name, read in view_reads(c).items():
                read()  # warm-up
                figures[name] = timings(read, args.repeat)
                profiler = Profiler(interval=0.0005)
                with profiler:
                    read()
                suffix = f"-{args.tag}" if args.tag else ""
                (args.out / f"{name}{suffix}.txt").write_text(
                    profiler.output_text(unicode=True, color=False, show_all=False))
            print(json.dumps(figures))
            return 0
        for name, read in reads(c).items():
            read()  # warm-up: first imports, caches
            for view in c.views:  # profile the computation, not a kept figure
                getattr(view, "forget", lambda: None)()
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            with profiler:
                read()
            seconds[name] = round(time.perf_counter() - started, 4)
            suffix = f"-{args.tag}" if args.tag else ""
            (args.out / f"{name}{suffix}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False))
    print(json.dumps(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
