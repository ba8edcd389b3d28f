"""Rebuild every view from the log, as `tsunagi projections rebuild` does, and time it.

Usage: `python -m bench.rebuild [--data-dir D | --database-url U] [--profile FILE]`;
prints events per second and this process's peak RSS as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from infra.settings import Settings
from projections.base import REBUILD_BATCH_SIZE
from wiring.bootstrap import build


def rebuild(settings: Settings, profile: Path | None = None) -> dict[str, Any]:
    """Drop every view, then apply the whole log to them; events per second."""
    container = build(settings)
    try:
        for view in container.views:
            view.drop()
        container.follower.positions = {view.name: 0 for view in container.views}
        container.follower.batch_size = REBUILD_BATCH_SIZE  # as `tsunagi projections rebuild`
        events = container.app.position()
        profiler = _profiler() if profile else None
        started = time.perf_counter()
        container.follower.catch_up()
        elapsed = time.perf_counter() - started
        if profiler is not None and profile is not None:
            profiler.stop()
            profile.write_text(profiler.output_text(unicode=True, color=False))
    finally:
        container.close()
    return {"events": events, "seconds": round(elapsed, 3),
            "per_second": round(events / elapsed, 1) if elapsed else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _profiler() -> Any:
    from pyinstrument import Profiler
    profiler = Profiler()
    profiler.start()
    return profiler


def main(argv: list[str] | None = None) -> int:
    """Command line: prints the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild")
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url)
    print(json.dumps(rebuild(settings, args.profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
