"""Reference ids must not only exist but fit together."""

from __future__ import annotations

import pytest

from domain.errors import InvalidCommand
from tests.unit.conftest import CO, LEAD, World


def test_a_need_cannot_name_a_school_district_of_another_ward(world: World) -> None:
    with pytest.raises(InvalidCommand) as refused:
        world.record_need(school_district="chuo-keitoku")
    assert refused.value.field == "school_district"
    assert world.record_need(school_district="higashi-sakuragi").school_district \
        == "higashi-sakuragi"


def test_amending_a_need_checks_the_school_district_against_its_ward(world: World) -> None:
    need = world.record_need()
    with pytest.raises(InvalidCommand):
        world.act_on_need(need, "amend", changes={"school_district": "chuo-keitoku"})
    assert world.app.get_need(need.id).version == need.version


def test_the_lead_division_cannot_also_be_a_co_division(world: World) -> None:
    with pytest.raises(InvalidCommand) as refused:
        world.draft_proposal(co_departments=[LEAD, CO])
    assert refused.value.field == "co_departments"


def test_amending_a_draft_cannot_make_a_co_division_the_lead_while_it_stays_co(
        world: World) -> None:
    draft = world.draft_proposal()
    with pytest.raises(InvalidCommand):
        world.act(draft, "amend", changes={"lead_department": CO})
    amended = world.act(draft, "amend", changes={"lead_department": CO,
                                                 "co_departments": [LEAD]})
    assert (amended.lead_department, amended.co_departments) == (CO, [LEAD])
