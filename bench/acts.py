"""Every call the benchmarks make to Tsunagi's command API, in one place.

The data generator writes through the application's own commands (so every rule
holds), but a `BatchingTsunagi` keeps the aggregates it touches in memory and
saves their events in large batches (`app.save(*events)`), in the order they
happened. When the command API changes, only this module needs adapting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.domain import DomainEventProtocol

from domain.application import Outcome, Tsunagi
from domain.base import TrackedAggregate
from domain.calendar import date_jst
from domain.permissions import Actor


class _LiveRepository(Repository[UUID]):
    """The library's repository, answering first from aggregates not yet saved."""

    live: dict[UUID, Any]

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:
        aggregate = self.live.get(aggregate_id)
        return aggregate if aggregate is not None else super().get(aggregate_id, **kwargs)

    def __contains__(self, item: UUID) -> bool:
        return item in self.live or super().__contains__(item)


class BatchingTsunagi(Tsunagi):
    """Tsunagi whose `save` collects events in memory until `flush()` writes them at once."""

    name = "Tsunagi"  # the library names PostgreSQL tables after the application

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[DomainEventProtocol[UUID]] = []

    def construct_repository(self) -> Repository[UUID]:
        inner = super().construct_repository()
        repository = _LiveRepository(inner.event_store, snapshot_store=inner.snapshot_store)
        repository.live = {}
        return repository

    @property
    def _live(self) -> dict[UUID, Any]:
        assert isinstance(self.repository, _LiveRepository)
        return self.repository.live

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        for obj in objs:
            if isinstance(obj, TrackedAggregate):
                self._pending.extend(obj.collect_events())
                self._live[obj.id] = obj
        return []  # positions are unknown until the flush

    def position(self) -> int:
        return 0  # not asked of the store per command: the generator never reads it

    def pending_events(self) -> int:
        """Events collected and not yet written."""
        return len(self._pending)

    def flush(self) -> int:
        """Write every collected event in one transaction; returns how many."""
        events = list(self._pending)
        if events:
            super().save(*events)
        self._pending.clear()
        self._live.clear()
        return len(events)


# ── the commands the generator uses ───────────────────────────────────────


def record_need(app: Tsunagi, actor: Actor, need_id: UUID, fields: dict[str, Any],
                reporter: dict[str, str] | None, when: datetime) -> None:
    """A need heard at an office."""
    app.record_need(actor, fields, reporter=reporter, need_id=need_id, effective_at=when)


def act_on_need(app: Tsunagi, actor: Actor, need_id: UUID, action: str, when: datetime,
                **body: Any) -> None:
    """One of a need's actions (`triage`, `merge`, `feedback`, …)."""
    if action == "feedback":
        body.setdefault("delivered_on", date_jst(when))
    app.act_on_need(actor, need_id, action, effective_at=when, **body)


def create_proposal(app: Tsunagi, actor: Actor, proposal_id: UUID, fields: dict[str, Any],
                    when: datetime) -> None:
    """A ward's draft proposal carrying triaged needs."""
    app.create_proposal(actor, fields, proposal_id=proposal_id, effective_at=when)


def act_on_proposal(app: Tsunagi, actor: Actor, proposal_id: UUID, action: str,
                    when: datetime, **body: Any) -> None:
    """One of a proposal's actions (`submit`, `decide`, `feedback`, …)."""
    if action == "feedback":
        body.setdefault("delivered_on", date_jst(when))
    app.act_on_proposal(actor, proposal_id, action, effective_at=when, **body)


__all__ = ["BatchingTsunagi", "Outcome", "act_on_need", "act_on_proposal", "create_proposal",
           "record_need"]
