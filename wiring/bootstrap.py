"""The one place that wires Tsunagi together from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from consumers.follower import Follower
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
from projections.department_queue import DepartmentQueue
from projections.indicator_observations import IndicatorObservations
from projections.needs_index import NeedsIndex
from projections.proposals_index import ProposalsIndex
from projections.ward_agenda import WardAgenda
from projections.ward_feedback import WardFeedback


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
    databases: list[Database] = field(default_factory=list)

    @property
    def views(self) -> list[View]:
        """Every view the follower keeps."""
        return self.follower.views

    def now(self) -> datetime:
        """The current instant."""
        return self.clock()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the follower and release connections."""
        self.follower.stop()
        self.app.close()
        for db in self.databases:
            db.close()


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Container:
    """Build the container: SQLite files under the data directory, or one PostgreSQL."""
    settings = settings or Settings()
    city = load_city(settings.city)
    calendar = default_calendar()
    if settings.uses_postgres:
        main = open_database(settings.database_url)
        ops_db = pii_db = views_db = main
        databases = [main]
    else:
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        ops_db = open_database(data / "tsunagi.sqlite")
        pii_db = open_database(data / "personal-data.sqlite")
        views_db = open_database(data / "views.sqlite")
        databases = [ops_db, pii_db, views_db]
    vault = SqlPersonalDataVault(pii_db)
    app = Tsunagi(city, vault, calendar, clock=clock, env=event_store_env(settings))
    transcoder = app.mapper.transcoder
    needs_index = NeedsIndex(views_db, transcoder)
    proposals_index = ProposalsIndex(views_db, transcoder)
    department_queue = DepartmentQueue(views_db, transcoder)
    ward_feedback = WardFeedback(views_db, transcoder)
    clock_facts = ClockFactsView(views_db, transcoder)
    ward_agenda = WardAgenda(views_db, transcoder)
    # issue 11: the indicator observations view, fed like every other view
    indicator_observations = IndicatorObservations(views_db, transcoder)
    follower = Follower(app, [needs_index, proposals_index, department_queue, ward_feedback,
                              clock_facts, ward_agenda, indicator_observations],
                        poll_interval=settings.poll_interval)
    return Container(settings, city, calendar, clock, app, vault, UserStore(ops_db, city),
                     IdempotencyStore(ops_db), needs_index, proposals_index, department_queue,
                     ward_feedback, follower, clock_facts=clock_facts,
                     ward_agenda=ward_agenda, indicator_observations=indicator_observations,
                     databases=databases)
