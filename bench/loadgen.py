"""The load generator: a separate process that talks HTTP to a server and prints JSON.

    python -m bench.loadgen ingest --url U --token T --clients 8 --requests 800
    python -m bench.loadgen queries --url U --token T --repeat 20 < paths.json
    python -m bench.loadgen freshness --url U --token T --samples 50

`ingest` posts needs from `clients` concurrent connections (asyncio + httpx);
`queries` reads each path `repeat` times, one at a time (a path named
`…_after_write` right after posting a need, so that no figure kept from before
applies); `freshness` posts a need and polls each view until it is readable there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx

#: a need body as an exchange room sends it (the README's example, with every field)
NEED_BODY: dict[str, Any] = {
    "ward": "higashi", "office": "higashi-exchange-room-1", "school_district": None,
    "source": "council_meeting", "policy_area": "transport",
    "title": "バス停にベンチがほしい",
    "description": "桜木校区の自治協議会で要望。"
                   "通院や買い物でバスを使う高齢の方が立ったまま待っている。",
    "observed_on": date.today().isoformat(), "residents_affected": 120, "urgency": "normal",
    "location": {"lat": 32.79, "lon": 130.74, "address": "熊本市東区桜木付近"},
    "plan_goals": ["6-5-1"],
}


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolation percentile (as numpy's default); None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * p / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """p50, p95 and p99 in milliseconds, and the count."""
    def ms(p: float) -> float | None:
        value = percentile(seconds, p)
        return None if value is None else round(value * 1000, 2)
    return {"n": len(seconds), "p50_ms": ms(50), "p95_ms": ms(95), "p99_ms": ms(99)}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


# ── ingest ────────────────────────────────────────────────────────────────


async def _ingest(url: str, token: str, path: str, clients: int, requests: int,
                  idempotency: bool) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits,
                                 headers=_auth(token)) as client:
        async def worker() -> None:
            for _ in remaining:
                headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotency else {}
                started = time.perf_counter()
                response = await client.post(path, json=NEED_BODY, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    errors[str(response.status_code)] = errors.get(str(response.status_code),
                                                                   0) + 1

        # a short warm-up, outside the figures (connections, first imports, caches)
        for _ in range(min(10, requests)):
            await client.post(path, json=NEED_BODY)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "seconds": round(elapsed, 3),
            "per_second": round(len(latencies) / elapsed, 1), "errors": errors,
            **latency_summary(latencies)}


# ── queries ───────────────────────────────────────────────────────────────


def _queries(url: str, token: str, paths: dict[str, str], repeat: int, budget: float,
             writer_token: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    writer = httpx.Client(base_url=url, timeout=120, headers=_auth(writer_token))
    with writer, httpx.Client(base_url=url, timeout=120, headers=_auth(token)) as client:
        for name, path in paths.items():
            first = client.get(path)  # warm-up, and a check that the query works at all
            latencies: list[float] = []
            spent = 0.0
            # a slow query gets fewer samples (at least 3), so that one run stays bounded
            while len(latencies) < repeat and (spent < budget or len(latencies) < 3):
                asked = path
                if name.endswith("_after_write"):  # a new event first: nothing kept applies
                    position = writer.post("/api/v1/needs", json=NEED_BODY).json()["position"]
                    asked = f"{path}{'&' if '?' in path else '?'}min_position={position}"
                started = time.perf_counter()
                client.get(asked)
                latencies.append(time.perf_counter() - started)
                spent += latencies[-1]
            results[name] = {"path": path, "status": first.status_code,
                             "bytes": len(first.content), **latency_summary(latencies)}
    return results


# ── freshness ─────────────────────────────────────────────────────────────


def _readable(client: httpx.Client, path: str, need_id: str) -> bool:
    response = client.get(path)
    if response.status_code != 200:
        return False
    return any(item.get("id", item.get("need")) == need_id
               for item in response.json().get("items", []))


def _freshness(url: str, token: str, views: dict[str, str], samples: int) -> dict[str, Any]:
    lags: dict[str, list[float]] = {name: [] for name in views}
    reads: dict[str, list[float]] = {name: [] for name in views}
    misses = 0
    with httpx.Client(base_url=url, timeout=30,
                      headers=_auth(token)) as client:
        for _ in range(samples):
            response = client.post("/api/v1/needs", json=NEED_BODY)
            answered = time.perf_counter()
            need_id = response.json()["id"]
            for name, path in views.items():
                while not _readable(client, path, need_id):
                    if time.perf_counter() - answered > 10:
                        misses += 1
                        break
                lags[name].append(time.perf_counter() - answered)
            for name, path in views.items():  # a plain read of the same page: the floor
                started = time.perf_counter()
                client.get(path)
                reads[name].append(time.perf_counter() - started)
    return {"misses": misses,
            "views": {name: {"lag": latency_summary(lags[name]),
                             "plain_read": latency_summary(reads[name])} for name in views}}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("mode", choices=("ingest", "queries", "freshness"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--writer-token", default="", help="who posts the `_after_write` needs")
    parser.add_argument("--path", default="/api/v1/needs")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per query path")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--no-idempotency-key", action="store_true")
    args = parser.parse_args(argv)
    if args.mode == "ingest":
        result = asyncio.run(_ingest(args.url, args.token, args.path, args.clients,
                                     args.requests, not args.no_idempotency_key))
    elif args.mode == "queries":
        result = _queries(args.url, args.token, json.load(sys.stdin), args.repeat,
                          args.budget, args.writer_token)
    else:
        result = _freshness(args.url, args.token, json.load(sys.stdin), args.samples)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
