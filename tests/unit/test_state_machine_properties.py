"""Random walks through both aggregates, checked against the transition tables.

An admin (so that permissions never refuse) records needs, drafts proposals and sends
random actions with valid-ish random bodies, mostly at increasing `effective_at`
instants. After every step:

- a command that succeeded started from a status its table allows and reached the
  status the table names (or the decision/outcome in its body);
- a command that was refused raised a domain error and changed nothing (every
  aggregate's version is as before); `ActionNotAllowed` names the current status and is
  raised exactly when the action was not in `allowed_actions()`;
- every status is a member of its enum, and replaying an aggregate's stored events
  (`functools.reduce` over `event.mutate`) rebuilds exactly the state the command left;
- a need and its proposal agree about each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.base import TrackedAggregate
from domain.errors import ActionNotAllowed, DomainError
from domain.need import Need
from domain.proposal import Proposal
from domain.states import (
    FINAL,
    NEED_TRANSITIONS,
    OPEN,
    PROPOSAL_TRANSITIONS,
    NeedStatus,
    ProposalStatus,
    Transition,
)
from tests.unit.conftest import ACTORS, jst, make_world

START = jst(2026, 4, 1, 9)
NEED_ACTIONS = sorted(a for a, t in NEED_TRANSITIONS.items() if not t.internal)
PROPOSAL_ACTIONS = sorted(a for a, t in PROPOSAL_TRANSITIONS.items() if not t.internal)
#: actions that end an aggregate's walk early; drawn less often so walks go deep
ENDINGS = frozenset({"withdraw", "merge", "decline", "resolve-locally"})
#: actions that leave the status as it is
IDLE = frozenset({"amend", "comment", "notice", "transfer", "evaluate"})
WARDS = ("higashi", "chuo")
OFFICES = {"higashi": "higashi-exchange-room-1", "chuo": "chuo-ward-office"}
DEPARTMENTS = ("transport-planning", "road-maintenance", "parks")
SETTINGS = settings(max_examples=50, stateful_step_count=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

texts = st.sampled_from(["要望", "バス停", "道路の補修", "x"])
years = st.sampled_from([2026, 2027])
amounts = st.integers(min_value=0, max_value=10_000_000)
delivered = st.dates(min_value=date(2026, 4, 1), max_value=date(2027, 3, 31))


def replay(app: Any, aggregate_id: UUID) -> TrackedAggregate:
    """Rebuild an aggregate from its stored events alone."""
    events = app.events.get(aggregate_id)
    aggregate = functools.reduce(lambda agg, event: event.mutate(agg), events, None)
    assert isinstance(aggregate, TrackedAggregate)
    return aggregate


def replay_need(app: Any, need_id: UUID) -> Need:
    need = replay(app, need_id)
    assert isinstance(need, Need)
    return need


def replay_proposal(app: Any, proposal_id: UUID) -> Proposal:
    proposal = replay(app, proposal_id)
    assert isinstance(proposal, Proposal)
    return proposal


def reached(transition: Transition, before: str, body: dict[str, Any]) -> str:
    """The status the table says `transition` leads to from `before`."""
    if transition.target is None:
        return before
    if transition.target == "*":
        return str(body.get("decision") or body["outcome"])
    return transition.target


class Lifecycle(RuleBasedStateMachine):
    """Needs and proposals of two wards, driven by random commands."""

    def __init__(self) -> None:
        super().__init__()
        self.world = make_world(START)
        self.app = self.world.app
        self.needs: list[UUID] = []
        self.proposals: list[UUID] = []

    # ── helpers ───────────────────────────────────────────────────────────

    def versions(self) -> dict[UUID, int]:
        return {i: replay(self.app, i).version for i in (*self.needs, *self.proposals)}

    def when(self, data: st.DataObject, previous: datetime) -> datetime | None:
        """Mostly now or a little earlier (not before `previous`); now and then invalid."""
        choice = data.draw(st.integers(0, 11))
        now = self.world.clock.now
        if choice <= 3:
            return None  # the server's now
        if choice <= 6:
            return now
        if choice <= 9:
            return previous + (now - previous) / 2
        if choice == 10:
            return previous - timedelta(minutes=1)  # EffectiveAtBeforePrevious
        return now + timedelta(hours=1)  # EffectiveAtInFuture

    def expected_version(self, data: st.DataObject, version: int) -> int | None:
        """Mostly no If-Match; sometimes the current version, sometimes a stale one."""
        choice = data.draw(st.integers(0, 9))
        return version - 1 if choice == 9 else version if choice == 8 else None

    def some(self, data: st.DataObject, ids: list[UUID]) -> UUID:
        return data.draw(st.sampled_from(ids))

    def action(self, data: st.DataObject, aggregate: TrackedAggregate,
               every: list[str]) -> str:
        """Mostly an action allowed now (to walk deep), sometimes any action at all."""
        allowed = aggregate.allowed_actions()
        choice = data.draw(st.integers(0, 7))
        if choice == 7 or not allowed:
            return data.draw(st.sampled_from(every))
        if choice <= 4:  # move on: neither end the walk early nor mark time
            allowed = [a for a in allowed if a not in ENDINGS | IDLE] or allowed
        return data.draw(st.sampled_from(allowed))

    def triaged(self, ward: str) -> list[UUID]:
        return [i for i in self.needs
                if (n := replay_need(self.app, i)).status == NeedStatus.TRIAGED
                and n.ward == ward]

    def need_ids(self, data: st.DataObject, ward: str) -> st.SearchStrategy[list[UUID]]:
        """Mostly triaged needs of the ward, sometimes any need at all."""
        pool = self.triaged(ward)
        if not pool or data.draw(st.integers(0, 3)) == 3:
            pool = self.needs
        return st.lists(st.sampled_from(pool), max_size=3) if pool else st.just([])

    def run_command(self, target: UUID, table: dict[str, Transition], action: str,
                    body: dict[str, Any], command: Any) -> None:
        """Run one command and check what it did against the table."""
        before = replay(self.app, target)
        allowed_before = before.allowed_actions()
        versions = self.versions()
        try:
            outcome = command()
        except DomainError as refused:
            assert self.versions() == versions, f"{action} refused but changed something"
            if isinstance(refused, ActionNotAllowed):
                assert action not in allowed_before
                assert refused.current_status == before.status
                assert refused.allowed_actions == allowed_before
            return
        assert action in allowed_before, f"{action} succeeded from {before.status}"
        transition = table[action]
        assert before.status in transition.sources
        after = outcome.aggregate
        assert after.status == reached(transition, before.status, body)
        assert after.version > before.version
        # the live aggregate the command mutated equals the one rebuilt from the log
        assert after.state() == replay(self.app, target).state()

    # ── rules ─────────────────────────────────────────────────────────────

    @rule(step=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)))
    def time_passes(self, step: timedelta) -> None:
        self.world.clock.advance(seconds=step.total_seconds())

    @rule(ward=st.sampled_from(WARDS), title=texts, urgency=st.sampled_from(["low", "high"]),
          back=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
    def record_need(self, ward: str, title: str, urgency: str, back: timedelta) -> None:
        fields = {"ward": ward, "office": OFFICES[ward], "source": "counter",
                  "policy_area": "transport", "title": title, "description": "説明",
                  "observed_on": date(2026, 3, 1), "urgency": urgency}
        need = self.app.record_need(ACTORS.admin, fields, reporter={"name": "住民"},
                                    effective_at=self.world.clock.now - back).aggregate
        assert need.status == NeedStatus.RECORDED
        self.needs.append(need.id)

    @precondition(lambda self: self.needs)
    @rule(data=st.data())
    def act_on_need(self, data: st.DataObject) -> None:
        need_id = self.some(data, self.needs)
        need = replay_need(self.app, need_id)
        action = self.action(data, need, NEED_ACTIONS)
        bodies: dict[str, Callable[[], dict[str, Any]]] = {
            "amend": lambda: {"changes": data.draw(st.fixed_dictionaries({}, optional={
                "title": texts, "urgency": st.sampled_from(["low", "urgent"]),
                "observed_on": delivered, "residents_affected": st.integers(0, 500),
                "plan_goals": st.sampled_from([[], ["6-2-1"]])}))},
            "triage": lambda: {"policy_area": data.draw(st.sampled_from([None, "roads-parks"])),
                               "urgency": data.draw(st.sampled_from([None, "urgent"])),
                               "note": None},
            "resolve-locally": lambda: {"note": "対応済み"},
            "decline": lambda: {"reason": "対象外"},
            "merge": lambda: {"into": self.some(data, self.needs)},
            "feedback": lambda: {"message": "連絡", "channel": "letter",
                                 "delivered_on": data.draw(delivered)},
        }
        body = bodies[action]()
        when = self.when(data, need.effective_at)
        version = self.expected_version(data, need.version)
        self.run_command(need_id, NEED_TRANSITIONS, action, body, lambda: self.app.act_on_need(
            ACTORS.admin, need_id, action, expected_version=version, effective_at=when,
            **body))

    @rule(data=st.data(), ward=st.sampled_from(WARDS), lead=st.sampled_from(DEPARTMENTS))
    def create_proposal(self, data: st.DataObject, ward: str, lead: str) -> None:
        needs = data.draw(self.need_ids(data, ward))
        co = data.draw(st.lists(st.sampled_from(DEPARTMENTS), max_size=2, unique=True))
        fields = {"ward": ward, "title": "提案", "needs": needs, "lead_department": lead,
                  "co_departments": co, "policy_area": "transport"}
        position = self.app.position()
        versions = self.versions()
        try:
            proposal = self.app.create_proposal(ACTORS.admin, fields,
                                                effective_at=self.world.clock.now).aggregate
        except DomainError:
            assert (self.app.position(), self.versions()) == (position, versions)
            return
        assert proposal.status == ProposalStatus.DRAFT
        assert proposal.needs == list(dict.fromkeys(needs))
        self.proposals.append(proposal.id)

    @precondition(lambda self: self.proposals)
    @rule(data=st.data())
    def act_on_proposal(self, data: st.DataObject) -> None:
        proposal_id = self.some(data, self.proposals)
        proposal = replay_proposal(self.app, proposal_id)
        action = self.action(data, proposal, PROPOSAL_ACTIONS)
        draw = data.draw
        bodies: dict[str, Callable[[], dict[str, Any]]] = {
            "amend": lambda: {"changes": draw(st.fixed_dictionaries({}, optional={
                "title": texts, "needs": self.need_ids(data, proposal.ward),
                "co_departments": st.lists(st.sampled_from(DEPARTMENTS), max_size=2,
                                           unique=True),
                "lead_department": st.sampled_from(DEPARTMENTS),
                "estimated_cost_jpy": amounts}))},
            "submit": lambda: {},
            "acknowledge": lambda: {"note": draw(st.sampled_from([None, "受領"]))},
            "request-info": lambda: {"question": "質問"},
            "provide-info": lambda: {"answer": "回答"},
            "start-review": lambda: {},
            "decide": lambda: {"decision": draw(st.sampled_from(
                                   ["accepted", "accepted", "rejected", "deferred", "bogus"])),
                               "reason": "理由",
                               "deferred_to_fiscal_year": draw(st.sampled_from(
                                   [2027, 2027, None]))},
            "request-budget": lambda: {"fiscal_year": draw(years), "amount_jpy": draw(amounts)},
            "record-budget": lambda: {"outcome": draw(st.sampled_from(
                                          ["budgeted", "budgeted", "not_budgeted", "bogus"])),
                                      "fiscal_year": draw(years),
                                      "amount_jpy": draw(st.none() | amounts)},
            "start-implementation": lambda: {"note": None},
            "complete": lambda: {"summary": "完了"},
            "withdraw": lambda: {"reason": "取り下げ", "return_needs": draw(st.booleans())},
            "merge": lambda: {"into": self.some(data, self.proposals), "reason": "統合"},
            "transfer": lambda: {"to_department": draw(st.sampled_from(DEPARTMENTS)),
                                 "reason": "所管"},
            "feedback": lambda: {"message": "結果", "channel": "web",
                                 "delivered_on": draw(delivered)},
            "evaluate": lambda: {"satisfaction": draw(st.integers(1, 5)),
                                 "indicators": draw(st.sampled_from(
                                     [None, {"council-meetings-attended": 3}])),
                                 "note": None},
            "comment": lambda: {"body": "意見"},
            "notice": lambda: {"body": "予告", "wards": draw(st.lists(st.sampled_from(WARDS),
                                                                      min_size=1, max_size=2))},
        }
        body = bodies[action]()
        when = self.when(data, proposal.effective_at)
        version = self.expected_version(data, proposal.version)
        self.run_command(proposal_id, PROPOSAL_TRANSITIONS, action, body,
                         lambda: self.app.act_on_proposal(
                             ACTORS.admin, proposal_id, action, expected_version=version,
                             effective_at=when, **body))

    # ── invariants ────────────────────────────────────────────────────────

    @invariant()
    def statuses_are_enum_members_and_replay_matches_the_repository(self) -> None:
        for need_id in self.needs:
            need = replay_need(self.app, need_id)
            assert need.status in set(NeedStatus)
            assert need.state() == self.app.get_need(need_id).state()
            assert (need.status == NeedStatus.CLOSED) == (need.closed_at is not None)
            if need.status == NeedStatus.MERGED:
                assert need.merged_into is not None
        for proposal_id in self.proposals:
            proposal = replay_proposal(self.app, proposal_id)
            assert proposal.status in set(ProposalStatus)
            assert proposal.state() == self.app.get_proposal(proposal_id).state()
            if proposal.closed_for_originators:
                assert proposal.status in FINAL

    @invariant()
    def needs_and_proposals_agree(self) -> None:
        needs = {i: replay_need(self.app, i) for i in self.needs}
        proposals = {i: replay_proposal(self.app, i) for i in self.proposals}
        for need in needs.values():
            if need.status == NeedStatus.PROPOSED:
                # a proposed need is carried by the proposal it points to
                assert need.proposal in proposals
                assert need.id in proposals[need.proposal].needs
        for proposal in proposals.values():
            if proposal.status in OPEN or proposal.status == ProposalStatus.DRAFT:
                # every need of a live proposal is proposed, and proposed by it
                for need_id in proposal.needs:
                    assert needs[need_id].status == NeedStatus.PROPOSED
                    assert needs[need_id].proposal == proposal.id


Lifecycle.TestCase.settings = SETTINGS
TestLifecycle = Lifecycle.TestCase


@SETTINGS
@given(data=st.data(), steps=st.integers(min_value=1, max_value=25))
def test_a_proposal_and_its_needs_walk_through_the_tables(
    data: st.DataObject, steps: int
) -> None:
    # The stateful machine spreads its steps over many records; this walk puts them into
    # one proposal (and a second one to merge into), so later statuses are reached often.
    machine = Lifecycle()
    for ward in ("higashi", "higashi", "higashi", "chuo"):
        machine.record_need(ward=ward, title="要望", urgency="low", back=timedelta(0))
    for need_id in machine.needs[:3]:
        machine.app.act_on_need(ACTORS.admin, need_id, "triage", policy_area=None,
                                urgency=None, note=None)
    for needs in (machine.needs[:2], machine.needs[2:3]):
        machine.proposals.append(machine.app.create_proposal(
            ACTORS.admin, {"ward": "higashi", "title": "提案", "needs": needs,
                           "lead_department": "transport-planning",
                           "co_departments": ["road-maintenance"],
                           "policy_area": "transport"}).aggregate.id)
    machine.app.act_on_proposal(ACTORS.admin, machine.proposals[1], "submit")
    for _ in range(steps):
        machine.time_passes(data.draw(st.timedeltas(min_value=timedelta(0),
                                                    max_value=timedelta(days=3))))
        if data.draw(st.integers(0, 4)) == 4:
            machine.act_on_need(data)
        else:
            machine.act_on_proposal(data)
        machine.statuses_are_enum_members_and_replay_matches_the_repository()
        machine.needs_and_proposals_agree()
