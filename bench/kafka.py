"""Kafka throughput, each run in its own process against the bench's broker; prints JSON.

    python -m bench.kafka relay   --bootstrap B --topic T [--data-dir D | --database-url U]
    python -m bench.kafka raw     --bootstrap B --topic T [--data-dir D | --database-url U]
    python -m bench.kafka consume --bootstrap B --topic T --views-url V [--data-dir D | …]

`relay` runs the project's relay (`build_relay`, as `tsunagi relay --once` does) from
position 0 to the log's end onto a fresh topic. `raw` is its baseline: it reads the log
and builds every message exactly as the relay does (same keys, same bytes), then a bare
kafka-python producer with the relay's settings sends them to a fresh topic of the same
partitions and flushes; it also times the read alone and the read with the encoding, so a
reader can see where the relay's time goes. `consume` runs one consumer-group member
keeping every view (as `tsunagi consume --all` does) into fresh view tables until it has
caught up with the topic.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from infra.kafka import clients
from infra.settings import Settings

#: the producer settings the relay's producer is built with, shown beside the figures
PRODUCER_SETTINGS = ("acks", "enable_idempotence", "linger_ms", "batch_size",
                     "compression_type", "max_in_flight_requests_per_connection",
                     "max_request_size")


def _rate(events: int, seconds: float) -> float | None:
    return round(events / seconds, 1) if seconds > 0 else None


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def relay(settings: Settings) -> dict[str, Any]:
    """The project's relay from position 0 to the end of the log; events per second."""
    from wiring.bootstrap import build_relay

    process = build_relay(settings)  # creates the topic, as `tsunagi relay` does
    try:
        start = process.relay.position()
        if start:
            raise RuntimeError(f"topic {settings.kafka_topic} already relayed up to {start}")
        end = process.log.recorder.max_notification_id() or 0
        started = time.perf_counter()
        process.relay.run(threading.Event(), once=True)  # includes closing (a final flush)
        elapsed = time.perf_counter() - started
        published = process.relay.position()
    finally:
        process.close()
    return {"events": published, "log_end": end, "seconds": round(elapsed, 3),
            "per_second": _rate(published, elapsed), "batch_size": settings.relay_batch_size,
            "peak_rss_mb": _rss_mb()}


def raw(settings: Settings) -> dict[str, Any]:
    """Read and encode as the relay does, then send the same messages with a bare producer."""
    from wiring.bootstrap import build_relay

    process = build_relay(settings)  # its log and its `message`: the relay's own code
    log, message = process.log, process.relay.message
    page = settings.relay_batch_size
    try:
        started, start, count = time.perf_counter(), 1, 0
        while notifications := log.recorder.select_notifications(start=start, limit=page):
            count += len(notifications)
            start = notifications[-1].id + 1
        read_seconds = time.perf_counter() - started

        messages: list[tuple[bytes, bytes]] = []
        started, start = time.perf_counter(), 1
        while notifications := log.recorder.select_notifications(start=start, limit=page):
            messages.extend(map(message, notifications))
            start = notifications[-1].id + 1
        encode_seconds = time.perf_counter() - started
    finally:
        process.close()
    partitions = settings.kafka_partitions
    one_flush = _produce(settings.kafka_bootstrap, f"{settings.kafka_topic}.raw", partitions,
                         messages, flush_every=len(messages))
    per_batch = _produce(settings.kafka_bootstrap, f"{settings.kafka_topic}.raw-batched",
                         partitions, messages, flush_every=page)
    return {"events": count,
            "read": {"seconds": round(read_seconds, 3), "per_second": _rate(count,
                                                                            read_seconds)},
            "read_and_encode": {"seconds": round(encode_seconds, 3),
                                "per_second": _rate(count, encode_seconds)},
            "producer": one_flush, "producer_flush_per_batch": per_batch,
            "message_bytes": {"keys": sum(len(k) for k, _ in messages),
                              "values": sum(len(v) for _, v in messages),
                              "mean_value": round(sum(len(v) for _, v in messages)
                                                  / max(len(messages), 1))},
            "peak_rss_mb": _rss_mb()}


def _produce(bootstrap: str, topic: str, partitions: int, messages: list[tuple[bytes, bytes]],
             flush_every: int) -> dict[str, Any]:
    """Send the messages with the relay's producer settings, flushing every `flush_every`."""
    clients.ensure_topic(bootstrap, topic, partitions)
    # timed as the relay's run is: the producer made, connected, every message sent and
    # acknowledged, the producer closed
    started = time.perf_counter()
    producer = clients.producer(bootstrap)  # the very settings the relay's producer has
    settings = {k: producer.config.get(k) for k in PRODUCER_SETTINGS}
    try:
        for i in range(0, len(messages), flush_every):
            futures = [producer.send(topic, key=key, value=value)
                       for key, value in messages[i:i + flush_every]]
            producer.flush(timeout=120)
            failed = sum(1 for f in futures if not f.is_done or f.failed())
            if failed:
                raise RuntimeError(f"{failed} messages not acknowledged by the broker")
    finally:
        producer.close(timeout=30)
    elapsed = time.perf_counter() - started
    return {"events": len(messages), "seconds": round(elapsed, 3),
            "per_second": _rate(len(messages), elapsed), "flush_every": flush_every,
            "settings": settings}


def consume(settings: Settings, deadline: float = 900.0) -> dict[str, Any]:
    """One consumer-group member keeping every view, from the first offset until caught up.

    Stopped after `deadline` seconds: kafka-python 3.0.12 was seen polling empty at full CPU
    for an hour with the topic full (NOTES.md), and a run must end.
    """
    from wiring.bootstrap import build_consumer

    group = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    process = build_consumer(settings, group, None)
    runner = process.consumer
    first: list[float] = []
    applied = [0]
    apply_batch = runner._apply

    def timed_apply(tp: Any, batch: Any) -> None:
        if not first:
            first.append(time.perf_counter())
        apply_batch(tp, batch)
        applied[0] += len(batch)

    setattr(runner, "_apply", timed_apply)  # noqa: B010 — the bench's only hook into it
    stop = threading.Event()
    timer = threading.Timer(deadline, stop.set)
    timer.start()
    try:
        code = runner.run(stop, until_caught_up=True)
        done = time.perf_counter()
    finally:
        timer.cancel()
        process.close()
    if code != 0 or runner.stopped:
        raise RuntimeError(f"views stopped while consuming: {sorted(runner.stopped)}")
    if stop.is_set():
        raise RuntimeError(f"consumer not caught up after {deadline:.0f} s: {applied[0]}"
                           f" messages applied (first batch after"
                           f" {first[0] - started if first else float('nan'):.1f} s)")
    applying = done - first[0] if first else 0.0
    return {"events": applied[0], "group": group, "views": [v.name for v in runner.views],
            "seconds": round(done - started, 3),
            "join_seconds": round(first[0] - started, 3) if first else None,
            "apply_seconds": round(applying, 3), "per_second": _rate(applied[0], applying),
            "bad_messages": runner.bad_messages, "peak_rss_mb": _rss_mb()}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.kafka")
    parser.add_argument("mode", choices=("relay", "raw", "consume"))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, default=Settings().kafka_partitions)
    parser.add_argument("--views-url", default="")
    parser.add_argument("--deadline", type=float, default=900.0,
                        help="consume: give up after this many seconds")
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url,
                        views_url=args.views_url, kafka_bootstrap=args.bootstrap,
                        kafka_topic=args.topic, kafka_partitions=args.partitions)
    result = consume(settings, args.deadline) if args.mode == "consume" else \
        {"relay": relay, "raw": raw}[args.mode](settings)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
