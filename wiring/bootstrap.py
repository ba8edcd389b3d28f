"""The one place that wires Tsunagi together from its settings.

The stores (SQLite files or one PostgreSQL) are chosen here and only here; so
are the views' feed (in-process follower or Kafka) and the relay's lease.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import eventsourcing.persistence as es_persistence
from eventsourcing.persistence import Transcoder

from consumers.feeds import KafkaFeed, LogFeed, ViewFeed
from consumers.follower import Follower
from consumers.routing import EventLog, Router
from domain.application import Tsunagi, utc_now
from domain.calendar import BusinessCalendar, default_calendar
from domain.ports import Clock
from domain.reference import CityData
from infra.city import load_city
from infra.eventstore import event_store_env
from infra.idempotency import IdempotencyStore
from infra.personal_data import SqlPersonalDataVault
from infra.settings import Settings
from infra.sql import Database, open_database
from infra.users import UserStore
from projections.base import View
from projections.clock_facts import ClockFactsView
from projections.clock_summaries import ClockSummariesView
from projections.department_queue import DepartmentQueue
from projections.indicator_observations import IndicatorObservations
from projections.needs_index import NeedsIndex
from projections.proposals_index import ProposalsIndex
from projections.ward_agenda import WardAgenda
from projections.ward_feedback import WardFeedback

if TYPE_CHECKING:  # imported where used, so an API process loads no Kafka client
    from consumers.kafka_views import ViewConsumer
    from consumers.relay import Lease, Relay, Waker


@dataclass
class Container:
    """Everything a request or a command-line call needs."""

    settings: Settings
    city: CityData
    calendar: BusinessCalendar
    clock: Clock
    app: Tsunagi
    vault: SqlPersonalDataVault
    users: UserStore
    idempotency: IdempotencyStore
    needs_index: NeedsIndex
    proposals_index: ProposalsIndex
    department_queue: DepartmentQueue
    ward_feedback: WardFeedback
    follower: Follower
    clock_facts: ClockFactsView
    ward_agenda: WardAgenda
    # issue 11 (indicator observations): its own field and follower entry, kept apart
    indicator_observations: IndicatorObservations
    #: issue 10: the response metrics "now", from one summary per proposal and need
    clock_summaries: ClockSummariesView
    databases: list[Database] = field(default_factory=list)
    #: what keeps the views: the follower above (`log`), or consumers on Kafka (`kafka`)
    feed: ViewFeed | None = None

    @property
    def views(self) -> list[View]:
        """Every view the follower keeps."""
        return self.follower.views

    @property
    def view_feed(self) -> ViewFeed:
        """What keeps the views this process reads."""
        assert self.feed is not None
        return self.feed

    def now(self) -> datetime:
        """The current instant."""
        return self.clock()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the follower and release connections."""
        self.view_feed.stop()
        self.follower.stop()
        self.app.close()
        for db in self.databases:
            db.close()


@dataclass
class Stores:
    """The databases of one configuration: operations, personal data, views."""

    ops: Database
    pii: Database
    views: Database
    all: list[Database]


def open_stores(settings: Settings) -> Stores:
    """SQLite files under the data directory, or one PostgreSQL; views where configured."""
    if settings.uses_postgres:
        ops = pii = open_database(settings.database_url)
        views = open_database(settings.views_url) if settings.views_url else ops
    else:
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        ops = open_database(data / "tsunagi.sqlite")
        pii = open_database(data / "personal-data.sqlite")
        views = open_database(settings.views_url or data / "views.sqlite")
    return Stores(ops, pii, views, list(dict.fromkeys([ops, pii, views])))


def build_views(db: Database, transcoder: Transcoder, city: CityData | None = None,
                calendar: BusinessCalendar | None = None) -> list[View]:
    """Every view, in the order they are fed (the city's targets and the calendar for
    those that judge clocks: the configured city's, and the default calendar, unless given)."""
    city = city or load_city(Settings().city)
    calendar = calendar or default_calendar()
    return [NeedsIndex(db, transcoder), ProposalsIndex(db, transcoder),
            DepartmentQueue(db, transcoder, city, calendar), WardFeedback(db, transcoder),
            ClockFactsView(db, transcoder), WardAgenda(db, transcoder),
            IndicatorObservations(db, transcoder),
            ClockSummariesView(db, transcoder, city, calendar)]


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Container:
    """Build the container: SQLite files under the data directory, or one PostgreSQL."""
    settings = settings or Settings()
    city = load_city(settings.city)
    calendar = default_calendar()
    stores = open_stores(settings)
    vault = SqlPersonalDataVault(stores.pii)
    app = Tsunagi(city, vault, calendar, clock=clock, env=event_store_env(settings))
    views = build_views(stores.views, app.mapper.transcoder, city, calendar)
    follower = Follower(app, views, poll_interval=settings.poll_interval,
                        retry_interval=settings.view_retry_interval)
    feed: ViewFeed = LogFeed(follower)
    if settings.view_feed == "kafka":
        feed = KafkaFeed(views, Router(app), settings.kafka_topic, _end_offsets(settings))
    by_name: dict[str, Any] = {type(v).__name__: v for v in views}
    return Container(settings, city, calendar, clock, app, vault, UserStore(stores.ops, city),
                     IdempotencyStore(stores.ops), by_name["NeedsIndex"],
                     by_name["ProposalsIndex"], by_name["DepartmentQueue"],
                     by_name["WardFeedback"], follower, clock_facts=by_name["ClockFactsView"],
                     ward_agenda=by_name["WardAgenda"],
                     indicator_observations=by_name["IndicatorObservations"],
                     clock_summaries=by_name["ClockSummariesView"],
                     databases=stores.all, feed=feed)


def _end_offsets(settings: Settings) -> Callable[[], dict[int, int] | None]:
    """A function giving the topic's end offsets, or None when the broker cannot answer."""
    if not settings.kafka_bootstrap:
        return lambda: None
    from infra.kafka.clients import EndOffsets

    return EndOffsets(settings.kafka_bootstrap, settings.kafka_topic)


# ── scale-out processes: no HTTP, no vault, no calendar ─────────────────────

def _require_kafka(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        raise KafkaNotConfigured("TSUNAGI_KAFKA_BOOTSTRAP is not set (host:port of Kafka;"
                                 " `tsunagi kafka up` prints it)")
    return settings.kafka_bootstrap


def _open_log(settings: Settings, attempts: int = 5) -> EventLog:
    """The event log opened for reading. Relays started together race on the library's
    `CREATE TABLE IF NOT EXISTS` on PostgreSQL ("tuple concurrently updated"): retry."""
    for attempt in range(attempts):
        try:
            return EventLog(env=event_store_env(settings))
        except es_persistence.InternalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


class KafkaNotConfigured(Exception):
    """A Kafka command without TSUNAGI_KAFKA_BOOTSTRAP."""


@dataclass
class RelayProcess:
    """A relay and what it holds open."""

    relay: Relay
    log: EventLog
    stores: Stores

    def close(self) -> None:
        """Release connections."""
        self.log.close()
        for db in self.stores.all:
            db.close()


def build_relay(settings: Settings) -> RelayProcess:
    """The relay of this configuration's log to its topic."""
    from consumers.relay import PollWaker, Relay
    from consumers.relay_backends import AdvisoryLease, FileLease, NotifyWaker
    from infra.kafka import clients

    bootstrap = _require_kafka(settings)
    clients.ensure_topic(bootstrap, settings.kafka_topic, settings.kafka_partitions,
                         settings.kafka_replication)
    stores = open_stores(settings)
    log = _open_log(settings)
    lease: Lease
    if settings.uses_postgres:
        lease = AdvisoryLease(settings.database_url, f"tsunagi-relay:{settings.kafka_topic}")
        channel = log.recorder.channel_name  # type: ignore[attr-defined]

        def waker(stop: threading.Event) -> Waker:
            return NotifyWaker(settings.database_url, channel, stop)
    else:
        lease = FileLease(settings.data_dir / f"relay-{settings.kafka_topic}.lock")

        def waker(stop: threading.Event) -> Waker:
            return PollWaker(stop, settings.poll_interval)

    relay = Relay(log, stores.ops, lambda: clients.producer(bootstrap), settings.kafka_topic,
                  lease=lease, waker=waker, batch_size=settings.relay_batch_size,
                  flush_timeout=settings.kafka_flush_timeout,
                  poll_interval=settings.poll_interval)
    return RelayProcess(relay, log, stores)


@dataclass
class ConsumerProcess:
    """A consumer-group member and the views it keeps."""

    consumer: ViewConsumer
    stores: Stores

    def close(self) -> None:
        """Release connections."""
        for db in self.stores.all:
            db.close()


def build_consumer(settings: Settings, group: str, names: list[str] | None) -> ConsumerProcess:
    """A member of `group` keeping the named views (all when `names` is None)."""
    from consumers.envelope import transcoder
    from consumers.kafka_views import ViewConsumer
    from infra.kafka import clients

    bootstrap = _require_kafka(settings)
    stores = open_stores(settings)
    views = build_views(stores.views, transcoder(), load_city(settings.city))
    if names is not None:
        unknown = sorted(set(names) - {v.name for v in views})
        if unknown:
            raise UnknownView(unknown, [v.name for v in views])
        views = [v for v in views if v.name in names]
    consumer = ViewConsumer(views, lambda: clients.consumer(bootstrap, group),
                            settings.kafka_topic, group)
    return ConsumerProcess(consumer, stores)


class UnknownView(Exception):
    """A view name that is not one of Tsunagi's."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        super().__init__(f"no view named {', '.join(unknown)}; views: {', '.join(known)}")
