"""Indicators are declared in the city file; evaluations and observations hold only
declared indicators, each value fitting its unit, each observation where its scope says."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from api.indicators import ObservationIn
from api.messages import Messages
from domain.errors import InvalidCommand, NotPermitted, UnknownReference
from domain.indicators import Unit
from domain.observation import RecordObservation
from domain.reference import CityDataError, build_city
from infra.city import load_city_raw
from tests.unit.conftest import World, kumamoto


def with_indicator(**changes: Any) -> dict[str, Any]:
    """Kumamoto's raw data with its first indicator changed."""
    raw = copy.deepcopy(load_city_raw("kumamoto"))
    raw["indicators"][0].update(changes)
    return raw


def test_kumamoto_declares_indicators_with_units_directions_goals_and_scopes() -> None:
    city = kumamoto()
    satisfaction = city.indicator("resident-satisfaction")
    assert satisfaction is not None and satisfaction.unit == Unit.SCORE_1_5
    assert {i.scope.value for i in city.indicators} == {"ward", "school_district", "city"}
    assert {i.direction.value for i in city.indicators} == {"higher", "lower"}
    for indicator in city.indicators:
        assert all(city.plan_goal(g) is not None for g in indicator.plan_goals)


def test_residents_per_school_district_are_labelled_demo_figures() -> None:
    city = kumamoto()
    assert city.residents_note is not None and "デモ" in city.residents_note
    known = [d for d in city.school_districts if d.residents is not None]
    assert 0 < len(known) < len(city.school_districts)  # some are left unknown on purpose


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"unit": "metres"}, "unit 'metres'"),
    ({"direction": "sideways"}, "direction"),
    ({"scope": "prefecture"}, "scope"),
    ({"plan_goals": ["9-9-9"]}, "plan goal '9-9-9'"),
    ({"plan_goals": []}, "plan_goals"),
    ({"id": "満足度"}, "slug"),
    ({"name_en": " "}, "name_en"),
])
def test_a_malformed_indicator_is_refused_naming_it(changes: dict[str, Any],
                                                    complaint: str) -> None:
    with pytest.raises(CityDataError, match="indicators\\[0\\]") as caught:
        build_city(with_indicator(**changes))
    assert complaint in str(caught.value)


def test_a_duplicate_indicator_id_and_a_bad_population_are_refused() -> None:
    raw = with_indicator()
    raw["indicators"].append(dict(raw["indicators"][0]))
    with pytest.raises(CityDataError, match="new slug"):
        build_city(raw)
    raw = with_indicator()
    raw["school_districts"][0]["residents"] = 0
    with pytest.raises(CityDataError, match="residents must be a positive integer"):
        build_city(raw)


@pytest.mark.parametrize(("indicator", "value"), [
    ("answered-within-target", 100.5), ("answered-within-target", -1),
    ("council-meetings-attended", 2.5), ("council-meetings-attended", -3),
    ("resident-satisfaction", 0.9), ("resident-satisfaction", "とても良い"),
    ("needs-heard-per-1000", float("inf")), ("road-repair-backlog", True),
])
def test_a_value_that_does_not_fit_the_unit_is_refused(indicator: str, value: Any) -> None:
    declared = kumamoto().indicator(indicator)
    assert declared is not None
    with pytest.raises(InvalidCommand) as caught:
        declared.check_value(value, "value")
    assert caught.value.reason == "wrong_unit"


def test_wrong_unit_reads_in_japanese_with_the_range() -> None:
    declared = kumamoto().indicator("council-meetings-attended")
    assert declared is not None
    with pytest.raises(InvalidCommand) as caught:
        declared.check_value(2.5, "value")
    text = Messages(kumamoto()).detail(caught.value, "ja")
    assert text == ("「値」は指標の単位（件数）に合いません:"
                    " 0から10000000000000までの数値（整数）で指定してください")


def completed_with_feedback(world: World) -> Any:
    proposal = world.proposal_in("completed")
    return world.act(proposal, "feedback", **world.proposal_body("feedback"))


def test_an_evaluation_takes_declared_indicators_in_their_units(world: World) -> None:
    proposal = completed_with_feedback(world)
    after = world.act(proposal, "evaluate", satisfaction=4, note=None,
                      indicators={"resident-satisfaction": 4.2, "council-meetings-attended": 3})
    assert after.evaluations[-1]["indicators"] == {"resident-satisfaction": 4.2,
                                                   "council-meetings-attended": 3.0}


@pytest.mark.parametrize(("indicators", "error", "field"), [
    ({"回答数": 40}, UnknownReference, "indicators.回答数"),
    ({"resident-satisfaction": 7}, InvalidCommand, "indicators.resident-satisfaction"),
    ({"answered-within-target": "高い"}, InvalidCommand, "indicators.answered-within-target"),
])
def test_an_evaluation_with_an_undeclared_indicator_or_wrong_unit_changes_nothing(
    world: World, indicators: dict[str, Any], error: type[Exception], field: str
) -> None:
    proposal = completed_with_feedback(world)
    with pytest.raises(error) as caught:
        world.act(proposal, "evaluate", satisfaction=4, note=None, indicators=indicators)
    assert isinstance(caught.value, InvalidCommand) and caught.value.field == field
    assert world.app.get_proposal(proposal.id).version == proposal.version


def observe(world: World, actor: str = "monitor", **changes: Any) -> Any:
    fields: dict[str, Any] = {"indicator": "council-meetings-attended", "fiscal_year": 2026,
                              "school_district": "higashi-sakuragi", "value": 11,
                              "source": "自治協議会の議事録", **changes}
    return world.app.record_observation(world.actors.get(actor),
                                        RecordObservation(**fields)).aggregate


def test_a_district_observation_takes_the_district_s_ward(world: World) -> None:
    observation = observe(world)
    assert (observation.ward, observation.school_district) == ("higashi", "higashi-sakuragi")
    assert observation.value == 11.0 and observation.fiscal_year == 2026


@pytest.mark.parametrize(("changes", "reason"), [
    ({"school_district": None, "ward": "higashi"}, "scope_needs_district"),
    ({"indicator": "answered-within-target", "value": 50}, "scope_needs_ward"),
    ({"indicator": "self-governance-participation", "value": 50}, "scope_is_city"),
    ({"ward": "chuo"}, "district_not_in_ward"),
    ({"value": 1.5}, "wrong_unit"),
    ({"fiscal_year": 2027}, "future_fiscal_year"),
])
def test_an_observation_outside_its_scope_unit_or_time_is_refused(
    world: World, changes: dict[str, Any], reason: str
) -> None:
    before = world.app.position()
    with pytest.raises(InvalidCommand) as caught:
        observe(world, **changes)
    assert caught.value.reason == reason
    assert world.app.position() == before


def test_an_unknown_indicator_and_a_non_monitor_are_refused(world: World) -> None:
    with pytest.raises(UnknownReference):
        observe(world, indicator="happiness")
    with pytest.raises(NotPermitted):
        observe(world, actor="ward_staff")
    assert observe(world, actor="admin").recorded_by == world.actors.admin.id


def test_an_observation_may_be_dated_in_the_past_but_not_the_future(world: World) -> None:
    earlier = world.clock() - timedelta(days=30)
    dated = observe(world, effective_at=earlier)
    assert dated.effective_at == earlier
    with pytest.raises(InvalidCommand) as caught:
        observe(world, effective_at=world.clock() + timedelta(hours=1))
    assert caught.value.reason == "future_instant"


def test_the_http_body_of_an_observation_names_the_command_s_fields() -> None:
    own = {f.name for f in dataclasses.fields(RecordObservation)} - {"indicator"}
    assert set(ObservationIn.model_fields) == own  # the indicator comes from the path
