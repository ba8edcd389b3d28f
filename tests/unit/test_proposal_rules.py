"""The proposal's state machine and rules, and what they do to its needs.

The table is copied from api.md ("Proposals") and the status sets from domain.md
by hand, not imported from `domain.states`, so that drift between contract and code
fails here.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import (
    ActionNotAllowed,
    EffectiveAtBeforePrevious,
    EffectiveAtInFuture,
    InvalidCommand,
    MergeTargetInvalid,
    NeedNotProposable,
    ProposalNotFound,
    UnknownReference,
    VersionMismatch,
)
from domain.proposal import Proposal
from domain.states import ProposalStatus
from tests.unit.conftest import CO, LEAD, OTHER_DEPARTMENT, OTHER_WARD, OTHER_WARD_OFFICE, World

STATUSES = tuple(s.value for s in ProposalStatus)
FINAL = frozenset({"rejected", "not_budgeted", "completed", "withdrawn", "merged"})
UNDECIDED = frozenset({"submitted", "acknowledged", "info_requested", "under_review"})
OPEN = frozenset(STATUSES) - FINAL - {"draft"}
AFTER_DECISION = frozenset({"accepted", "rejected", "deferred", "budget_requested", "budgeted",
                            "not_budgeted", "in_progress", "completed"})
DECIDED_BY_BODY = "the decision or outcome in the body"

#: api.md, Proposals: action → (from statuses, to status; None = unchanged).
#: `evaluate` is listed with `completed` only: other final statuses need feedback first.
PROPOSAL_TABLE: dict[str, tuple[frozenset[str], str | None]] = {
    "amend": (frozenset({"draft"}), None),
    "submit": (frozenset({"draft"}), "submitted"),
    "acknowledge": (frozenset({"submitted"}), "acknowledged"),
    "request-info": (frozenset({"submitted", "acknowledged", "under_review"}), "info_requested"),
    "provide-info": (frozenset({"info_requested"}), "under_review"),
    "start-review": (frozenset({"submitted", "acknowledged", "deferred"}), "under_review"),
    "decide": (frozenset({"submitted", "acknowledged", "under_review"}), DECIDED_BY_BODY),
    "request-budget": (frozenset({"accepted"}), "budget_requested"),
    "record-budget": (frozenset({"budget_requested"}), DECIDED_BY_BODY),
    "start-implementation": (frozenset({"accepted", "budgeted"}), "in_progress"),
    "complete": (frozenset({"in_progress"}), "completed"),
    "withdraw": (frozenset({"draft"}) | UNDECIDED, "withdrawn"),
    "merge": (OPEN, "merged"),
    "transfer": (UNDECIDED, None),
    "feedback": (AFTER_DECISION | {"withdrawn", "merged"}, None),
    "evaluate": (frozenset({"completed"}), None),
    "comment": (frozenset(STATUSES), None),
    "notice": (frozenset(STATUSES), None),
}

ALLOWED = [(a, s) for a, (src, _) in PROPOSAL_TABLE.items() for s in STATUSES if s in src]
REFUSED = [(a, s) for a, (src, _) in PROPOSAL_TABLE.items() for s in STATUSES if s not in src]


def expected_allowed_actions(status: str, with_feedback: bool = False) -> set[str]:
    """The public actions api.md allows from `status` (evaluate: final + feedback)."""
    allowed = {a for a, (src, _) in PROPOSAL_TABLE.items() if status in src}
    if with_feedback and status in FINAL:
        allowed.add("evaluate")
    return allowed


def give_feedback(world: World, proposal: Proposal) -> Proposal:
    """Record the standard feedback, by the ward."""
    return world.act(proposal, "feedback", **world.proposal_body("feedback"))


# ── the table, cell by cell ────────────────────────────────────────────────


@pytest.mark.parametrize(("action", "status"), ALLOWED)
def test_proposal_action_from_allowed_status_moves_to_table_status(
    world: World, action: str, status: str
) -> None:
    proposal = world.proposal_in(status)
    body = world.proposal_body(action)
    after = world.act(proposal, action, **body)
    target = PROPOSAL_TABLE[action][1]
    if target is None:
        target = status
    elif target == DECIDED_BY_BODY:
        target = body.get("decision") or body["outcome"]
    assert after.status == target
    assert after.version == proposal.version + 1
    assert world.app.get_proposal(proposal.id).status == target


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_proposal_action_from_other_status_is_refused_naming_status_and_allowed_actions(
    world: World, action: str, status: str
) -> None:
    proposal = world.proposal_in(status)
    with pytest.raises(ActionNotAllowed) as refused:
        world.act(proposal, action, **world.proposal_body(action))
    assert refused.value.current_status == status
    assert set(refused.value.allowed_actions) == expected_allowed_actions(status)
    unchanged = world.app.get_proposal(proposal.id)
    assert (unchanged.status, unchanged.version) == (status, proposal.version)


@pytest.mark.parametrize("status", STATUSES)
def test_proposal_allowed_actions_match_api_table(world: World, status: str) -> None:
    assert set(world.proposal_in(status).allowed_actions()) == expected_allowed_actions(status)


@pytest.mark.parametrize("status", sorted(FINAL))
def test_final_proposal_may_be_evaluated_once_feedback_follows(
    world: World, status: str
) -> None:
    proposal = give_feedback(world, world.proposal_in(status))
    assert set(proposal.allowed_actions()) == expected_allowed_actions(status, True)
    after = world.act(proposal, "evaluate", satisfaction=5,
                      indicators={"council-meetings-attended": 320}, note="好評")
    assert after.status == status
    assert after.evaluations[-1]["satisfaction"] == 5
    assert after.evaluations[-1]["indicators"] == {"council-meetings-attended": 320.0}


@pytest.mark.parametrize("status", sorted(FINAL - {"completed"}))
def test_final_proposal_without_feedback_cannot_be_evaluated(world: World, status: str) -> None:
    proposal = world.proposal_in(status)
    with pytest.raises(ActionNotAllowed) as refused:
        world.act(proposal, "evaluate", **world.proposal_body("evaluate"))
    assert "evaluate" not in refused.value.allowed_actions
    assert "feedback" in refused.value.allowed_actions


def test_accepted_proposal_with_feedback_still_cannot_be_evaluated(world: World) -> None:
    proposal = give_feedback(world, world.proposal_in("accepted"))
    with pytest.raises(ActionNotAllowed):
        world.act(proposal, "evaluate", **world.proposal_body("evaluate"))


# ── decisions and budgets ─────────────────────────────────────────────────


@pytest.mark.parametrize("decision", ["accepted", "rejected", "deferred"])
def test_decide_moves_to_the_decision_with_its_reason(world: World, decision: str) -> None:
    proposal = world.proposal_in("under_review")
    year = 2027 if decision == "deferred" else None
    after = world.act(proposal, "decide", decision=decision, reason="理由",
                      deferred_to_fiscal_year=year)
    assert (after.status, after.decision, after.decision_reason) == (decision, decision, "理由")
    assert after.deferred_to_fiscal_year == year
    assert after.decided_at == after.first_decided_at == after.effective_at


def test_deferral_without_fiscal_year_is_refused(world: World) -> None:
    proposal = world.proposal_in("under_review")
    with pytest.raises(InvalidCommand) as refused:
        world.act(proposal, "decide", decision="deferred", reason="次年度",
                  deferred_to_fiscal_year=None)
    assert refused.value.field == "deferred_to_fiscal_year"
    assert world.app.get_proposal(proposal.id).version == proposal.version


def test_acceptance_drops_a_stray_fiscal_year(world: World) -> None:
    after = world.act(world.proposal_in("under_review"), "decide", decision="accepted",
                      reason="r", deferred_to_fiscal_year=2030)
    assert after.deferred_to_fiscal_year is None


def test_unknown_decision_is_refused(world: World) -> None:
    proposal = world.proposal_in("under_review")
    with pytest.raises(InvalidCommand):
        world.act(proposal, "decide", decision="maybe", reason="r", deferred_to_fiscal_year=None)
    assert world.app.get_proposal(proposal.id).status == "under_review"


def test_deferred_proposal_taken_up_again_keeps_first_decision_instant(world: World) -> None:
    world.clock.set(world.clock.now - timedelta(days=30))
    proposal = world.proposal_in("deferred")
    first = proposal.decided_at
    assert first is not None
    world.clock.advance(days=10)
    world.act(proposal, "start-review")
    world.clock.advance(days=10)
    after = world.act(proposal, "decide", decision="accepted", reason="予算がついた",
                      deferred_to_fiscal_year=None)
    assert after.first_decided_at == first
    assert after.decided_at == world.clock.now > first
    assert (after.decision, after.deferred_to_fiscal_year) == ("accepted", None)


@pytest.mark.parametrize(("outcome", "budgeted_jpy"), [("budgeted", 4_000_000),
                                                       ("not_budgeted", 0)])
def test_budget_outcome_records_amounts(world: World, outcome: str, budgeted_jpy: int) -> None:
    proposal = world.act(world.proposal_in("accepted"), "request-budget", fiscal_year=2027,
                         amount_jpy=4_800_000)
    after = world.act(proposal, "record-budget", outcome=outcome, fiscal_year=2027,
                      amount_jpy=4_000_000)
    assert after.status == outcome
    assert after.budget == {"requested_jpy": 4_800_000, "budgeted_jpy": budgeted_jpy,
                            "fiscal_year": 2027}


def test_budgeted_outcome_without_amount_is_refused(world: World) -> None:
    proposal = world.proposal_in("budget_requested")
    with pytest.raises(InvalidCommand) as refused:
        world.act(proposal, "record-budget", outcome="budgeted", fiscal_year=2027,
                  amount_jpy=None)
    assert refused.value.field == "amount_jpy"
    assert world.app.get_proposal(proposal.id).status == "budget_requested"


def test_unknown_budget_outcome_is_refused(world: World) -> None:
    proposal = world.proposal_in("budget_requested")
    with pytest.raises(InvalidCommand):
        world.act(proposal, "record-budget", outcome="maybe", fiscal_year=2027, amount_jpy=1)


# ── transfers, info requests, comments, notices ───────────────────────────


def test_transfer_changes_the_lead_and_removes_it_from_co_departments(world: World) -> None:
    proposal = world.proposal_in("acknowledged")
    assert (proposal.lead_department, proposal.co_departments) == (LEAD, [CO])
    after = world.act(proposal, "transfer", to_department=CO, reason="道路の所管")
    assert after.status == "acknowledged"
    assert (after.lead_department, after.co_departments) == (CO, [])
    assert [(t["from_department"], t["to_department"]) for t in after.transfers] == [(LEAD, CO)]


def test_transfer_to_the_current_lead_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(InvalidCommand):
        world.act(proposal, "transfer", to_department=LEAD, reason="r")


def test_transfer_to_unknown_department_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(UnknownReference):
        world.act(proposal, "transfer", to_department="no-such-division", reason="r")
    assert world.app.get_proposal(proposal.id).lead_department == LEAD


def test_request_info_by_co_division_is_recorded_as_theirs(world: World) -> None:
    proposal = world.proposal_in("acknowledged")
    after = world.act(proposal, "request-info", actor=world.actors.road_reviewer,
                      question="道路幅は?")
    assert after.info_requests[-1]["department"] == CO
    after = world.act(after, "provide-info", answer="6m")
    assert after.info_requests[-1]["answer"] == "6m"
    assert after.status == "under_review"


def test_comment_and_notice_do_not_change_status(world: World) -> None:
    proposal = world.proposal_in("in_progress")
    after = world.act(proposal, "comment", body="南区でも同じ声")
    after = world.act(after, "notice", actor=world.actors.parks_reviewer, body="来月決定",
                      wards=["higashi", OTHER_WARD])
    assert after.status == "in_progress"
    assert after.comments[-1]["body"] == "南区でも同じ声"
    assert after.notices[-1] == {"body": "来月決定", "wards": ["higashi", OTHER_WARD],
                                 "department": OTHER_DEPARTMENT,
                                 "effective_at": after.effective_at}


def test_notice_to_unknown_ward_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(UnknownReference):
        world.act(proposal, "notice", body="b", wards=["no-such-ward"])


# ── merging proposals ─────────────────────────────────────────────────────


def test_merge_into_itself_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(MergeTargetInvalid):
        world.act(proposal, "merge", into=proposal.id, reason="r")


@pytest.mark.parametrize("target_status", ["draft", "rejected", "completed", "withdrawn"])
def test_merge_into_proposal_not_open_is_refused(world: World, target_status: str) -> None:
    target = world.proposal_in(target_status)
    proposal = world.proposal_in("submitted")
    with pytest.raises(MergeTargetInvalid):
        world.act(proposal, "merge", into=target.id, reason="r")
    assert world.app.get_proposal(proposal.id).version == proposal.version
    assert world.app.get_proposal(target.id).version == target.version


def test_merge_into_unknown_proposal_is_refused(world: World) -> None:
    with pytest.raises(ProposalNotFound):
        world.act(world.proposal_in("submitted"), "merge", into=Proposal.create_id(), reason="r")


# ── the needs of a proposal ───────────────────────────────────────────────


def test_need_taken_into_a_draft_becomes_proposed(world: World) -> None:
    need = world.triaged_need()
    proposal = world.draft_proposal(needs=[need.id])
    joined = world.app.get_need(need.id)
    assert (joined.status, joined.proposal) == ("proposed", proposal.id)
    assert proposal.needs == [need.id]


def test_amending_a_drafts_needs_returns_the_removed_one_and_proposes_the_added_one(
    world: World,
) -> None:
    kept, removed, added = (world.triaged_need() for _ in range(3))
    proposal = world.draft_proposal(needs=[kept.id, removed.id])
    after = world.act(proposal, "amend", changes={"needs": [kept.id, added.id]})
    assert after.needs == [kept.id, added.id]
    left = world.app.get_need(removed.id)
    assert (left.status, left.proposal) == ("triaged", None)
    joined = world.app.get_need(added.id)
    assert (joined.status, joined.proposal) == ("proposed", proposal.id)
    assert world.app.get_need(kept.id).status == "proposed"


def test_amending_a_draft_changes_its_fields(world: World) -> None:
    proposal = world.proposal_in("draft")
    after = world.act(proposal, "amend", changes={"title": "新しい題", "co_departments": [],
                                                  "estimated_cost_jpy": 100})
    assert (after.title, after.co_departments, after.estimated_cost_jpy) == ("新しい題", [], 100)
    assert after.status == "draft"


@pytest.mark.parametrize(("field", "value"), [
    ("status", "completed"), ("ward", OTHER_WARD), ("closed_for_originators", True),
    ("submitted_at", None),
])
def test_amending_a_draft_refuses_fields_that_are_not_amendable(
    world: World, field: str, value: object
) -> None:
    # Regression (fixed in 2dea30b): `changes` used to be applied with setattr for any
    # name, so a draft could be amended straight to `status: completed` (its needs left
    # `proposed`) or moved to another ward. Only proposal.AMENDABLE fields may change.
    proposal = world.proposal_in("draft")
    with pytest.raises(InvalidCommand):
        world.act(proposal, "amend", changes={field: value})
    unchanged = world.app.get_proposal(proposal.id)
    assert (unchanged.version, unchanged.status, unchanged.ward) == (
        proposal.version, "draft", "higashi")


@pytest.mark.parametrize("need_status", ["recorded", "proposed", "declined", "closed"])
def test_proposal_naming_a_need_not_triaged_is_refused(world: World, need_status: str) -> None:
    need = world.need_in(need_status)
    position = world.app.position()
    with pytest.raises(NeedNotProposable):
        world.draft_proposal(needs=[need.id])
    assert world.app.position() == position
    assert world.app.get_need(need.id).status == need_status


def test_proposal_naming_a_need_of_another_ward_is_refused(world: World) -> None:
    need = world.triaged_need(actor=world.actors.other_ward_staff, ward=OTHER_WARD,
                              office=OTHER_WARD_OFFICE)
    with pytest.raises(NeedNotProposable):
        world.draft_proposal(needs=[need.id])
    assert world.app.get_need(need.id).status == "triaged"


def test_amending_a_draft_with_a_need_not_triaged_is_refused_and_changes_nothing(
    world: World,
) -> None:
    proposal = world.proposal_in("draft")
    recorded = world.record_need()
    with pytest.raises(NeedNotProposable):
        world.act(proposal, "amend", changes={"needs": [recorded.id]})
    assert world.app.get_proposal(proposal.id).needs == proposal.needs
    assert world.app.get_need(proposal.needs[0]).status == "proposed"


@pytest.mark.parametrize("status", ["under_review", "completed"])
def test_amending_the_needs_of_a_proposal_past_its_draft_is_refused_by_the_proposal(
    world: World, status: str,
) -> None:
    proposal = world.proposal_in(status)
    (need_id,) = proposal.needs
    need_status = world.app.get_need(need_id).status
    with pytest.raises(ActionNotAllowed) as refused:
        world.act(proposal, "amend", changes={"needs": []})
    assert (refused.value.params["kind"], refused.value.current_status) == ("proposal", status)
    assert world.app.get_proposal(proposal.id).needs == [need_id]
    assert world.app.get_need(need_id).status == need_status


def test_withdraw_returning_needs_puts_them_back_in_triage(world: World) -> None:
    proposal = world.proposal_in("under_review")
    (need_id,) = proposal.needs
    after = world.act(proposal, "withdraw", reason="区で対応", return_needs=True)
    assert after.status == "withdrawn" and after.needs == []
    need = world.app.get_need(need_id)
    assert (need.status, need.proposal) == ("triaged", None)
    # and the ward may propose it again
    again = world.draft_proposal(needs=[need_id])
    assert world.app.get_need(need_id).proposal == again.id


def test_withdraw_keeping_needs_closes_them_when_feedback_follows(world: World) -> None:
    proposal = world.proposal_in("submitted")
    (need_id,) = proposal.needs
    withdrawn = world.act(proposal, "withdraw", reason="r", return_needs=False)
    assert world.app.get_need(need_id).status == "proposed"
    assert withdrawn.closed_for_originators is False
    after = give_feedback(world, withdrawn)
    assert after.closed_for_originators is True
    need = world.app.get_need(need_id)
    assert need.status == "closed" and need.closed_at == after.effective_at


def test_merged_proposals_needs_follow_the_target_and_close_with_its_feedback(
    world: World,
) -> None:
    source = world.proposal_in("acknowledged")
    target = world.proposal_in("under_review")
    (moved,) = source.needs
    (own,) = target.needs
    merged = world.act(source, "merge", into=target.id, reason="同じ内容")
    assert (merged.status, merged.merged_into, merged.needs) == ("merged", target.id, [])
    target = world.app.get_proposal(target.id)
    assert target.needs == [own, moved] and target.merged_from == [source.id]
    assert world.app.get_need(moved).proposal == target.id
    # feedback on the merged proposal closes it for its originators, but its needs
    # now travel with the target and stay open
    merged = give_feedback(world, merged)
    assert merged.closed_for_originators is True
    assert world.app.get_need(moved).status == "proposed"
    target = world.act(target, "decide", decision="rejected", reason="r",
                       deferred_to_fiscal_year=None)
    give_feedback(world, target)
    assert {world.app.get_need(n).status for n in (own, moved)} == {"closed"}


def test_withdrawing_the_target_returns_absorbed_needs_too(world: World) -> None:
    source = world.proposal_in("submitted")
    target = world.proposal_in("submitted")
    world.act(source, "merge", into=target.id, reason="r")
    world.act(target, "withdraw", reason="r", return_needs=True)
    for need_id in (*source.needs, *target.needs):
        assert world.app.get_need(need_id).status == "triaged"


@pytest.mark.parametrize("status", sorted(AFTER_DECISION - FINAL))
def test_feedback_before_a_final_status_keeps_proposal_and_needs_open(
    world: World, status: str
) -> None:
    proposal = world.proposal_in(status)
    after = give_feedback(world, proposal)
    assert after.closed_for_originators is False
    assert after.feedback[-1]["follows_final"] is False
    assert world.app.get_need(proposal.needs[0]).status == "proposed"


@pytest.mark.parametrize("status", sorted(FINAL - {"merged"}))
def test_feedback_after_a_final_status_closes_proposal_and_needs(
    world: World, status: str
) -> None:
    proposal = world.proposal_in(status)
    after = give_feedback(world, proposal)
    assert after.closed_for_originators is True
    assert after.feedback[-1]["follows_final"] is True
    need = world.app.get_need(proposal.needs[0])
    assert (need.status, need.closed_at) == ("closed", after.effective_at)


def test_feedback_before_completion_then_after_it_closes_only_the_second_time(
    world: World,
) -> None:
    proposal = give_feedback(world, world.proposal_in("in_progress"))
    (need_id,) = proposal.needs
    proposal = world.act(proposal, "complete", summary="完了")
    assert world.app.get_need(need_id).status == "proposed"
    proposal = give_feedback(world, proposal)
    assert proposal.closed_for_originators is True
    assert world.app.get_need(need_id).status == "closed"
    assert len(proposal.feedback) == 2


# ── references, effective_at and versions ─────────────────────────────────


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("ward", "no-such-ward", "ward"),
    ("lead_department", "no-such-division", "department"),
    ("co_departments", [CO, "no-such-division"], "department"),
    ("policy_area", "no-such-area", "policy_area"),
    ("plan_goals", ["9-9-9"], "plan_goal"),
])
def test_creating_proposal_with_unknown_reference_is_refused(
    world: World, field: str, value: object, kind: str
) -> None:
    need = world.triaged_need()
    position = world.app.position()
    with pytest.raises(UnknownReference) as refused:
        world.app.create_proposal(world.actors.admin,
                                  world.proposal_fields(needs=[need.id], **{field: value}))
    assert refused.value.kind == kind
    assert world.app.position() == position
    assert world.app.get_need(need.id).status == "triaged"


def test_amending_draft_with_unknown_department_is_refused(world: World) -> None:
    proposal = world.proposal_in("draft")
    with pytest.raises(UnknownReference):
        world.act(proposal, "amend", changes={"lead_department": "no-such-division"})
    assert world.app.get_proposal(proposal.id).lead_department == LEAD


def test_proposal_action_effective_in_the_future_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(EffectiveAtInFuture):
        world.act(proposal, "acknowledge", note=None,
                  effective_at=world.clock.now + timedelta(seconds=1))
    assert world.app.get_proposal(proposal.id).status == "submitted"


def test_creating_proposal_effective_in_the_future_is_refused(world: World) -> None:
    need = world.triaged_need()
    with pytest.raises(EffectiveAtInFuture):
        world.draft_proposal(needs=[need.id], effective_at=world.clock.now + timedelta(hours=1))
    assert world.app.get_need(need.id).status == "triaged"


def test_proposal_action_effective_before_previous_event_is_refused(world: World) -> None:
    proposal = world.proposal_in("submitted")
    with pytest.raises(EffectiveAtBeforePrevious):
        world.act(proposal, "acknowledge", note=None,
                  effective_at=proposal.effective_at - timedelta(seconds=1))
    assert world.app.get_proposal(proposal.id).version == proposal.version


def test_proposal_dated_before_its_needs_triage_is_refused(world: World) -> None:
    need = world.triaged_need()
    with pytest.raises(EffectiveAtBeforePrevious):
        world.draft_proposal(needs=[need.id], effective_at=need.effective_at - timedelta(days=1))
    assert world.app.get_need(need.id).status == "triaged"


def test_stale_expected_version_is_refused_and_changes_nothing(world: World) -> None:
    proposal = world.proposal_in("submitted")
    world.act(proposal, "comment", body="先に誰かが書いた")
    with pytest.raises(VersionMismatch):
        world.app.act_on_proposal(world.actors.transport_reviewer, proposal.id, "acknowledge",
                                  expected_version=proposal.version, note=None)
    assert world.app.get_proposal(proposal.id).status == "submitted"


def test_current_expected_version_is_accepted(world: World) -> None:
    proposal = world.proposal_in("submitted")
    after = world.app.act_on_proposal(world.actors.transport_reviewer, proposal.id,
                                      "acknowledge", expected_version=proposal.version,
                                      note=None).aggregate
    assert (after.status, after.version) == ("acknowledged", proposal.version + 1)


def test_creation_and_needs_are_written_in_one_go(world: World) -> None:
    needs = [world.triaged_need().id for _ in range(2)]
    before = world.app.position()
    outcome = world.app.create_proposal(world.actors.ward_staff,
                                        world.proposal_fields(needs=needs))
    # one ProposalDrafted and one NeedProposed per need, saved together
    assert world.app.position() == before + 3
    assert outcome.position == world.app.position()


def test_feedback_delivered_on_is_kept_as_a_date(world: World) -> None:
    proposal = world.proposal_in("rejected")
    world.act(proposal, "feedback", message="m", channel="web", delivered_on=date(2026, 6, 3))
    assert world.app.get_proposal(proposal.id).feedback[-1]["delivered_on"] == date(2026, 6, 3)


def test_feedback_may_follow_a_deferral_taken_up_again(world: World) -> None:
    # Deferred (a decision), then taken up again: the ward can still be told where it stands.
    proposal = world.act(world.proposal_in("deferred"), "start-review")
    assert proposal.status == "under_review"
    told = world.act(proposal, "feedback", **world.proposal_body("feedback"))
    assert len(told.feedback) == 1 and told.status == "under_review"
    assert not told.closed_for_originators


def test_feedback_before_any_decision_is_refused(world: World) -> None:
    proposal = world.act(world.proposal_in("submitted"), "start-review")
    with pytest.raises(ActionNotAllowed) as refused:
        world.act(proposal, "feedback", **world.proposal_body("feedback"))
    assert "feedback" not in refused.value.allowed_actions
