"""The results: `<date>.json`, a copy as `latest.json`, and a readable `<date>.md`."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("eventsourcing", "fastapi", "uvicorn", "pydantic", "psycopg", "httpx",
            "pyinstrument", "kafka-python")


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and kernel of this machine."""
    cpu = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kb = int(info.readline().split()[1])
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "kernel": platform.release(), "load_average_at_start": os.getloadavg()}


def versions(postgres: str | None) -> dict[str, str | None]:
    """Python, the packages that matter, SQLite, PostgreSQL and Kafka."""
    found: dict[str, str | None] = {"python": platform.python_version(),
                                    "sqlite": sqlite3.sqlite_version, "postgresql": postgres,
                                    "kafka": None}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def write(results: dict[str, Any], folder: Path, stamp: str) -> Path:
    """Write the JSON, copy it to latest.json, and write the Markdown beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    shutil.copyfile(path, folder / "latest.json")
    (folder / f"{stamp}.md").write_text(markdown(results))
    return path


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(r: dict[str, Any]) -> str:
    """The results for people: machine, versions, command, then one table per measurement."""
    meta = r["meta"]
    out = [f"# Tsunagi benchmarks — {meta['started']}", "",
           f"Command: `{meta['command']}`  ", f"Took {meta['seconds']:.0f} s;"
           f" sizes {', '.join(str(s) for s in meta['sizes'])} events;"
           f" stores {', '.join(meta['stores'])}.", "",
           f"Machine: {meta['machine']['cores']} cores, {meta['machine']['memory_gib']} GiB,"
           f" {meta['machine']['cpu']}, Linux {meta['machine']['kernel']}; load average at"
           f" start {', '.join(f'{x:.1f}' for x in meta['machine']['load_average_at_start'])}"
           " (shared machine: read the ratios, not the absolute figures).", "",
           "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".", ""]
    out += [*meta.get("notes", []), ""]
    out += ["## Ingest: POST /api/v1/needs", ""]
    rows = []
    for store, data in r["ingest"].items():
        for n, c in data["clients"].items():
            rows.append([store, n, c["tsunagi"]["per_second"], c["tsunagi"]["p50_ms"],
                         c["tsunagi"]["p99_ms"], data["direct_saves"]["per_second"],
                         c["crud"]["per_second"], c["crud"]["p50_ms"],
                         c["ratio_to_direct_saves"], c["ratio_to_crud"]])
    out += _table(["store", "clients", "Tsunagi /s", "p50 ms", "p99 ms", "(a) direct saves /s",
                   "(b) CRUD /s", "CRUD p50 ms", "Tsunagi/(a)", "Tsunagi/(b)"], rows)
    out += ["## Projection rebuild (all views)", ""]
    rows = [[store, size, d["rebuild"]["per_second"], d["read_and_decode"]["per_second"],
             d["ratio_to_read_and_decode"], d["rebuild"]["seconds"], d["goal_per_second"]]
            for store, sizes in r["rebuild"].items() for size, d in sizes.items()]
    out += _table(["store", "events", "rebuild events/s", "read+decode events/s", "ratio",
                   "seconds", "goal events/s"], rows)
    out += _kafka(r["kafka"])
    out += ["## Queries: p50 / p95 ms (ratio of p95 to the reference-data floor)", ""]
    for store, sizes in r["queries"].items():
        names = list(next(iter(sizes.values())))
        header = ["query", *(f"{store} {size}" for size in sizes)]
        rows = [[name, *(_query_cell(sizes[size].get(name)) for size in sizes)]
                for name in names]
        out += _table(header, rows)
    out += ["## Freshness: command response → readable in the view", "",
            "`embedded`: the API's own follower; `kafka`: `tsunagi relay` → Kafka → `tsunagi"
            " consume --all` → an API with `TSUNAGI_VIEW_FEED=kafka` (goals: p99 < 200 ms"
            " embedded, < 1 s through Kafka).", ""]
    rows = []
    for store, sizes in r["freshness"].items():
        for size, d in sizes.items():
            feeds = [("embedded", d)] + ([("kafka", d["kafka"])] if "views" in d.get("kafka", {})
                                         else [])
            for feed, fd in feeds:
                rows += [[store, fd.get("events", size), feed, view, f["lag"]["p50_ms"],
                          f["lag"]["p99_ms"], f["plain_read"]["p99_ms"],
                          f["p99_ratio_to_plain_read"], f.get("p99_ratio_to_embedded")]
                         for view, f in fd["views"].items()]
    out += _table(["store", "events", "feed", "view", "p50 ms", "p99 ms", "plain read p99 ms",
                   "p99 / plain read", "p99 / embedded"], rows)
    out += ["## Memory: peak RSS, MiB", ""]
    rows = [[store, size, m["api_rss_idle_mb"], m["api_peak_rss_mb"], m["rebuild_peak_rss_mb"],
             m["read_and_decode_peak_rss_mb"]]
            for store, sizes in r["memory"].items() for size, m in sizes.items()]
    out += _table(["store", "events", "API idle", "API peak (after queries)", "rebuild",
                   "read+decode"], rows)
    out += ["## Growth", ""]
    for store, table in r["growth"].items():
        sizes = table["sizes"]
        out += [f"{store}:", ""]
        out += _table(["figure", *(str(s) for s in sizes), "last / first"],
                      [[name, *values, table["growth"][name]]
                       for name, values in table["rows"].items()])
    out += ["## Goals", ""] + [f"- {line}" for line in r.get("verdicts", [])] + [""]
    return "\n".join(out)


def _kafka(kafka: dict[str, Any]) -> list[str]:
    """The relay against a raw producer, and the consumer group against the rebuild."""
    out = ["## Kafka: relay and consumer group", ""]
    measured = [(store, size, k) for store, sizes in kafka.items() for size, k in sizes.items()
                if isinstance(k, dict) and "relay" in k]
    out += [f"- {store}: not measured ({sizes['skipped']})"
            for store, sizes in kafka.items() if "skipped" in sizes]
    if not measured:
        return [*out, ""]
    settings = measured[0][2]["raw_producer"]["settings"]
    out += ["Relay (`Relay.run`, position 0 → end, fresh topic of 6 partitions) against a raw"
            " kafka-python producer sending the same keys and bytes to the same broker with"
            " the relay's settings (" + ", ".join(f"{k}={v}" for k, v in settings.items())
            + "), one flush at the end. Beside them, what the relay's time is made of: reading"
            " the notifications alone, reading with decoding, routing and the envelope, and the"
            " raw producer flushing after every batch as the relay does. events/s.", ""]
    out += _table(["store", "events", "relay", "raw producer", "relay / raw", "goal",
                   "read only", "read + encode", "raw, flush per batch", "relay / read+encode",
                   "mean message B"],
                  [[store, k["events"], k["relay"]["per_second"],
                    k["raw_producer"]["per_second"], k["relay_ratio_to_raw_producer"],
                    k["goal"]["relay_ratio_to_raw_producer"],
                    k["read_notifications"]["per_second"], k["read_and_encode"]["per_second"],
                    k["raw_producer_flush_per_batch"]["per_second"],
                    k["relay_ratio_to_read_and_encode"], k["message_bytes"]["mean_value"]]
                   for store, size, k in measured])
    out += ["Consumer group: one member of a new group keeping every view in fresh tables"
            " (`tsunagi consume --all`), from the first applied batch until caught up, against"
            " the embedded rebuild of the same history in this run. events/s.", ""]
    out += _table(["store", "events", "consumer group", "join s", "embedded rebuild",
                   "consumer / rebuild"],
                  [[store, k["consume"]["events"], k["consume"]["per_second"],
                    k["consume"]["join_seconds"], k["embedded_rebuild"]["per_second"],
                    k["consume_ratio_to_rebuild"]] for store, size, k in measured])
    return out


def _query_cell(q: dict[str, Any] | None) -> str:
    if q is None:
        return "–"
    status = "" if q["status"] == 200 else f" (HTTP {q['status']})"
    return f"{_fmt(q['p50_ms'])} / {_fmt(q['p95_ms'])} ({_fmt(q['p95_ratio_to_floor'])}×){status}"
