"""The need's state machine and rules, as api.md states them (section "Needs").

The table below is copied from api.md by hand, not imported from `domain.states`,
so that a drift between the contract and the code fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import (
    ActionNotAllowed,
    EffectiveAtBeforePrevious,
    EffectiveAtInFuture,
    InvalidCommand,
    MergeTargetInvalid,
    NeedNotFound,
    OfficeNotInWard,
    UnknownReference,
    VersionMismatch,
)
from domain.need import Need
from domain.states import NeedStatus
from tests.unit.conftest import OTHER_WARD, OTHER_WARD_OFFICE, World

NEED_STATUSES = tuple(s.value for s in NeedStatus)

#: api.md, Needs: action → (from statuses, to status; None = unchanged)
NEED_TABLE: dict[str, tuple[frozenset[str], str | None]] = {
    "triage": (frozenset({"recorded"}), "triaged"),
    "resolve-locally": (frozenset({"recorded", "triaged"}), "resolved_locally"),
    "decline": (frozenset({"recorded", "triaged"}), "declined"),
    "merge": (frozenset({"recorded", "triaged"}), "merged"),
    "feedback": (frozenset({"resolved_locally", "declined", "merged"}), "closed"),
    "amend": (frozenset({"recorded", "triaged"}), None),
}

ALLOWED = [(a, s) for a, (src, _) in NEED_TABLE.items() for s in NEED_STATUSES if s in src]
REFUSED = [(a, s) for a, (src, _) in NEED_TABLE.items() for s in NEED_STATUSES if s not in src]


def expected_allowed_actions(status: str) -> set[str]:
    """The public actions api.md allows from `status`."""
    return {a for a, (src, _) in NEED_TABLE.items() if status in src}


# ── the table, cell by cell ────────────────────────────────────────────────


@pytest.mark.parametrize(("action", "status"), ALLOWED)
def test_need_action_from_allowed_status_moves_to_table_status(
    world: World, action: str, status: str
) -> None:
    need = world.need_in(status)
    after = world.act_on_need(need, action, **world.need_body(action))
    target = NEED_TABLE[action][1]
    assert after.status == (status if target is None else target)
    assert after.version == need.version + 1
    assert world.app.get_need(need.id).status == after.status


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_need_action_from_other_status_is_refused_naming_status_and_allowed_actions(
    world: World, action: str, status: str
) -> None:
    need = world.need_in(status)
    with pytest.raises(ActionNotAllowed) as refused:
        world.act_on_need(need, action, **world.need_body(action))
    assert refused.value.current_status == status
    assert set(refused.value.allowed_actions) == expected_allowed_actions(status)
    assert refused.value.params["status"] == status
    assert refused.value.params["action"] == action
    unchanged = world.app.get_need(need.id)
    assert (unchanged.status, unchanged.version) == (status, need.version)


@pytest.mark.parametrize("status", NEED_STATUSES)
def test_need_allowed_actions_match_api_table(world: World, status: str) -> None:
    assert set(world.need_in(status).allowed_actions()) == expected_allowed_actions(status)


# ── what each action records ───────────────────────────────────────────────


def test_recorded_need_starts_recorded_with_defaults_and_effective_at(world: World) -> None:
    at = world.clock.now - timedelta(days=3)
    need = world.record_need(effective_at=at)
    assert need.status == "recorded"
    assert need.version == 1
    assert (need.urgency, need.school_district, need.plan_goals) == ("normal", None, [])
    assert need.effective_at == at
    assert need.proposal is None and need.merged_into is None


def test_triage_may_reclassify_policy_area_and_urgency(world: World) -> None:
    need = world.record_need()
    after = world.act_on_need(need, "triage", policy_area="roads-parks", urgency="urgent",
                              note="至急")
    assert (after.policy_area, after.urgency, after.note) == ("roads-parks", "urgent", "至急")


def test_triage_without_reclassification_keeps_policy_area_and_urgency(world: World) -> None:
    need = world.record_need(urgency="low")
    after = world.act_on_need(need, "triage", policy_area=None, urgency=None, note=None)
    assert (after.policy_area, after.urgency) == ("transport", "low")


def test_amend_changes_fields_and_is_an_event_without_changing_status(world: World) -> None:
    need = world.record_need()
    after = world.act_on_need(need, "amend", changes={
        "title": "ベンチと屋根", "observed_on": date(2026, 4, 1), "plan_goals": ["6-2-1"]})
    assert (after.title, after.observed_on, after.plan_goals) == (
        "ベンチと屋根", date(2026, 4, 1), ["6-2-1"])
    assert after.status == "recorded"
    assert [h.type for h in world.app.history(need.id)] == ["NeedRecorded", "NeedAmended"]


@pytest.mark.parametrize("field", ["status", "ward", "proposal", "closed_at"])
def test_amend_refuses_fields_that_are_not_amendable(world: World, field: str) -> None:
    # Regression (fixed in 2dea30b): `changes` used to be applied with setattr for any
    # name, so `amend` could close the need or move it to another ward, bypassing the
    # state machine. Only the fields of need.AMENDABLE may be amended.
    need = world.record_need()
    value = {"status": "closed", "ward": OTHER_WARD, "proposal": need.id,
             "closed_at": need.effective_at}[field]
    with pytest.raises(InvalidCommand):
        world.act_on_need(need, "amend", changes={field: value})
    unchanged = world.app.get_need(need.id)
    assert (unchanged.version, unchanged.status, unchanged.ward) == (1, "recorded", "higashi")


def test_amend_with_unknown_policy_area_is_refused(world: World) -> None:
    need = world.record_need()
    with pytest.raises(UnknownReference) as refused:
        world.act_on_need(need, "amend", changes={"policy_area": "no-such-area"})
    assert refused.value.kind == "policy_area"
    assert world.app.get_need(need.id).version == need.version


def test_triage_with_unknown_policy_area_is_refused(world: World) -> None:
    need = world.record_need()
    with pytest.raises(UnknownReference):
        world.act_on_need(need, "triage", policy_area="no-such-area", urgency=None, note=None)
    assert world.app.get_need(need.id).status == "recorded"


def test_decline_keeps_its_reason(world: World) -> None:
    after = world.act_on_need(world.record_need(), "decline", reason="市の事業ではない")
    assert after.status == "declined" and after.note == "市の事業ではない"


def test_merge_points_to_the_need_kept(world: World) -> None:
    kept = world.record_need(title="同じ要望")
    after = world.act_on_need(world.record_need(), "merge", into=kept.id)
    assert after.merged_into == kept.id
    assert world.app.get_need(kept.id).status == "recorded"  # the kept need is untouched


def test_merge_into_itself_is_refused(world: World) -> None:
    need = world.record_need()
    with pytest.raises(MergeTargetInvalid):
        world.act_on_need(need, "merge", into=need.id)


@pytest.mark.parametrize("target_status", ["merged", "closed"])
def test_merge_into_merged_or_closed_need_is_refused(world: World, target_status: str) -> None:
    target = world.need_in(target_status)
    need = world.record_need()
    with pytest.raises(MergeTargetInvalid):
        world.act_on_need(need, "merge", into=target.id)
    assert world.app.get_need(need.id).version == need.version


def test_merge_into_need_of_another_ward_is_refused(world: World) -> None:
    elsewhere = world.app.record_need(
        world.actors.admin, world.need_fields(ward=OTHER_WARD, office=OTHER_WARD_OFFICE)
    ).aggregate
    need = world.record_need()
    with pytest.raises(MergeTargetInvalid):
        world.act_on_need(need, "merge", into=elsewhere.id)
    assert world.app.get_need(need.id).status == "recorded"


def test_merge_into_unknown_need_is_refused(world: World) -> None:
    need = world.record_need()
    with pytest.raises(NeedNotFound):
        world.act_on_need(need, "merge", into=Need.create_id())


def test_feedback_closes_the_need_and_keeps_the_message(world: World) -> None:
    need = world.need_in("resolved_locally")
    at = world.clock.now
    after = world.act_on_need(need, "feedback", message="対応しました", channel="letter",
                              delivered_on=date(2026, 6, 2))
    assert after.status == "closed"
    assert after.closed_at == at
    assert after.feedback == [{"message": "対応しました", "channel": "letter",
                               "delivered_on": date(2026, 6, 2), "effective_at": at}]


def test_unknown_need_is_not_found(world: World) -> None:
    with pytest.raises(NeedNotFound):
        world.act_on_need(Need.create_id(), "triage", **world.need_body("triage"))


# ── personal data ─────────────────────────────────────────────────────────


def test_reporter_goes_to_the_vault_and_only_a_reference_into_the_event(world: World) -> None:
    need = world.record_need(reporter={"name": "山田花子", "contact": "096-000-0000"})
    assert need.reporter_ref is not None
    assert world.vault.data[need.reporter_ref] == {"name": "山田花子",
                                                   "contact": "096-000-0000"}
    for entry in world.app.history(need.id):
        assert "山田花子" not in repr(entry.data)


def test_erasing_personal_data_empties_the_vault_but_keeps_need_and_history(
    world: World,
) -> None:
    need = world.record_need(reporter={"name": "山田花子"})
    ref = need.reporter_ref
    assert ref is not None
    after = world.app.erase_personal_data(world.actors.ward_staff, need.id).aggregate
    assert ref not in world.vault.data
    assert after.reporter_ref is None
    assert after.status == "recorded" and after.title == need.title
    assert after.effective_at == need.effective_at  # erasure does not move the timeline
    assert [h.type for h in world.app.history(need.id)] == ["NeedRecorded",
                                                          "NeedPersonalDataErased"]
    assert world.app.read_personal_data(world.actors.ward_staff, after) is None


def test_erasing_personal_data_twice_writes_one_event(world: World) -> None:
    need = world.record_need(reporter={"name": "山田花子"})
    world.app.erase_personal_data(world.actors.ward_staff, need.id)
    again = world.app.erase_personal_data(world.actors.ward_staff, need.id)
    assert again.aggregate.version == 2
    assert [h.type for h in world.app.history(need.id)].count("NeedPersonalDataErased") == 1


def test_erasing_when_no_reporter_was_given_writes_nothing(world: World) -> None:
    need = world.record_need()
    world.app.erase_personal_data(world.actors.ward_staff, need.id)
    assert world.app.get_need(need.id).version == need.version


# ── references ────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("ward", "no-such-ward", "ward"),
    ("office", "no-such-office", "office"),
    ("policy_area", "no-such-area", "policy_area"),
    ("school_district", "no-such-district", "school_district"),
    ("plan_goals", ["9-9-9"], "plan_goal"),
])
def test_recording_need_with_unknown_reference_is_refused(
    world: World, field: str, value: object, kind: str
) -> None:
    with pytest.raises(UnknownReference) as refused:
        world.app.record_need(world.actors.admin, world.need_fields(**{field: value}))
    assert refused.value.kind == kind
    assert refused.value.field == field
    assert world.app.position() == 0


def test_recording_need_at_office_of_another_ward_is_refused(world: World) -> None:
    with pytest.raises(OfficeNotInWard):
        world.app.record_need(world.actors.admin, world.need_fields(office=OTHER_WARD_OFFICE))
    assert world.app.position() == 0


def test_recording_need_at_office_of_its_own_ward_elsewhere_succeeds(world: World) -> None:
    need = world.app.record_need(
        world.actors.admin, world.need_fields(ward=OTHER_WARD, office=OTHER_WARD_OFFICE)
    ).aggregate
    assert need.ward == OTHER_WARD


# ── effective_at and versions ─────────────────────────────────────────────


def test_recording_need_effective_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(EffectiveAtInFuture):
        world.record_need(effective_at=world.clock.now + timedelta(seconds=1))
    assert world.app.position() == 0


def test_need_action_effective_in_the_future_is_refused(world: World) -> None:
    need = world.record_need()
    with pytest.raises(EffectiveAtInFuture):
        world.act_on_need(need, "triage", effective_at=world.clock.now + timedelta(minutes=1),
                          **world.need_body("triage"))
    assert world.app.get_need(need.id).version == need.version


def test_effective_at_before_the_year_2000_is_refused(world: World) -> None:
    with pytest.raises(InvalidCommand) as refused:
        world.record_need(effective_at=datetime(1999, 12, 31, tzinfo=UTC))
    assert refused.value.field == "effective_at"
    assert world.app.position() == 0


def test_need_action_effective_before_previous_event_is_refused(world: World) -> None:
    at = world.clock.now - timedelta(days=2)
    need = world.record_need(effective_at=at)
    with pytest.raises(EffectiveAtBeforePrevious):
        world.act_on_need(need, "triage", effective_at=at - timedelta(seconds=1),
                          **world.need_body("triage"))
    assert world.app.get_need(need.id).version == need.version


def test_need_action_effective_at_same_instant_as_previous_is_accepted(world: World) -> None:
    at = world.clock.now - timedelta(days=2)
    need = world.record_need(effective_at=at)
    after = world.act_on_need(need, "triage", effective_at=at, **world.need_body("triage"))
    assert after.status == "triaged" and after.effective_at == at


def test_need_action_without_effective_at_happens_now(world: World) -> None:
    need = world.record_need(effective_at=world.clock.now - timedelta(days=2))
    world.clock.advance(hours=1)
    after = world.act_on_need(need, "triage", **world.need_body("triage"))
    assert after.effective_at == world.clock.now


def test_back_dated_work_may_be_recorded_after_the_fact(world: World) -> None:
    need = world.record_need(effective_at=world.clock.now - timedelta(days=10))
    at = world.clock.now - timedelta(days=5)
    after = world.act_on_need(need, "triage", effective_at=at, **world.need_body("triage"))
    assert after.effective_at == at
    history = world.app.history(need.id)
    assert history[-1].effective_at == at
    # recorded_at is the library's own (wall-clock) timestamp, kept beside effective_at
    assert history[-1].recorded_at.tzinfo is not None
    assert history[-1].recorded_at != at


def test_stale_expected_version_is_refused_and_changes_nothing(world: World) -> None:
    need = world.record_need()
    world.act_on_need(need, "amend", changes={"title": "修正"})
    with pytest.raises(VersionMismatch):
        world.app.act_on_need(world.actors.ward_staff, need.id, "triage",
                              expected_version=need.version, **world.need_body("triage"))
    assert world.app.get_need(need.id).status == "recorded"


def test_current_expected_version_is_accepted(world: World) -> None:
    need = world.record_need()
    after = world.app.act_on_need(world.actors.ward_staff, need.id, "triage",
                                  expected_version=need.version,
                                  **world.need_body("triage")).aggregate
    assert after.status == "triaged"


def test_each_command_reports_the_log_position_it_wrote(world: World) -> None:
    first = world.app.record_need(world.actors.ward_staff, world.need_fields())
    second = world.app.act_on_need(world.actors.ward_staff, first.aggregate.id, "triage",
                                   **world.need_body("triage"))
    assert second.position == first.position + 1 == world.app.position()
