"""Which ward an event belongs to, and the log read without the application.

A need or a proposal never changes city or ward (a need merges only into a need
of its own ward; a proposal merged into another ward's proposal keeps its own
ward, and so do its needs that follow). So an event's route is its aggregate's
creation event's city and ward: the creation event carries them, and a later
event's route is read from its aggregate's first event (once; then cached).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from consumers.envelope import CITY_WIDE, Route
from domain.application import DateAsISO, Tsunagi
from projections.base import Event

#: routes kept in memory (an aggregate's route never changes, so any of them may go)
CACHE_SIZE = 100_000


class EventLog(Application[UUID]):
    """Tsunagi's event store opened for reading (the relay's): no vault, no calendar."""

    name = Tsunagi.name  # the same tables as the application that writes them

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The transcodings of the writing application."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


class UnroutableEvent(Exception):
    """An event whose aggregate's creation is not in the log (the log is damaged)."""


class Router:
    """Gives each event of one log its route."""

    def __init__(self, log: Application[Any]) -> None:
        self.log = log
        self._routes: OrderedDict[UUID, Route] = OrderedDict()

    def route(self, event: Event) -> Route:
        """The event's city and ward."""
        return self.route_of(event.originator_id, event.originator_version, event.__dict__)

    def route_of(self, aggregate_id: UUID, version: int, fields: Mapping[str, Any]) -> Route:
        """The route of an aggregate's event at `version`, whose attributes are `fields`
        (a domain event's, or its stored JSON parsed: `city` and `ward` are plain text)."""
        route = self._routes.get(aggregate_id)
        if route is None:
            if version != 1:
                first = self.log.recorder.select_events(aggregate_id, lte=1, limit=1)
                if not first:
                    raise UnroutableEvent(f"no creation event for aggregate {aggregate_id}")
                fields = self.log.mapper.to_domain_event(first[0]).__dict__
            # A city-wide indicator observation has no ward: it is keyed to the city.
            route = Route(fields["city"], fields["ward"] or CITY_WIDE)
            self._routes[aggregate_id] = route
            if len(self._routes) > CACHE_SIZE:
                self._routes.popitem(last=False)
        return route

    def route_at(self, position: int) -> Route | None:
        """The route of the event at a log position (None if there is none yet)."""
        found = self.log.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            return None
        return self.route(self.log.mapper.to_domain_event(found[0]))
