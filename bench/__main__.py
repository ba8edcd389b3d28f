"""`python -m bench` (what `scripts/bench` runs): every measurement, written to bench/results/.

    scripts/bench                      # SQLite and PostgreSQL, 10k and 100k events
    scripts/bench --quick              # a few minutes: 10k events, fewer requests
    scripts/bench --sizes 10000,100000,1000000 --stores sqlite
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import measure, report
from bench.stores import Stores

RESULTS = Path(__file__).parent / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few minutes: small and short")
    parser.add_argument("--sizes", help="comma-separated event counts (default 10000,100000)")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--requests", type=int, help="POSTs per concurrency level")
    parser.add_argument("--years", type=float, default=10.0, help="span of the generated history")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="also write a pyinstrument profile of each rebuild")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, help="folder for the stores (default: a temp dir)")
    parser.add_argument("--note", action="append", default=[], help="a line for the report")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the plan, write the results, print where they are."""
    args = _parser().parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("10000" if args.quick else "10000,100000"))
             .split(",")]
    requests = args.requests or (100 if args.quick else 600)
    repeat, budget, samples = (8, 2.0, 15) if args.quick else (30, 20.0, 50)
    clients = [int(c) for c in args.clients.split(",")]
    started, clock = datetime.now(UTC), time.perf_counter()
    stamp = started.strftime("%Y-%m-%dT%H%M")
    work = args.work or Path(tempfile.mkdtemp(prefix="tsunagi-bench-"))
    logs = work / "logs"  # server access logs: large, kept out of the results
    results: dict[str, Any] = {key: {} for key in
                               ("ingest", "rebuild", "kafka", "queries", "freshness", "memory",
                                "growth", "datagen")}
    postgres_version = None
    for kind in args.stores.split(","):
        stores = Stores(kind, work)
        try:
            if kind == "postgres":
                postgres_version = stores.version()
            _log(f"{kind}: starting")
            if not args.skip_ingest:
                results["ingest"][kind] = measure.ingest(stores, clients, requests, logs)
                _log(f"{kind}: ingest done")
            results["kafka"][kind] = measure.KAFKA_PLACEHOLDER
            _histories(kind, stores, sizes, args, repeat, budget, samples, logs, results)
        finally:
            stores.close()
    results["growth"] = {kind: _growth(results, kind) for kind in results["queries"]}
    results["verdicts"] = _verdicts(results)
    results["meta"] = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
        "command": "scripts/bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick, "sizes": sizes, "stores": args.stores.split(","),
        "clients": clients, "requests_per_level": requests, "query_repeat": repeat,
        "machine": report.machine(), "versions": report.versions(postgres_version),
        "notes": args.note,
    }
    path = report.write(results, args.out, stamp)
    print(f"results: {path} (and latest.json, {path.with_suffix('.md').name});"
          f" {results['meta']['seconds']:.0f} s")
    return 0


def _histories(kind: str, stores: Stores, sizes: list[int], args: argparse.Namespace,
               repeat: int, budget: float, samples: int, logs: Path,
               results: dict[str, Any]) -> None:
    """Grow one history through the sizes; at each, rebuild, query, read freshness."""
    store = stores.fresh("history")
    written = 0
    for size in sizes:
        key = str(size)
        results["datagen"].setdefault(kind, {})[key] = measure.generate(
            store, size - written, args.years)
        written = size
        _log(f"{kind} {size}: data generated")
        profile = args.out / "profiles" / f"rebuild-{kind}-{size}.txt" if args.profile else None
        results["rebuild"].setdefault(kind, {})[key] = rebuilt = measure.rebuild(store, profile)
        _log(f"{kind} {size}: rebuilt")
        served = measure.serve_history(store, repeat, budget, samples, logs)
        results["queries"].setdefault(kind, {})[key] = served["queries"]
        results["freshness"].setdefault(kind, {})[key] = served["freshness"]
        results["memory"].setdefault(kind, {})[key] = {
            **served["memory"], "rebuild_peak_rss_mb": rebuilt["rebuild"]["peak_rss_mb"],
            "read_and_decode_peak_rss_mb": rebuilt["read_and_decode"]["peak_rss_mb"]}
        _log(f"{kind} {size}: queried")


def _growth(results: dict[str, Any], kind: str) -> dict[str, Any]:
    """Each figure at each size, and how much it grew from the first size to the last."""
    sizes = list(results["queries"][kind])
    rows: dict[str, list[Any]] = {
        "rebuild events/s": [results["rebuild"][kind][s]["rebuild"]["per_second"] for s in sizes],
        "rebuild seconds": [results["rebuild"][kind][s]["rebuild"]["seconds"] for s in sizes],
        "API peak RSS MiB": [results["memory"][kind][s]["api_peak_rss_mb"] for s in sizes],
        "rebuild peak RSS MiB": [results["memory"][kind][s]["rebuild_peak_rss_mb"]
                                 for s in sizes],
    }
    for name in results["queries"][kind][sizes[0]]:
        rows[f"{name} p95 ms"] = [results["queries"][kind][s][name]["p95_ms"] for s in sizes]
    for view in results["freshness"][kind][sizes[0]]["views"]:
        rows[f"freshness {view} p99 ms"] = [
            results["freshness"][kind][s]["views"][view]["lag"]["p99_ms"] for s in sizes]
    return {"sizes": [int(s) for s in sizes], "rows": rows,
            "growth": {name: measure.ratio(values[-1], values[0]) for name, values in rows.items()},
            "events_growth": measure.ratio(int(sizes[-1]), int(sizes[0]))}


def _verdicts(r: dict[str, Any]) -> list[str]:
    """Each goal of the issue, met or missed and by how much, per store and largest size."""
    lines = []
    for kind, data in r["ingest"].items():
        at8 = data["clients"].get("8")
        if at8:
            lines.append(f"ingest {kind}: Tsunagi/(a) at 8 clients {at8['ratio_to_direct_saves']}"
                         f" (goal ≥ 0.5), Tsunagi/(b) {at8['ratio_to_crud']}")
    for kind, sizes in r["rebuild"].items():
        for size, d in sizes.items():
            eps, goal = d["rebuild"]["per_second"], d["goal_per_second"]
            lines.append(f"rebuild {kind} {size}: {eps:,.0f} events/s, {measure.ratio(eps, goal)}"
                         f" of the goal {goal:,}")
    for kind, sizes in r["queries"].items():
        size = list(sizes)[-1]
        slow = {n: q["p95_ms"] for n, q in sizes[size].items()
                if q["p95_ms"] is not None and q["p95_ms"] >= 100}
        lines.append(f"queries {kind} {size}: " + (
            "every p95 < 100 ms" if not slow else
            "p95 ≥ 100 ms: " + ", ".join(f"{n} {v:,.0f} ms" for n, v in slow.items())))
    for kind, sizes in r["freshness"].items():
        for size, d in sizes.items():
            worst = max(f["lag"]["p99_ms"] or 0 for f in d["views"].values())
            lines.append(f"freshness {kind} {size}: worst p99 {worst:,.0f} ms (goal < 200 ms)")
    for kind, sizes in r["memory"].items():
        size = list(sizes)[-1]
        lines.append(f"memory {kind} {size}: API peak {sizes[size]['api_peak_rss_mb']} MiB"
                     " (goal < 250 MiB at 1M events)")
    lines.append("kafka: not measured yet (relay on branch `kafka`)")
    return lines


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC).strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
