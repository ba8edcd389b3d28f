"""The Permissions table of api.md, row by row, through the application.

Each row prepares a record in a status where the action is allowed, then every
actor of `conftest.Actors` tries it: the row's actors succeed, all the others are
refused with `NotPermitted` and nothing is written.  The need and proposal belong
to 東区 (`higashi`), were heard at `higashi-exchange-room-1`, and the proposal is led
by `transport-planning` with `road-maintenance` as co-division.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from domain.errors import NotPermitted
from domain.permissions import Actor
from tests.unit.conftest import CO, OTHER_DEPARTMENT, Actors, World

ADMIN = ("admin",)
WARD = ("ward_staff", "ward_mayor")
OFFICE = ("room_staff",)
LEAD = ("transport_reviewer",)
CO_DIVISION = ("road_reviewer",)
REVIEWERS = ("transport_reviewer", "road_reviewer", "parks_reviewer")
ALL_BUT_MONITOR = tuple(k for k in Actors.names() if k != "monitor")

#: prepares what the row acts on (None for creations) and the command's body
Prepare = Callable[[World], tuple[UUID | None, dict[str, Any]]]
#: runs the action as the actor on what `prepare` returned
Run = Callable[[World, Actor, Any, dict[str, Any]], object]


@dataclass(frozen=True)
class Row:
    """One row of the Permissions table: an action and who may take it."""

    action: str
    allowed: tuple[str, ...]
    prepare: Prepare
    run: Run

    def __str__(self) -> str:
        return self.action


def need_row(action: str, allowed: tuple[str, ...], status: str = "recorded") -> Row:
    """A need command, on a need in `status`."""
    def prepare(world: World) -> tuple[UUID, dict[str, Any]]:
        return world.need_in(status).id, world.need_body(action)

    def run(world: World, actor: Actor, need_id: UUID, body: dict[str, Any]) -> object:
        return world.app.act_on_need(actor, need_id, action, **body)

    return Row(f"need {action}", allowed, prepare, run)


def proposal_row(action: str, allowed: tuple[str, ...], status: str) -> Row:
    """A proposal command, on a proposal in `status`."""
    def prepare(world: World) -> tuple[UUID, dict[str, Any]]:
        proposal = world.proposal_in(status)
        if action == "evaluate":
            proposal = world.act(proposal, "feedback", **world.proposal_body("feedback"))
        return proposal.id, world.proposal_body(action)

    def run(world: World, actor: Actor, proposal_id: UUID, body: dict[str, Any]) -> object:
        return world.app.act_on_proposal(actor, proposal_id, action, **body)

    return Row(f"proposal {action}", allowed, prepare, run)


def _nothing(world: World) -> tuple[None, dict[str, Any]]:
    return None, world.need_fields()


def _record_need(world: World, actor: Actor, _: None, fields: dict[str, Any]) -> object:
    return world.app.record_need(actor, fields, reporter={"name": "山田"})


def _need_with_reporter(world: World) -> tuple[UUID, dict[str, Any]]:
    return world.record_need(reporter={"name": "山田"}).id, {}


def _erase(world: World, actor: Actor, need_id: UUID, _: dict[str, Any]) -> object:
    return world.app.erase_personal_data(actor, need_id)


def _triaged_need(world: World) -> tuple[UUID, dict[str, Any]]:
    need_id = world.triaged_need().id
    return need_id, world.proposal_fields(needs=[need_id])


def _create_proposal(world: World, actor: Actor, _: UUID, fields: dict[str, Any]) -> object:
    return world.app.create_proposal(actor, fields)


ROWS = [
    # record a need: exchange_room_staff of that office; ward_staff/ward_mayor of its ward
    Row("record a need", OFFICE + WARD + ADMIN, _nothing, _record_need),
    # amend a need: its office's staff or its ward's staff/mayor
    need_row("amend", OFFICE + WARD + ADMIN),
    # triage, resolve-locally, decline, merge a need; need feedback; erase personal data
    need_row("triage", WARD + ADMIN),
    need_row("resolve-locally", WARD + ADMIN),
    need_row("decline", WARD + ADMIN),
    need_row("merge", WARD + ADMIN),
    need_row("feedback", WARD + ADMIN, status="declined"),
    Row("erase personal data", WARD + ADMIN, _need_with_reporter, _erase),
    # create or amend a draft proposal; withdraw; provide-info: ward_staff/ward_mayor
    Row("create a proposal", WARD + ADMIN, _triaged_need, _create_proposal),
    proposal_row("amend", WARD + ADMIN, "draft"),
    proposal_row("withdraw", WARD + ADMIN, "submitted"),
    proposal_row("provide-info", WARD + ADMIN, "info_requested"),
    # submit: ward_mayor of its ward
    proposal_row("submit", ("ward_mayor", *ADMIN), "draft"),
    # acknowledge … merge: department_reviewer of the lead division
    proposal_row("acknowledge", LEAD + ADMIN, "submitted"),
    proposal_row("start-review", LEAD + ADMIN, "submitted"),
    proposal_row("decide", LEAD + ADMIN, "under_review"),
    proposal_row("request-budget", LEAD + ADMIN, "accepted"),
    proposal_row("record-budget", LEAD + ADMIN, "budget_requested"),
    proposal_row("start-implementation", LEAD + ADMIN, "accepted"),
    proposal_row("complete", LEAD + ADMIN, "in_progress"),
    proposal_row("transfer", LEAD + ADMIN, "submitted"),
    proposal_row("merge", LEAD + ADMIN, "submitted"),
    # request-info: department_reviewer of the lead or a co-division
    proposal_row("request-info", LEAD + CO_DIVISION + ADMIN, "submitted"),
    # feedback, evaluate: lead division's reviewer, or its ward's staff/mayor
    proposal_row("feedback", LEAD + WARD + ADMIN, "rejected"),
    proposal_row("evaluate", LEAD + WARD + ADMIN, "rejected"),
    # comment: any role but monitor
    proposal_row("comment", ALL_BUT_MONITOR, "submitted"),
    # notice: any department_reviewer
    proposal_row("notice", REVIEWERS + ADMIN, "submitted"),
]

CASES = [pytest.param(row, key, id=f"{row.action}-{key}") for row in ROWS for key in Actors.names()]


def test_every_row_allows_admin_and_refuses_monitor() -> None:
    # a cheap guard on the table above: the monitor only reads
    assert all("admin" in row.allowed and "monitor" not in row.allowed for row in ROWS)


@pytest.mark.parametrize(("row", "actor_key"), CASES)
def test_permissions_table_row(world: World, row: Row, actor_key: str) -> None:
    subject, body = row.prepare(world)
    actor = world.actors.get(actor_key)
    position = world.app.position()
    vault_before = dict(world.vault.data)
    if actor_key in row.allowed:
        row.run(world, actor, subject, body)
        assert world.app.position() > position
    else:
        with pytest.raises(NotPermitted):
            row.run(world, actor, subject, body)
        # refused: nothing written, no personal data stored or erased
        assert world.app.position() == position
        assert world.vault.data == vault_before


# ── scope follows the record, not the actor's past ────────────────────────


def test_after_transfer_only_the_new_lead_may_act(world: World) -> None:
    proposal = world.proposal_in("submitted")
    world.act(proposal, "transfer", actor=world.actors.transport_reviewer,
              to_department=OTHER_DEPARTMENT, reason="所管違い")
    with pytest.raises(NotPermitted):
        world.act(proposal, "acknowledge", actor=world.actors.transport_reviewer, note=None)
    after = world.act(proposal, "acknowledge", actor=world.actors.parks_reviewer, note=None)
    assert after.status == "acknowledged"


def test_co_division_transferred_to_lead_is_no_longer_a_co_division(world: World) -> None:
    proposal = world.proposal_in("submitted")
    world.act(proposal, "transfer", to_department=CO, reason="道路の所管")
    # road maintenance now leads; transport planning is neither lead nor co
    with pytest.raises(NotPermitted):
        world.act(proposal, "request-info", actor=world.actors.transport_reviewer, question="?")
    after = world.act(proposal, "decide", actor=world.actors.road_reviewer, decision="accepted",
                      reason="r", deferred_to_fiscal_year=None)
    assert after.status == "accepted"


def test_exchange_room_staff_may_record_only_at_their_own_room(world: World) -> None:
    with pytest.raises(NotPermitted):
        world.app.record_need(world.actors.room_staff,
                              world.need_fields(office="higashi-ward-office"))
    need = world.record_need(world.actors.room_staff)
    assert need.recorded_by == world.actors.room_staff.id


# ── personal data: shown only to the need's office, ward and admins ─────────


@pytest.mark.parametrize("actor_key", Actors.names())
def test_reporter_is_shown_only_to_office_ward_and_admin_and_each_read_is_logged(
    world: World, actor_key: str
) -> None:
    need = world.record_need(reporter={"name": "山田花子"})
    actor = world.actors.get(actor_key)
    shown = world.app.read_personal_data(actor, need)
    if actor_key in OFFICE + WARD + ADMIN:
        assert shown == {"name": "山田花子"}
        assert world.vault.reads == [(need.reporter_ref, actor.id)]
    else:
        assert shown is None
        assert world.vault.reads == []


def test_reading_needs_and_proposals_is_open_across_wards(world: World) -> None:
    # reads take no actor: nothing can refuse another ward or the monitor
    proposal = world.proposal_in("submitted")
    assert world.app.get_proposal(proposal.id).ward == "higashi"
    assert [h.type for h in world.app.history(proposal.id)][:2] == ["ProposalDrafted",
                                                                  "ProposalSubmitted"]
