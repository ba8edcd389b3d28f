"""The measurements: each runs its subjects and baselines in separate processes, in one run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench import servers
from bench.stores import Store, Stores

#: the goals of issue 10, beside the figures (never thresholds in the tests)
GOALS: dict[str, Any] = {
    "ingest_ratio_direct_8_clients": 0.5,
    "rebuild_per_second": {"sqlite": 20_000, "postgres": 10_000},
    "query_p95_ms": 100, "freshness_p99_ms": 200, "api_rss_mb": 250,
    "relay_ratio_to_raw_producer": 0.8, "kafka_freshness_p99_ms": 1000}


def run_json(args: list[str], store: Store | None = None, stdin: str | None = None,
             timeout: float = 3600) -> Any:
    """Run `python -m …` in its own process and parse the JSON it prints.

    Tokens go as `--token=…`: a token may start with `-`.
    """
    done = subprocess.run([sys.executable, "-m", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=store.env() if store else None,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to three places, None when either is missing."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def generate(store: Store, events: int, years: float) -> dict[str, Any]:
    """Fill the store with about `events` events of history."""
    result: dict[str, Any] = run_json(["bench.datagen", "--events", str(events), "--years",
                                       str(years), *store.cli_args()])
    return result


# ── ingest ────────────────────────────────────────────────────────────────


def ingest(stores: Stores, clients: list[int], requests: int, logs: Path) -> dict[str, Any]:
    """POST /needs at each concurrency, against (a) direct saves and (b) the CRUD baseline."""
    store = stores.fresh("ingest")
    token = servers.token_for(store, "exchange_room_staff", office="higashi-exchange-room-1")
    subject: dict[str, Any] = {}
    direct_runs = [_direct(stores, requests)]  # before, between and after: the machine drifts
    with servers.tsunagi(store, logs / f"ingest-tsunagi-{store.kind}.log") as server:
        for n in clients:
            subject[str(n)] = _load(server.url, token, n, max(requests, 4 * n))
        subject_rss = server.peak_rss_mb()
    direct_runs.append(_direct(stores, requests))
    crud_store = stores.fresh("crud")
    crud: dict[str, Any] = {}
    with servers.crud(crud_store, logs / f"ingest-crud-{store.kind}.log") as server:
        for n in clients:
            crud[str(n)] = _load(server.url, "", n, max(requests, 4 * n))
    direct_runs.append(_direct(stores, requests))
    direct = {**sorted(direct_runs, key=lambda r: r["per_second"])[1],  # the median of three
              "runs_per_second": [r["per_second"] for r in direct_runs]}
    by_clients = {}
    for n in clients:
        t, c = subject[str(n)], crud[str(n)]
        by_clients[str(n)] = {
            "tsunagi": t, "crud": c,
            "ratio_to_direct_saves": ratio(t["per_second"], direct["per_second"]),
            "ratio_to_crud": ratio(t["per_second"], c["per_second"]),
            "p50_ratio_to_crud": ratio(t["p50_ms"], c["p50_ms"]),
        }
    return {"store": store.kind, "direct_saves": direct, "clients": by_clients,
            "tsunagi_peak_rss_mb": subject_rss,
            "goal": {"ratio_to_direct_saves_at_8": GOALS["ingest_ratio_direct_8_clients"]},
            "note": "POST /api/v1/needs with an Idempotency-Key per request, on an empty store;"
                    " load generator in its own process (asyncio + httpx)"}


def _direct(stores: Stores, events: int) -> dict[str, Any]:
    result: dict[str, Any] = run_json(["bench.direct", "saves", "--events", str(events),
                                       *stores.fresh("direct").cli_args()])
    return result


def _load(url: str, token: str, clients: int, requests: int) -> dict[str, Any]:
    result: dict[str, Any] = run_json(["bench.loadgen", "ingest", "--url", url, f"--token={token}",
                                       "--clients", str(clients), "--requests", str(requests)])
    return result


# ── rebuild ───────────────────────────────────────────────────────────────


def rebuild(store: Store, profile: Path | None = None) -> dict[str, Any]:
    """Rebuild every view, against reading and decoding the same log alone."""
    baseline = run_json(["bench.direct", "read", *store.cli_args()])
    args = ["bench.rebuild", *store.cli_args()]
    subject = run_json([*args, "--profile", str(profile)] if profile else args)
    return {"store": store.kind, "events": subject["events"], "rebuild": subject,
            "read_and_decode": baseline,
            "ratio_to_read_and_decode": ratio(subject["per_second"], baseline["per_second"]),
            "goal_per_second": GOALS["rebuild_per_second"][store.kind]}


# ── queries, memory and freshness on a server holding the history ─────────


def query_paths(now: datetime) -> dict[str, str]:
    """Every query of the issue, named; `_year_ago` ones read as of a year before now."""
    year_ago = quote((now - timedelta(days=365)).astimezone(UTC).isoformat())
    month_end = now.date().replace(day=1) - timedelta(days=1)
    since = month_end.replace(day=1)
    paths = {
        "floor_reference_data": "/api/v1/wards",
        "needs": "/api/v1/needs?limit=50",
        "needs_q": "/api/v1/needs?limit=50&q=" + quote("バス停"),
        "needs_ward_q": "/api/v1/needs?limit=50&ward=higashi&q=" + quote("通学路"),
        "proposals": "/api/v1/proposals?limit=50",
        "department_queue": "/api/v1/views/department-queue/transport-planning",
        "agenda": f"/api/v1/views/ward-meeting-agenda?since={since}&until={month_end}",
        "ward_feedback": "/api/v1/views/ward-feedback/higashi?limit=50",
        "metrics_response": "/api/v1/metrics/response?group_by=ward",
        "metrics_response_department": "/api/v1/metrics/response?group_by=department",
        "metrics_uniformity": "/api/v1/metrics/uniformity?metric=decision_median",
        "metrics_backlog": "/api/v1/metrics/backlog",
        "prometheus": "/metrics",
    }
    for name in ("metrics_response", "metrics_uniformity", "metrics_backlog"):
        paths[f"{name}_year_ago"] = f"{paths[name]}{'&' if '?' in paths[name] else '?'}" \
                                    f"as_of={year_ago}"
    for name in ("metrics_response", "prometheus"):
        paths[f"{name}_after_write"] = paths[name]
    return paths


FRESHNESS_VIEWS = {
    "needs_index": "/api/v1/needs?limit=5",
    "ward_feedback": "/api/v1/views/ward-feedback/higashi?limit=5",
    "office_feedback": "/api/v1/views/office-feedback/higashi-exchange-room-1?limit=5",
}


def serve_history(store: Store, repeat: int, budget: float, samples: int,
                  logs: Path) -> dict[str, Any]:
    """Queries, then freshness, on one server over the store; its RSS before and after."""
    admin = servers.token_for(store, "admin")
    room = servers.token_for(store, "exchange_room_staff", office="higashi-exchange-room-1")
    with servers.tsunagi(store, logs / f"serve-{store.kind}.log") as server:
        idle_rss = server.rss_mb()
        queries = run_json(["bench.loadgen", "queries", "--url", server.url, f"--token={admin}",
                            "--repeat", str(repeat), "--budget", str(budget),
                            f"--writer-token={room}"],
                           stdin=json.dumps(query_paths(datetime.now(UTC))))
        floor = queries["floor_reference_data"]["p95_ms"]
        for figures in queries.values():
            figures["p95_ratio_to_floor"] = ratio(figures["p95_ms"], floor)
        fresh = run_json(["bench.loadgen", "freshness", "--url", server.url, f"--token={room}",
                          "--samples", str(samples)], stdin=json.dumps(FRESHNESS_VIEWS))
        for figures in fresh["views"].values():
            figures["p99_ratio_to_plain_read"] = ratio(figures["lag"]["p99_ms"],
                                                       figures["plain_read"]["p99_ms"])
        peak = server.peak_rss_mb()
    return {"queries": queries, "freshness": fresh,
            "memory": {"api_rss_idle_mb": idle_rss, "api_peak_rss_mb": peak}}


# ── Kafka: relay, consumer group, freshness through them ──────────────────


def kafka_throughput(stores: Stores, store: Store, bootstrap: str, size: str,
                     rebuilt: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Relay against a raw producer (before and after it), then a consumer group against
    the embedded rebuild; also the environment that serves the views it filled."""
    topic = f"bench.{store.kind}.{size}.{uuid.uuid4().hex[:6]}"
    common = ["--bootstrap", bootstrap, *store.cli_args()]
    raws = [run_json(["bench.kafka", "raw", "--topic", f"{topic}.before", *common])]
    relayed = run_json(["bench.kafka", "relay", "--topic", topic, *common])
    raws.append(run_json(["bench.kafka", "raw", "--topic", f"{topic}.after", *common]))
    views = stores.fresh(f"kafka_views_{size}")
    views_url = views.database_url or str(views.data_dir / "views.sqlite")
    # a deadline well above the rebuild's time for the same events, so only a stuck consumer
    # meets it (the error is recorded and the run goes on)
    deadline = max(300.0, 5 * rebuilt["rebuild"]["seconds"])
    consumed = run_json(["bench.kafka", "consume", "--topic", topic, "--views-url", views_url,
                         "--deadline", str(deadline), *common], timeout=deadline + 120)
    raw = _mean_of(raws, "producer")
    batched = _mean_of(raws, "producer_flush_per_batch")
    read, encoded = _mean_of(raws, "read"), _mean_of(raws, "read_and_encode")
    rebuild_rate = rebuilt["rebuild"]["per_second"]
    result = {
        "store": store.kind, "events": relayed["events"], "topic": topic,
        "relay": relayed,
        "raw_producer": {**raw, "settings": raws[0]["producer"]["settings"]},
        "raw_producer_flush_per_batch": batched,
        "read_notifications": read, "read_and_encode": encoded,
        "message_bytes": raws[0]["message_bytes"],
        "relay_ratio_to_raw_producer": ratio(relayed["per_second"], raw["per_second"]),
        "relay_ratio_to_raw_flush_per_batch": ratio(relayed["per_second"],
                                                    batched["per_second"]),
        "relay_ratio_to_read_and_encode": ratio(relayed["per_second"], encoded["per_second"]),
        "consume": consumed,
        "embedded_rebuild": {"events": rebuilt["events"], "per_second": rebuild_rate},
        "consume_ratio_to_rebuild": ratio(consumed["per_second"], rebuild_rate),
        "goal": {"relay_ratio_to_raw_producer": GOALS["relay_ratio_to_raw_producer"]},
        "note": "relay: `build_relay` + `Relay.run(once=True)` from position 0 onto a fresh"
                " topic (6 partitions), timed from the start to the producer closed; raw"
                " producer: the same keys and bytes (read and encoded beforehand by the"
                " relay's own router and envelope) sent by `infra.kafka.clients.producer`"
                " (the relay's settings) to a fresh topic of the same partitions, one flush at"
                " the end; measured before and after the relay, mean of the two. consume: one"
                " member of a new group keeping every view in fresh tables (`build_consumer`,"
                " as `tsunagi consume --all`), rate from its first applied batch to caught up",
    }
    env = {"TSUNAGI_KAFKA_BOOTSTRAP": bootstrap, "TSUNAGI_KAFKA_TOPIC": topic,
           "TSUNAGI_VIEWS_URL": views_url}
    return result, env


def _mean_of(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The mean rate of `key` over the runs, with each run's rate beside it."""
    rates = [r[key]["per_second"] for r in runs]
    return {"events": runs[0]["events"], "per_second": round(sum(rates) / len(rates), 1),
            "runs_per_second": rates}


def kafka_freshness(store: Store, kafka_env: dict[str, str], samples: int, logs: Path,
                    embedded: dict[str, Any]) -> dict[str, Any]:
    """The embedded freshness measurement, on an API in Kafka mode with a relay and a consumer
    process beside it (the README's "Scaling out"), over the views the consumer run filled."""
    room = servers.token_for(store, "exchange_room_staff", office="higashi-exchange-room-1")
    named = f"{store.kind}-{kafka_env['TSUNAGI_KAFKA_TOPIC']}"
    # a group of its own: a second `--group views` member started right after the last one
    # left once spun in kafka-python's coordinator lookup and never joined (NOTES.md)
    group = f"fresh-{uuid.uuid4().hex[:6]}"
    with servers.Background(["relay"], store, logs / f"relay-{named}.log", kafka_env) as relay, \
            servers.Background(["consume", "--group", group, "--all"], store,
                               logs / f"consume-{named}.log", kafka_env) as consumer, \
            servers.tsunagi_on_kafka(store, logs / f"serve-kafka-{named}.log",
                                     kafka_env) as server:
        caught_up = _caught_up(server.url, [relay, consumer])
        events = httpx.get(f"{server.url}/healthz", timeout=10).json()["log_position"]
        fresh = run_json(["bench.loadgen", "freshness", "--url", server.url, f"--token={room}",
                          "--samples", str(samples)], stdin=json.dumps(FRESHNESS_VIEWS))
    for view, figures in fresh["views"].items():
        figures["p99_ratio_to_plain_read"] = ratio(figures["lag"]["p99_ms"],
                                                   figures["plain_read"]["p99_ms"])
        figures["p99_ratio_to_embedded"] = ratio(figures["lag"]["p99_ms"],
                                                 embedded["views"][view]["lag"]["p99_ms"])
    return {**fresh, "events": events,
            "feed": "relay → Kafka → consumer group (`tsunagi relay`, `tsunagi consume --all`,"
                    " `TSUNAGI_VIEW_FEED=kafka tsunagi serve`)",
            "catch_up_seconds": caught_up, "goal_p99_ms": GOALS["kafka_freshness_p99_ms"]}


def _caught_up(url: str, workers: list[servers.Background], timeout: float = 180) -> float:
    """Wait until every view has applied the whole log (what came since the consumer run)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.process.args!r} exited with"
                                   f" {worker.process.returncode}")
        health = httpx.get(f"{url}/healthz", timeout=10).json()
        if health["view_position"] >= health["log_position"]:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    raise RuntimeError(f"views not caught up through Kafka after {timeout} s")
