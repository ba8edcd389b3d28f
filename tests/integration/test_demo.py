"""The Kumamoto demo history: written through the commands, complete, dated, idempotent."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest

from domain.application import Tsunagi, event_type_name
from domain.calendar import default_calendar
from domain.permissions import Role
from domain.states import ProposalStatus
from infra.city import load_city
from infra.demo import DemoSummary, demo_actors, demo_need_id, demo_proposal_id, load_demo

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
WARDS = {"chuo", "higashi", "nishi", "minami", "kita"}


class MemoryVault:
    """Personal data kept in a dict, as the application's vault port asks."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str]] = {}

    def put(self, ref: str, data: dict[str, str]) -> None:
        self.data[ref] = data

    def get(self, ref: str, reader: str) -> dict[str, str] | None:
        return self.data.get(ref)

    def erase(self, ref: str) -> bool:
        return self.data.pop(ref, None) is not None


def make_app(vault: MemoryVault) -> Tsunagi:
    return Tsunagi(load_city("kumamoto"), vault, default_calendar(), clock=lambda: NOW,
                   env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture(scope="module")
def loaded() -> tuple[Tsunagi, MemoryVault, DemoSummary]:
    vault = MemoryVault()
    app = make_app(vault)
    return app, vault, load_demo(app, NOW)


def events(app: Tsunagi) -> list[Any]:
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def months_before(instant: datetime, months: int) -> datetime:
    year, month = divmod(instant.year * 12 + instant.month - 1 - months, 12)
    return instant.replace(year=year, month=month + 1)


def test_needs_cover_every_ward(loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, summary = loaded
    assert not summary.already_loaded
    assert summary.needs >= 200
    needs = [app.get_need(demo_need_id(i)) for i in range(summary.needs)]
    assert {n.ward for n in needs} == WARDS
    assert min(Counter(n.ward for n in needs).values()) >= 30
    assert len({n.title for n in needs}) >= 100  # templates × places vary
    assert {n.status for n in needs} >= {"recorded", "triaged", "proposed", "resolved_locally",
                                         "declined", "merged", "closed"}
    assert sum(summary.need_statuses.values()) == summary.needs


def test_proposals_reach_every_status(loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, summary = loaded
    assert summary.proposals >= 40
    statuses = Counter(app.get_proposal(demo_proposal_id(i)).status
                       for i in range(summary.proposals))
    assert set(statuses) == {s.value for s in ProposalStatus}
    assert statuses == Counter(summary.proposal_statuses)
    assert {app.get_proposal(demo_proposal_id(i)).ward for i in range(summary.proposals)} == WARDS


def test_the_whole_loop_is_shown(loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, summary = loaded
    types = Counter(event_type_name(e) for e in events(app))
    for name in ("NeedAmended", "NeedTriaged", "NeedResolvedLocally", "NeedDeclined",
                 "NeedMerged", "NeedFeedbackRecorded", "NeedReturnedToTriage",
                 "NeedMovedToProposal", "NeedClosedWithProposal", "ProposalAmended",
                 "ProposalTransferred", "ProposalInfoProvided", "ProposalBudgetRecorded",
                 "ProposalAbsorbed", "ProposalCommented", "ProposalNoticeSent"):
        assert types[name] >= 1, name
    proposals = [app.get_proposal(demo_proposal_id(i)) for i in range(summary.proposals)]
    assert sum(bool(p.co_departments) for p in proposals) >= 5
    assert any(r["department"] in p.co_departments for p in proposals for r in p.info_requests)
    assert sum(p.closed_for_originators for p in proposals) >= 10
    scores = {e["satisfaction"] for p in proposals for e in p.evaluations}
    assert scores <= {1, 2, 3, 4, 5} and len(scores) >= 3


def test_effective_at_lies_in_the_18_months_before_now(
        loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, _ = loaded
    history: dict[UUID, list[tuple[int, datetime]]] = defaultdict(list)
    for event in events(app):
        assert months_before(NOW, 18) <= event.effective_at <= NOW
        history[event.originator_id].append((event.originator_version, event.effective_at))
    for entries in history.values():
        instants = [at for _, at in sorted(entries)]
        assert all(a < b for a, b in pairwise(instants))
    assert min(e.effective_at for e in events(app)) < months_before(NOW, 16)


def test_a_second_load_changes_nothing(loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, summary = loaded
    position = app.position()
    again = load_demo(app, NOW)
    assert again.already_loaded
    assert app.position() == position
    assert (again.needs, again.proposals, again.proposal_statuses) == (
        summary.needs, summary.proposals, summary.proposal_statuses)


def test_the_same_seed_gives_the_same_history(
        loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, _ = loaded
    other = make_app(MemoryVault())
    load_demo(other, NOW)

    def shape(a: Tsunagi) -> list[tuple[Any, ...]]:
        return [(e.originator_id, e.originator_version, type(e).__qualname__, e.effective_at)
                for e in events(a)]

    assert shape(other) == shape(app)


def test_reporters_stay_out_of_the_events(
        loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, vault, _ = loaded
    secrets = {value for data in vault.data.values() for value in data.values()}
    assert len(vault.data) >= 20 and secrets
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        stored = notification.state.decode("utf-8")
        decoded = repr(app.mapper.to_domain_event(notification).__dict__)
        assert not [s for s in secrets if s in stored or s in decoded]


def test_demo_actors_cover_every_role_and_everyone_who_acted(
        loaded: tuple[Tsunagi, MemoryVault, DemoSummary]) -> None:
    app, _, _ = loaded
    actors = demo_actors(app.city)
    ids = {a.id for a in actors}
    assert len(ids) == len(actors)
    assert {a.role for a in actors} == set(Role)
    assert {e.actor for e in events(app)} <= ids
    for ward in WARDS:
        first_room = app.city.offices_in(ward, "exchange_room")[0]
        assert any(a.role == Role.EXCHANGE_ROOM_STAFF and a.office == first_room.id
                   and a.ward == ward for a in actors)
        assert any(a.role == Role.WARD_STAFF and a.ward == ward for a in actors)
        assert any(a.role == Role.WARD_MAYOR and a.ward == ward for a in actors)


def test_a_now_after_the_clock_is_refused_before_anything_is_written() -> None:
    app = make_app(MemoryVault())
    with pytest.raises(ValueError, match="clock"):
        load_demo(app, datetime(2030, 1, 1, tzinfo=UTC))
    assert app.position() == 0
