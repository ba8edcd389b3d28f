"""Time travel: the metrics as of T are the metrics of a system that only saw what happened by T.

A random history is played on an in-memory application, each command at a later
`effective_at` than the one before. For a random instant T, the metrics computed
from the whole history's facts "as of T" must equal the metrics computed from a
fresh application that was sent only the commands dated up to T (so it holds
exactly the events with `effective_at` ≤ T), its facts replayed from its own log.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.backlog import backlog
from domain.calendar import date_jst, default_calendar
from domain.errors import DomainError
from domain.facts import NeedFacts, ProposalFacts
from domain.groupings import GROUP_BYS
from domain.metrics import UNIFORMITY_METRICS, response_metrics
from domain.permissions import Actor, Role
from domain.uniformity import uniformity
from tests.unit.conftest import World, jst, kumamoto, make_world
from tests.unit.test_metrics import facts_from_app

START = jst(2026, 4, 1, 9)
ADMIN = Actor("u-admin", "管理者", Role.ADMIN)
WARDS = {"higashi": "higashi-exchange-room-1", "chuo": "chuo-ward-office"}
DEPARTMENTS = ("transport-planning", "road-maintenance", "parks")
#: a body for each proposal action (decide, record-budget, withdraw vary with the step)
BODIES: dict[str, dict[str, Any]] = {
    "submit": {},
    "acknowledge": {"note": None},
    "request-info": {"question": "詳細は?"},
    "provide-info": {"answer": "回答"},
    "start-review": {},
    "request-budget": {"fiscal_year": 2027, "amount_jpy": 1000},
    "start-implementation": {"note": None},
    "complete": {"summary": "完了"},
    "feedback": {"message": "結果", "channel": "web", "delivered_on": date(2026, 6, 1)},
    "evaluate": {"satisfaction": 3, "indicators": None, "note": None},
}
DECISIONS = ("accepted", "rejected", "deferred")
#: actions that change nothing a metric reads
SKIPPED = frozenset({"amend", "comment", "notice"})
STEP_KINDS = ("propose", "propose", "propose", "need", "close-need", *["advance"] * 8)

steps = st.lists(
    st.tuples(st.integers(1, 96),                      # hours after the previous step
              st.sampled_from(STEP_KINDS),
              st.integers(0, 30),                      # which record (modulo how many)
              st.integers(0, 30)),                     # a second choice (ward, action, …)
    min_size=1, max_size=40)


def _body(action: str, choice: int, proposals: list[UUID]) -> dict[str, Any]:
    if action == "decide":
        decision = DECISIONS[choice % 3]
        return {"decision": decision, "reason": "理由",
                "deferred_to_fiscal_year": 2027 if decision == "deferred" else None}
    if action == "record-budget":
        budgeted = choice % 2 == 0
        return {"outcome": "budgeted" if budgeted else "not_budgeted", "fiscal_year": 2027,
                "amount_jpy": 1000 if budgeted else None}
    if action == "withdraw":
        return {"reason": "再検討", "return_needs": choice % 2 == 0}
    if action == "transfer":
        return {"to_department": DEPARTMENTS[choice % 3], "reason": "所管"}
    if action == "merge":
        return {"into": proposals[choice % len(proposals)], "reason": "同じ"}
    return dict(BODIES[action])


def play(world: World, program: list[tuple[datetime, str, int, int]]) -> None:
    """Send each step's command at its instant, by an admin; refused commands are skipped.

    An `advance` step picks one of the proposal's allowed actions, so that histories go
    deep; the choice depends only on the state, so a replay of a prefix makes it again.
    """
    proposals: list[UUID] = []
    needs: list[UUID] = []
    for at, kind, which, choice in program:
        ward = list(WARDS)[choice % 2]
        observed = date_jst(at) - timedelta(days=choice)
        try:
            if kind in ("propose", "need"):
                need = world.app.record_need(ADMIN, world.need_fields(
                    ward=ward, office=WARDS[ward], observed_on=observed), effective_at=at)
                needs.append(need.aggregate.id)
                if kind == "propose":
                    world.app.act_on_need(ADMIN, need.aggregate.id, "triage", policy_area=None,
                                          urgency=None, note=None, effective_at=at)
                    draft = world.app.create_proposal(ADMIN, world.proposal_fields(
                        ward=ward, needs=[need.aggregate.id],
                        lead_department=DEPARTMENTS[choice % 3], co_departments=[],
                        policy_area=["transport", "welfare"][which % 2]), effective_at=at)
                    proposals.append(draft.aggregate.id)
                    if choice % 5:  # a fifth stay drafts
                        world.app.act_on_proposal(ADMIN, draft.aggregate.id, "submit",
                                                  effective_at=at)
            elif kind == "close-need" and needs:
                need_id = needs[which % len(needs)]
                world.app.act_on_need(ADMIN, need_id, "resolve-locally", note="n",
                                      effective_at=at)
                world.app.act_on_need(ADMIN, need_id, "feedback", message="m", channel="web",
                                      delivered_on=date_jst(at), effective_at=at)
            elif kind == "advance" and proposals:
                proposal_id = proposals[which % len(proposals)]
                allowed = [a for a in world.app.get_proposal(proposal_id).allowed_actions()
                           if a not in SKIPPED]
                if allowed:
                    action = allowed[choice % len(allowed)]
                    world.app.act_on_proposal(ADMIN, proposal_id, action, effective_at=at,
                                              **_body(action, choice, proposals))
        except DomainError:
            pass  # refused (e.g. merging into itself): refused in the replay too


def all_metrics(proposals: list[ProposalFacts], needs: list[NeedFacts],
                as_of: datetime) -> dict[str, Any]:
    """Every figure the metrics module computes, as comparable plain values."""
    city, cal = kumamoto(), default_calendar()
    out: dict[str, Any] = {
        g: response_metrics(proposals, needs, g, city, cal, as_of) for g in GROUP_BYS}
    out["from-to"] = response_metrics(proposals, needs, "ward", city, cal, as_of,
                                      date_from=date(2026, 4, 10), date_to=date(2026, 5, 20))
    out["uniformity"] = [uniformity(out["ward"], m) for m in UNIFORMITY_METRICS]
    out["backlog"] = backlog(proposals, cal, as_of)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, cut=st.floats(0, 1))
def test_metrics_as_of_t_equal_metrics_of_the_events_up_to_t(
        steps: list[tuple[int, str, int, int]], cut: float) -> None:
    program = []
    at = START
    for hours, kind, which, choice in steps:
        at += timedelta(hours=hours)
        program.append((at, kind, which, choice))
    t = START + (at - START) * cut
    full = make_world()
    play(full, program)
    proposals, needs = facts_from_app(full.app)

    replay = make_world()
    play(replay, [step for step in program if step[0] <= t])
    expected = all_metrics(*facts_from_app(replay.app), t)

    assert all_metrics(proposals, needs, t) == expected
    # and "as of T" of the facts is the same thing as cutting the facts at T
    cut_facts = ([p.as_of(t) for p in proposals], [n.as_of(t) for n in needs])
    assert all_metrics(*cut_facts, t) == expected
