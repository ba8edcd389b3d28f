"""`python -m bench` (what `scripts/bench` runs): every measurement, written to bench/results/.

    scripts/bench                      # SQLite and PostgreSQL, 10k and 100k events
    scripts/bench --quick              # a few minutes: 10k events, fewer requests
    scripts/bench --sizes 10000,100000,1000000 --stores sqlite

Kafka is measured on a broker the run starts in its work folder (infra/kafka/, Java 17
and Maven) and stops at the end; `--skip-kafka` leaves it out.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import measure, report
from bench.stores import Store, Stores
from infra.kafka.broker import KafkaBroker

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
    parser.add_argument("--skip-kafka", action="store_true",
                        help="no broker: leave out the relay, consumer and Kafka freshness")
    parser.add_argument("--kafka-events", type=int,
                        help="measure Kafka once per store, on a history of its own of this"
                             " many events, instead of at every size (--quick: 2000; 0: at"
                             " every size)")
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
    if args.quick and args.kafka_events is None:
        args.kafka_events = 2000  # the consumer group applies at rebuild speed: keep it short
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
    # SIGTERM ends the run as Ctrl-C does: through the `finally`s that stop what it started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    broker = None if args.skip_kafka else _start_broker(work / "kafka")
    try:
        for kind in args.stores.split(","):
            stores = Stores(kind, work)
            try:
                if kind == "postgres":
                    postgres_version = stores.version()
                _log(f"{kind}: starting")
                if not args.skip_ingest:
                    results["ingest"][kind] = measure.ingest(stores, clients, requests, logs)
                    _log(f"{kind}: ingest done")
                if broker is None:
                    results["kafka"][kind] = {"skipped": "--skip-kafka"}
                _histories(kind, stores, sizes, args, repeat, budget, samples, logs, results,
                           broker)
            finally:
                stores.close()
    finally:
        if broker is not None:
            broker.stop()
            _log("kafka: broker stopped")
    results["growth"] = {kind: _growth(results, kind) for kind in results["queries"]}
    results["verdicts"] = _verdicts(results)
    results["meta"] = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
        "command": "scripts/bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick, "sizes": sizes, "stores": args.stores.split(","),
        "clients": clients, "requests_per_level": requests, "query_repeat": repeat,
        "machine": report.machine(),
        "versions": {**report.versions(postgres_version),
                     "kafka": broker.version if broker is not None else None},
        "notes": args.note,
    }
    path = report.write(results, args.out, stamp)
    print(f"results: {path} (and latest.json, {path.with_suffix('.md').name});"
          f" {results['meta']['seconds']:.0f} s")
    return 0


def _start_broker(home: Path) -> KafkaBroker:
    """A fresh single-node broker on free ports in the work folder (jars cached once)."""
    broker = KafkaBroker(home)
    if broker.pid() is not None:
        raise RuntimeError(f"a broker from an earlier run still runs in {home}"
                           f" (pid {broker.pid()}); stop it or pass another --work")
    shutil.rmtree(home, ignore_errors=True)  # an earlier run's topics and ports
    started = time.perf_counter()
    broker.start()
    _log(f"kafka: broker {broker.version} up on {broker.bootstrap}"
         f" in {time.perf_counter() - started:.1f} s")
    return broker


def _histories(kind: str, stores: Stores, sizes: list[int], args: argparse.Namespace,
               repeat: int, budget: float, samples: int, logs: Path,
               results: dict[str, Any], broker: KafkaBroker | None) -> None:
    """Grow one history through the sizes; at each, rebuild, relay and consume, query,
    read freshness (embedded, then through Kafka)."""
    store = stores.fresh("history")
    kafka_store, kafka_env = store, dict[str, str]()
    if broker is not None and args.kafka_events:
        kafka_store, kafka_env = _kafka_slice(kind, stores, args, broker, results)
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
        if broker is not None and not args.kafka_events:
            results["kafka"].setdefault(kind, {})[key], kafka_env = _kafka_throughput(
                stores, store, broker, key, rebuilt)
            _log(f"{kind} {size}: relayed and consumed")
        served = measure.serve_history(store, repeat, budget, samples, logs)
        results["queries"].setdefault(kind, {})[key] = served["queries"]
        results["freshness"].setdefault(kind, {})[key] = served["freshness"]
        _log(f"{kind} {size}: queried")
        if kafka_env and (not args.kafka_events or size == sizes[-1]):
            try:
                served["freshness"]["kafka"] = measure.kafka_freshness(
                    kafka_store, kafka_env, samples, logs, served["freshness"])
            # the rest of a long run is worth keeping
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                served["freshness"]["kafka"] = {"error": str(exc)[-2000:]}
            _log(f"{kind} {size}: freshness through Kafka read")
        results["memory"].setdefault(kind, {})[key] = {
            **served["memory"], "rebuild_peak_rss_mb": rebuilt["rebuild"]["peak_rss_mb"],
            "read_and_decode_peak_rss_mb": rebuilt["read_and_decode"]["peak_rss_mb"]}


def _kafka_slice(kind: str, stores: Stores, args: argparse.Namespace, broker: KafkaBroker,
                 results: dict[str, Any]) -> tuple[Store, dict[str, str]]:
    """`--kafka-events`: Kafka measured on a history of its own, rebuilt in this run too
    (the consumer group's baseline); its store and environment serve the Kafka freshness."""
    store = stores.fresh("kafka_slice")
    measure.generate(store, args.kafka_events, args.years)
    rebuilt = measure.rebuild(store)
    key = str(args.kafka_events)
    results["kafka"].setdefault(kind, {})[key], env = _kafka_throughput(
        stores, store, broker, key, rebuilt)
    _log(f"{kind}: {key} events relayed and consumed")
    return store, env


def _kafka_throughput(stores: Stores, store: Store, broker: KafkaBroker, key: str,
                      rebuilt: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The relay and consumer figures, or the error that stopped them (the run goes on)."""
    try:
        return measure.kafka_throughput(stores, store, broker.bootstrap, key, rebuilt)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)[-2000:]}, {}


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
    kafka = results["kafka"].get(kind, {})
    if all("relay" in kafka.get(s, {}) for s in sizes):
        rows["relay events/s"] = [kafka[s]["relay"]["per_second"] for s in sizes]
        rows["raw producer events/s"] = [kafka[s]["raw_producer"]["per_second"] for s in sizes]
        rows["consumer group events/s"] = [kafka[s]["consume"]["per_second"] for s in sizes]
        for view in results["freshness"][kind][sizes[0]].get("kafka", {}).get("views", {}):
            rows[f"freshness via Kafka {view} p99 ms"] = [
                results["freshness"][kind][s]["kafka"]["views"][view]["lag"]["p99_ms"]
                for s in sizes]
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
            lines.append(f"freshness {kind} {size}: worst p99 {worst:,.0f} ms (goal < 200 ms):"
                         f" {_met(worst, measure.GOALS['freshness_p99_ms'], below=True)}")
            if "kafka" in d:
                lines.append(_kafka_freshness_verdict(kind, size, d["kafka"]))
    for kind, sizes in r["memory"].items():
        size = list(sizes)[-1]
        lines.append(f"memory {kind} {size}: API peak {sizes[size]['api_peak_rss_mb']} MiB"
                     " (goal < 250 MiB at 1M events)")
    for kind, sizes in r["kafka"].items():
        for size, k in sizes.items():
            if isinstance(k, dict) and "relay" in k:
                lines += _kafka_verdicts(kind, size, k)
            elif isinstance(k, dict) and "error" in k:
                lines.append(f"kafka {kind} {size}: not measured, it failed: {k['error'][:300]}")
        if "skipped" in sizes:
            lines.append(f"kafka {kind}: not measured ({sizes['skipped']})")
    return lines


def _met(value: float | None, goal: float, *, below: bool) -> str:
    """"met", or "missed by N %" (how far the value is on the wrong side of the goal)."""
    if value is None:
        return "not measured"
    if (value < goal) if below else (value >= goal):
        return "met"
    return f"missed by {abs(value - goal) / goal:.0%}"


def _kafka_verdicts(kind: str, size: str, k: dict[str, Any]) -> list[str]:
    """The relay's goal, with where its time goes; the consumer group against the rebuild."""
    relay, raw = k["relay"]["per_second"], k["raw_producer"]["per_second"]
    goal = measure.GOALS["relay_ratio_to_raw_producer"]
    ratio = k["relay_ratio_to_raw_producer"]
    line = (f"kafka relay {kind} {size}: {relay:,.0f} events/s, raw producer {raw:,.0f}/s,"
            f" ratio {ratio} (goal ≥ {goal}): {_met(ratio, goal, below=False)}")
    if ratio is not None and ratio < goal and relay:
        # seconds per event of each part, as shares of the relay's own
        encode = 1 / k["read_and_encode"]["per_second"]
        batched = 1 / k["raw_producer_flush_per_batch"]["per_second"]
        serial = 1 / (encode + 1 / raw)
        line += (f". Why: reading and encoding alone (select_notifications, decode, route,"
                 f" envelope) is {encode * relay:.0%} of the relay's time per event, sending"
                 f" with a flush every {k['relay']['batch_size']} events {batched * relay:.0%},"
                 f" the rest its bookkeeping per batch (position read and written, lag) and"
                 f" the producer's start;"
                 f" the relay does them one after the other, so even with no bookkeeping it"
                 f" could reach {serial:,.0f}/s = {serial / raw:.2f} of the raw producer, which"
                 f" only sends bytes made beforehand. What it would take: encode the next batch"
                 f" while the last one is in flight (record the position when its sends are"
                 f" acknowledged, not after a flush) and make the envelope from the stored JSON"
                 f" instead of decoding into domain events and encoding again (NOTES.md)")
    consume, rebuild = k["consume"]["per_second"], k["embedded_rebuild"]["per_second"]
    return [line, f"kafka consumer group {kind} {size}: {consume:,.0f} events/s applied into"
                  f" every view, embedded rebuild {rebuild:,.0f}/s, ratio"
                  f" {k['consume_ratio_to_rebuild']} (no goal of its own; per event and view it"
                  f" also writes the key's position and commits per partition, the embedded"
                  f" rebuild neither)"]


def _kafka_freshness_verdict(kind: str, size: str, fresh: dict[str, Any]) -> str:
    if "error" in fresh:
        return (f"freshness through Kafka {kind} {size}: not measured, it failed:"
                f" {fresh['error'][:300]}")
    worst = max(f["lag"]["p99_ms"] or 0 for f in fresh["views"].values())
    goal = measure.GOALS["kafka_freshness_p99_ms"]
    return (f"freshness through Kafka {kind} {size}: worst p99 {worst:,.0f} ms (goal"
            f" < {goal:,} ms): {_met(worst, goal, below=True)}"
            + (f"; {fresh['misses']} samples not readable within 10 s" if fresh["misses"]
               else ""))


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC).strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
