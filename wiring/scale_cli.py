"""The scale-out commands of `tsunagi`: the relay, consumers, a local Kafka broker."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from infra.settings import Settings
from infra.users import UserError

if TYPE_CHECKING:
    from infra.kafka.broker import KafkaBroker


def add_scale_out_commands(sub: Any) -> None:
    """Add `relay`, `consume` and `kafka up|status|down` to the command's subparsers."""
    relay = sub.add_parser("relay", help="publish the log to Kafka (TSUNAGI_KAFKA_BOOTSTRAP)")
    relay.add_argument("--once", action="store_true",
                       help="publish up to the log's current end, then exit")
    relay.add_argument("--metrics-port", type=int, help="serve Prometheus text on this port")
    relay.set_defaults(run=_relay)

    consume = sub.add_parser("consume", help="keep views from Kafka in a consumer group")
    consume.add_argument("--group", required=True, help="the consumer group")
    chosen = consume.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--projection", action="append", metavar="NAME",
                        help="a view to keep (repeatable)")
    chosen.add_argument("--all", action="store_true", help="every view")
    consume.add_argument("--until-caught-up", action="store_true",
                         help="exit 0 once the lag is 0")
    consume.add_argument("--metrics-port", type=int, help="serve Prometheus text on this port")
    consume.set_defaults(run=_consume)

    kafka = sub.add_parser("kafka", help="a local Kafka broker under the data directory")\
        .add_subparsers(metavar="ACTION")
    kafka.add_parser("up", help="start it in the background; prints TSUNAGI_KAFKA_BOOTSTRAP=…")\
        .set_defaults(run=_kafka_up)
    kafka.add_parser("status", help="is it running, and where").set_defaults(run=_kafka_status)
    kafka.add_parser("down", help="stop it").set_defaults(run=_kafka_down)


def print_relay_status(settings: Settings, head: int) -> None:
    """The relay's published position and lag (from the store it records them in)."""
    from consumers.relay import SCHEMA
    from wiring.bootstrap import open_stores

    stores = open_stores(settings)
    try:
        stores.ops.execute_script(SCHEMA)
        with stores.ops.transaction() as tx:
            tx.execute("SELECT position FROM relay_positions WHERE topic = ?",
                       (settings.kafka_topic,))
            row = tx.fetchone()
    finally:
        for db in stores.all:
            db.close()
    published = int(row[0]) if row else 0
    print(f"relay to {settings.kafka_topic}: published {published}, lag {head - published}")


def _until_signalled() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process finishes what is in flight and exits."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _serve_metrics(port: int | None) -> None:
    if port is not None:
        from prometheus_client import start_http_server

        from consumers.metrics import REGISTRY

        start_http_server(port, addr="127.0.0.1", registry=REGISTRY)


def _relay(args: argparse.Namespace) -> int:
    from wiring.bootstrap import KafkaNotConfigured, build_relay

    # before the start, which takes a while: a SIGTERM meanwhile ends it cleanly (exit 0) too
    stop = _until_signalled()
    try:
        process = build_relay(Settings())
    except KafkaNotConfigured as exc:
        raise UserError(str(exc)) from exc
    _serve_metrics(args.metrics_port)
    try:
        process.relay.run(stop, once=args.once)
        print(f"relay: published up to position {process.relay.position()}", file=sys.stderr)
    finally:
        process.close()
    return 0


def _consume(args: argparse.Namespace) -> int:
    from wiring.bootstrap import KafkaNotConfigured, UnknownView, build_consumer

    try:
        process = build_consumer(Settings(), args.group, None if args.all else args.projection)
    except (KafkaNotConfigured, UnknownView) as exc:
        raise UserError(str(exc)) from exc
    stop = _until_signalled()
    _serve_metrics(args.metrics_port)
    try:
        return process.consumer.run(stop, until_caught_up=args.until_caught_up)
    finally:
        process.close()


def _broker(settings: Settings) -> KafkaBroker:
    from infra.kafka.broker import KafkaBroker

    return KafkaBroker(settings.data_dir / "kafka")


def _kafka_up(_: argparse.Namespace) -> int:
    from infra.kafka.broker import BrokerFailed, KafkaToolMissing

    broker = _broker(Settings())
    if broker.running():
        print(f"Kafka already runs from {broker.home} (pid {broker.pid()})", file=sys.stderr)
    else:
        try:
            broker.start(detach=True)
        except (KafkaToolMissing, BrokerFailed) as exc:
            raise UserError(str(exc)) from exc
        print(f"Kafka started from {broker.home} (pid {broker.pid()})", file=sys.stderr)
    print(f"TSUNAGI_KAFKA_BOOTSTRAP={broker.bootstrap}")
    return 0


def _kafka_status(_: argparse.Namespace) -> int:
    broker = _broker(Settings())
    if not broker.running():
        print(f"Kafka is not running (from {broker.home})")
        return 1
    print(f"Kafka runs from {broker.home} (pid {broker.pid()})")
    print(f"TSUNAGI_KAFKA_BOOTSTRAP={broker.bootstrap}")
    return 0


def _kafka_down(_: argparse.Namespace) -> int:
    broker = _broker(Settings())
    running = broker.pid() is not None
    broker.stop()
    print("Kafka stopped" if running else "Kafka was not running")
    return 0
