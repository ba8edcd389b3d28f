"""Dates of things that already happened (heard, told) cannot lie in the future."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.calendar import date_jst
from domain.errors import InvalidCommand
from tests.unit.conftest import World


def test_a_need_heard_tomorrow_is_refused_and_nothing_is_written(world: World) -> None:
    tomorrow = date_jst(world.clock.now) + timedelta(days=1)
    before = world.app.position()
    with pytest.raises(InvalidCommand) as refused:
        world.record_need(observed_on=tomorrow)
    assert (refused.value.field, refused.value.reason) == ("observed_on", "future_date")
    assert world.app.position() == before


def test_a_need_heard_today_is_accepted(world: World) -> None:
    assert world.record_need(observed_on=date_jst(world.clock.now)).observed_on == \
        date_jst(world.clock.now)


def test_amending_a_need_into_the_future_is_refused(world: World) -> None:
    need = world.record_need()
    tomorrow = date_jst(world.clock.now) + timedelta(days=1)
    with pytest.raises(InvalidCommand) as refused:
        world.act_on_need(need, "amend", changes={"observed_on": tomorrow})
    assert refused.value.reason == "future_date"


def test_feedback_delivered_tomorrow_is_refused_on_needs_and_proposals(world: World) -> None:
    tomorrow = date_jst(world.clock.now) + timedelta(days=1)
    declined = world.need_in("declined")
    with pytest.raises(InvalidCommand) as on_need:
        world.act_on_need(declined, "feedback", message="見送りました", channel="letter",
                          delivered_on=tomorrow)
    assert on_need.value.field == "delivered_on"
    rejected = world.proposal_in("rejected")
    with pytest.raises(InvalidCommand) as on_proposal:
        world.act(rejected, "feedback", message="不採択でした", channel="letter",
                  delivered_on=tomorrow)
    assert on_proposal.value.field == "delivered_on"
    assert world.app.get_proposal(rejected.id).feedback == []
