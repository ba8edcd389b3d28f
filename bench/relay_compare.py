"""Relay against the raw producer, alternating in one process; prints JSON.

    python -m bench.relay_compare --bootstrap B [--data-dir D | --database-url U] [--rounds 3]

The machine is shared and noisy, so the two are compared within one run, round by
round: each round runs the project's relay (`build_relay` + `Relay.run(once=True)` from
position 0 onto a fresh topic, as `bench.kafka relay` does) and the raw producer (the
same keys and bytes, read and encoded beforehand by the relay's router and envelope,
sent by `infra.kafka.clients.producer` to a fresh topic of the same partitions, one
flush at the end, as `bench.kafka raw` does), in alternating order. The ratio of each
round is relay / raw of that round; the summary gives their median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.kafka import _produce, relay
from infra.settings import Settings


def messages(settings: Settings) -> list[tuple[bytes, bytes]]:
    """Every message of the log, as the relay publishes it (its own `message`)."""
    from wiring.bootstrap import build_relay

    process = build_relay(settings)
    log, message = process.log, process.relay.message
    out: list[tuple[bytes, bytes]] = []
    try:
        start = 1
        while found := log.recorder.select_notifications(start=start, limit=1000):
            out.extend(map(message, found))
            start = found[-1].id + 1
    finally:
        process.close()
    return out


def compare(settings: Settings, rounds: int) -> dict[str, Any]:
    """`rounds` rounds of relay and raw producer, alternating which goes first."""
    base = settings.kafka_topic
    sent = messages(settings)
    runs = []
    for i in range(rounds):
        order = ("relay", "raw") if i % 2 == 0 else ("raw", "relay")
        rates: dict[str, float] = {}
        for which in order:
            topic = f"{base}.{i}.{which}"
            if which == "relay":
                result = relay(settings.model_copy(update={"kafka_topic": topic}))
                if result["events"] != len(sent):
                    raise RuntimeError(f"relay published {result['events']} of {len(sent)}")
            else:
                result = _produce(settings.kafka_bootstrap, topic, settings.kafka_partitions,
                                  sent, flush_every=len(sent))
            rates[which] = result["per_second"]
        runs.append({**rates, "ratio": round(rates["relay"] / rates["raw"], 3)})
        print(json.dumps(runs[-1]), file=sys.stderr)
    ratios = [r["ratio"] for r in runs]
    return {"events": len(sent), "batch_size": settings.relay_batch_size, "rounds": runs,
            "median_ratio": round(statistics.median(ratios), 3),
            "median_relay": statistics.median(r["relay"] for r in runs),
            "median_raw": statistics.median(r["raw"] for r in runs)}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.relay_compare")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--batch-size", type=int, default=Settings().relay_batch_size,
                        help="the relay's TSUNAGI_RELAY_BATCH_SIZE")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url,
                        kafka_bootstrap=args.bootstrap, relay_batch_size=args.batch_size,
                        kafka_topic=f"bench.compare.{uuid.uuid4().hex[:6]}")
    started = time.perf_counter()
    result = compare(settings, args.rounds)
    print(json.dumps({**result, "seconds": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
