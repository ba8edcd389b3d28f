"""Fixtures for the domain's unit tests.

An in-memory `Tsunagi` (POPO recorder) with a clock the test controls, a dict vault,
one actor per role and scope, and helpers that put needs and proposals in any status
by the same commands a user would send.  The module-level factories (`make_world`, …)
are also used directly by the hypothesis tests, where function-scoped fixtures cannot be.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import Tsunagi
from domain.calendar import JST, default_calendar
from domain.need import Need
from domain.permissions import Actor, Role
from domain.proposal import Proposal
from domain.reference import CityData
from infra.city import load_city

#: "now" for tests that do not set it: Wed 31 Mar 2027 12:00 JST, after every scenario
FIXED_NOW = datetime(2027, 3, 31, 3, 0, tzinfo=UTC)

WARD = "higashi"
OFFICE = "higashi-exchange-room-1"
OTHER_OFFICE = "higashi-exchange-room-2"
OTHER_WARD = "chuo"
OTHER_WARD_OFFICE = "chuo-ward-office"
LEAD = "transport-planning"
CO = "road-maintenance"
OTHER_DEPARTMENT = "parks"


def jst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An instant given by its Japanese wall-clock time, as stored (UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


class FakeClock:
    """A clock the test sets and moves; the app reads it as "now"."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        """Jump to an instant."""
        self.now = now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a `timedelta(**delta)`; returns the new now."""
        self.now += timedelta(**delta)
        return self.now


class DictVault:
    """Personal data kept in a dict; every read is logged as (ref, reader)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str]] = {}
        self.reads: list[tuple[str, str]] = []

    def put(self, ref: str, data: dict[str, str]) -> None:
        self.data[ref] = dict(data)

    def get(self, ref: str, reader: str) -> dict[str, str] | None:
        self.reads.append((ref, reader))
        return self.data.get(ref)

    def erase(self, ref: str) -> bool:
        return self.data.pop(ref, None) is not None


class Actors:
    """One actor for each role and scope the rules distinguish (all immutable)."""

    room_staff: Actor = Actor("u-room", "交流室職員", Role.EXCHANGE_ROOM_STAFF, office=OFFICE)
    other_room_staff: Actor = Actor("u-room2", "別の交流室職員", Role.EXCHANGE_ROOM_STAFF,
                                    office=OTHER_OFFICE)
    ward_staff: Actor = Actor("u-staff", "東区職員", Role.WARD_STAFF, ward=WARD)
    ward_mayor: Actor = Actor("u-mayor", "東区長", Role.WARD_MAYOR, ward=WARD)
    other_ward_staff: Actor = Actor("u-chuo", "中央区職員", Role.WARD_STAFF, ward=OTHER_WARD)
    other_ward_mayor: Actor = Actor("u-chuo-mayor", "中央区長", Role.WARD_MAYOR,
                                    ward=OTHER_WARD)
    transport_reviewer: Actor = Actor("u-tp", "交通企画課", Role.DEPARTMENT_REVIEWER,
                                      department=LEAD)
    road_reviewer: Actor = Actor("u-rm", "道路保全課", Role.DEPARTMENT_REVIEWER,
                                 department=CO)
    parks_reviewer: Actor = Actor("u-parks", "公園課", Role.DEPARTMENT_REVIEWER,
                                  department=OTHER_DEPARTMENT)
    monitor: Actor = Actor("u-mon", "政策企画", Role.MONITOR)
    admin: Actor = Actor("u-admin", "管理者", Role.ADMIN)

    def get(self, key: str) -> Actor:
        """The actor named by its field name."""
        actor: Actor = getattr(self, key)
        return actor

    @staticmethod
    def names() -> tuple[str, ...]:
        """Every actor's attribute name, in declaration order."""
        return tuple(k for k, v in vars(Actors).items() if isinstance(v, Actor))


ACTORS = Actors()


@functools.cache
def kumamoto() -> CityData:
    """The shipped Kumamoto data, parsed once per session (it is immutable)."""
    return load_city("kumamoto")


def make_app(clock: FakeClock, vault: DictVault) -> Tsunagi:
    """A fresh application on an in-memory recorder."""
    return Tsunagi(kumamoto(), vault, default_calendar(), clock=clock,
                   env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


_SUBMIT: tuple[str, dict[str, Any]] = ("submit", {})
_ACCEPT = ("decide", {"decision": "accepted", "reason": "効果が見込める",
                      "deferred_to_fiscal_year": None})
_BUDGET_REQ = ("request-budget", {"fiscal_year": 2027, "amount_jpy": 4_800_000})
_START = ("start-implementation", {"note": None})

#: every proposal status, reached from `draft` by these commands (see `World.proposal_in`)
PROPOSAL_PATHS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "draft": (),
    "submitted": (_SUBMIT,),
    "acknowledged": (_SUBMIT, ("acknowledge", {"note": None})),
    "info_requested": (_SUBMIT, ("request-info", {"question": "対象のバス停は?"})),
    "under_review": (_SUBMIT, ("start-review", {})),
    "accepted": (_SUBMIT, _ACCEPT),
    "rejected": (_SUBMIT, ("decide", {"decision": "rejected", "reason": "財源がない",
                                      "deferred_to_fiscal_year": None})),
    "deferred": (_SUBMIT, ("decide", {"decision": "deferred", "reason": "次年度に検討",
                                      "deferred_to_fiscal_year": 2027})),
    "budget_requested": (_SUBMIT, _ACCEPT, _BUDGET_REQ),
    "budgeted": (_SUBMIT, _ACCEPT, _BUDGET_REQ,
                 ("record-budget", {"outcome": "budgeted", "fiscal_year": 2027,
                                    "amount_jpy": 4_800_000})),
    "not_budgeted": (_SUBMIT, _ACCEPT, _BUDGET_REQ,
                     ("record-budget", {"outcome": "not_budgeted", "fiscal_year": 2027,
                                        "amount_jpy": None})),
    "in_progress": (_SUBMIT, _ACCEPT, _START),
    "completed": (_SUBMIT, _ACCEPT, _START, ("complete", {"summary": "ベンチ設置済み"})),
    "withdrawn": (_SUBMIT, ("withdraw", {"reason": "再検討", "return_needs": False})),
    "merged": (_SUBMIT,),  # then merged into another submitted proposal
}

#: the need action that leaves `triaged`/`recorded` for each end status
_NEED_EXIT = {"resolved_locally": "resolve-locally", "declined": "decline", "merged": "merge",
              "closed": "resolve-locally"}

#: who normally takes each proposal action (the ward, its mayor, or the lead division)
_PROPOSAL_ACTOR = {
    "amend": "ward_staff", "withdraw": "ward_staff", "provide-info": "ward_staff",
    "feedback": "ward_staff", "evaluate": "ward_staff", "comment": "ward_staff",
    "submit": "ward_mayor", "notice": "transport_reviewer",
}

@dataclass
class World:
    """An application with its clock, vault and actors, and helpers to build records."""

    app: Tsunagi
    clock: FakeClock
    vault: DictVault
    actors: Actors

    # ── needs ─────────────────────────────────────────────────────────────

    def need_fields(self, **overrides: Any) -> dict[str, Any]:
        """A valid `record_need` body for the exchange room of 東区."""
        return {"ward": WARD, "office": OFFICE, "source": "council_meeting",
                "policy_area": "transport", "title": "バス停にベンチがほしい",
                "description": "高齢者が立って待っている", "observed_on": date(2026, 4, 30),
                **overrides}

    def record_need(self, actor: Actor | None = None, *, reporter: dict[str, str] | None = None,
                    effective_at: datetime | None = None, **overrides: Any) -> Need:
        """Record a need (by the ward's staff unless told otherwise)."""
        return self.app.record_need(actor or self.actors.ward_staff,
                                    self.need_fields(**overrides), reporter=reporter,
                                    effective_at=effective_at).aggregate

    def act_on_need(self, need: Need | UUID, action: str, actor: Actor | None = None,
                    **body: Any) -> Need:
        """Run a need command (by the ward's staff unless told otherwise)."""
        need_id = need.id if isinstance(need, Need) else need
        return self.app.act_on_need(actor or self.actors.ward_staff, need_id, action,
                                    **body).aggregate

    def triaged_need(self, effective_at: datetime | None = None, actor: Actor | None = None,
                     **overrides: Any) -> Need:
        """Record a need and triage it (by the ward's staff unless told otherwise)."""
        actor = actor or self.actors.ward_staff
        need = self.record_need(actor, effective_at=effective_at, **overrides)
        return self.app.act_on_need(actor, need.id, "triage",
                                    policy_area=None, urgency="high", note=None,
                                    effective_at=effective_at).aggregate

    def need_body(self, action: str) -> dict[str, Any]:
        """A valid body for a public need action (`merge` gets a fresh target need)."""
        if action == "merge":
            return {"into": self.record_need(title="同じ要望").id}
        bodies: dict[str, dict[str, Any]] = {
            "amend": {"changes": {"title": "バス停にベンチと屋根がほしい"}},
            "triage": {"policy_area": None, "urgency": "high", "note": None},
            "resolve-locally": {"note": "区で対応した"},
            "decline": {"reason": "対象外"},
            "feedback": {"message": "対応しました", "channel": "council_meeting",
                         "delivered_on": date(2026, 6, 1)},
        }
        return bodies[action]

    def need_in(self, status: str) -> Need:
        """A need brought to `status` by the usual commands."""
        need = self.record_need()
        if status in _NEED_EXIT:
            exit_action = _NEED_EXIT[status]
            need = self.act_on_need(need, exit_action, **self.need_body(exit_action))
            if status == "closed":
                need = self.act_on_need(need, "feedback", **self.need_body("feedback"))
        elif status != "recorded":
            need = self.act_on_need(need, "triage", **self.need_body("triage"))
            if status == "proposed":
                self.draft_proposal(needs=[need.id])
                need = self.app.get_need(need.id)
        assert need.status == status, (need.status, status)
        return need

    # ── proposals ─────────────────────────────────────────────────────────

    def proposal_fields(self, **overrides: Any) -> dict[str, Any]:
        """A valid `create_proposal` body for 東区, led by transport planning."""
        return {"ward": WARD, "title": "東区のバス停待合環境の改善", "summary": "ベンチと屋根",
                "lead_department": LEAD, "co_departments": [CO], "policy_area": "transport",
                "estimated_cost_jpy": 4_800_000, "plan_goals": [], **overrides}

    def draft_proposal(self, needs: list[UUID] | None = None, *,
                       effective_at: datetime | None = None,
                       actor: Actor | None = None, **overrides: Any) -> Proposal:
        """Draft a proposal; without `needs`, it takes in one fresh triaged need."""
        if needs is None:
            needs = [self.triaged_need(effective_at=effective_at).id]
        return self.app.create_proposal(actor or self.actors.ward_staff,
                                        self.proposal_fields(needs=needs, **overrides),
                                        effective_at=effective_at).aggregate

    def act(self, proposal: Proposal | UUID, action: str, actor: Actor | None = None,
            **body: Any) -> Proposal:
        """Run a proposal command, by whoever normally takes it unless told otherwise."""
        proposal_id = proposal.id if isinstance(proposal, Proposal) else proposal
        if actor is None:
            actor = self.actors.get(_PROPOSAL_ACTOR.get(action, "admin"))
            if actor is self.actors.admin:  # division work: the current lead's reviewer
                lead = self.app.get_proposal(proposal_id).lead_department
                actor = Actor(f"u-{lead}", lead, Role.DEPARTMENT_REVIEWER, department=lead)
        return self.app.act_on_proposal(actor, proposal_id, action, **body).aggregate

    def submitted_proposal(self, needs: list[UUID] | None = None, *,
                           effective_at: datetime | None = None, **overrides: Any) -> Proposal:
        """A proposal drafted and signed off by the ward mayor."""
        draft = self.draft_proposal(needs, effective_at=effective_at, **overrides)
        return self.act(draft, "submit", effective_at=effective_at)

    def proposal_in(self, status: str, **overrides: Any) -> Proposal:
        """A proposal (with one need) brought to `status` by the usual commands."""
        proposal = self.draft_proposal(**overrides)
        for action, body in PROPOSAL_PATHS[status]:
            proposal = self.act(proposal, action, **body)
        if status == "merged":
            target = self.submitted_proposal(title="統合先の提案")
            proposal = self.act(proposal, "merge", into=target.id, reason="同じ内容")
        assert proposal.status == status, (proposal.status, status)
        return proposal

    def proposal_body(self, action: str) -> dict[str, Any]:
        """A valid body for a public proposal action (`merge` gets a fresh open target)."""
        if action == "merge":
            return {"into": self.submitted_proposal(title="統合先の提案").id,
                    "reason": "同じ内容"}
        bodies: dict[str, dict[str, Any]] = {
            "amend": {"changes": {"title": "バス停の屋根"}},
            "submit": {},
            "acknowledge": {"note": "受け付けました"},
            "request-info": {"question": "利用者数は?"},
            "provide-info": {"answer": "一日300人"},
            "start-review": {},
            "decide": {"decision": "accepted", "reason": "効果が見込める",
                       "deferred_to_fiscal_year": None},
            "request-budget": {"fiscal_year": 2027, "amount_jpy": 4_800_000},
            "record-budget": {"outcome": "budgeted", "fiscal_year": 2027,
                              "amount_jpy": 4_800_000},
            "start-implementation": {"note": None},
            "complete": {"summary": "設置完了"},
            "withdraw": {"reason": "再検討", "return_needs": False},
            "transfer": {"to_department": OTHER_DEPARTMENT, "reason": "所管が違う"},
            "feedback": {"message": "結果をお知らせします", "channel": "council_meeting",
                         "delivered_on": date(2026, 6, 1)},
            "evaluate": {"satisfaction": 4, "indicators": None, "note": None},
            "comment": {"body": "東区でも同じ声がある"},
            "notice": {"body": "来月決定予定", "wards": [WARD]},
        }
        return bodies[action]


def make_world(now: datetime = FIXED_NOW) -> World:
    """A fresh world whose clock reads `now` until moved."""
    clock = FakeClock(now)
    vault = DictVault()
    return World(make_app(clock, vault), clock, vault, ACTORS)


@pytest.fixture
def clock() -> FakeClock:
    """The controllable clock of `app` (reads FIXED_NOW until moved)."""
    return FakeClock()


@pytest.fixture
def vault() -> DictVault:
    """The dict vault behind `app`."""
    return DictVault()


@pytest.fixture
def app(clock: FakeClock, vault: DictVault) -> Tsunagi:
    """A fresh in-memory application."""
    return make_app(clock, vault)


@pytest.fixture
def actors() -> Actors:
    """One actor per role and scope."""
    return ACTORS


@pytest.fixture
def world(app: Tsunagi, clock: FakeClock, vault: DictVault, actors: Actors) -> World:
    """The app with its clock, vault, actors and record-building helpers."""
    return World(app, clock, vault, actors)
