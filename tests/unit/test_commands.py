"""Commands refuse, when they are made, anything an event or a view could not hold;
the HTTP bodies are checked against the same definitions so the two cannot drift."""

from __future__ import annotations

import dataclasses
import math
import typing
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel

from api import needs as need_routes
from api import proposals as proposal_routes
from domain import values
from domain.commands import NEED_COMMANDS, Command, RecordNeed, Reporter
from domain.errors import InvalidCommand
from domain.proposal_commands import PROPOSAL_COMMANDS, DraftProposal

TODAY = date(2026, 11, 20)

#: one valid value per field name, whatever the command
VALID: dict[str, Any] = {
    "ward": "higashi", "office": "higashi-exchange-room-1", "source": "council_meeting",
    "policy_area": "transport", "title": "バス停にベンチがほしい", "description": "桜木校区で要望",
    "observed_on": TODAY, "school_district": "higashi-sakuragi", "residents_affected": 120,
    "urgency": "high", "location": {"lat": 32.79, "lon": 130.74, "address": "東区"},
    "plan_goals": ["6-2-1"], "note": "メモ", "reason": "理由", "into": uuid4(),
    "message": "結果をお伝えしました", "channel": "council_meeting", "delivered_on": TODAY,
    "summary": "概要", "needs": [uuid4()], "lead_department": "transport-planning",
    "co_departments": ["road-maintenance"], "estimated_cost_jpy": 4_800_000,
    "question": "費用は？", "answer": "480万円です", "decision": "deferred",
    "deferred_to_fiscal_year": 2027, "fiscal_year": 2027, "amount_jpy": 4_800_000,
    "outcome": "budgeted", "return_needs": True, "to_department": "parks",
    "satisfaction": 4, "indicators": {"benches": 3}, "body": "本文", "wards": ["higashi"],
}

CREATIONS: dict[str, type[Command]] = {"record": RecordNeed, "create": DraftProposal}
ALL = [(f"need:{a}", c) for a, c in NEED_COMMANDS.items()] + \
      [(f"proposal:{a}", c) for a, c in PROPOSAL_COMMANDS.items()] + \
      [(f"creation:{a}", c) for a, c in CREATIONS.items()]
AMENDS = {"AmendNeed", "AmendProposal"}


def own_fields(cls: type[Command]) -> list[dataclasses.Field[Any]]:
    """The command's fields other than `effective_at` (and the vault's reporter)."""
    return [f for f in dataclasses.fields(cls) if f.name not in ("effective_at", "reporter")]


def valid(cls: type[Command], **changes: Any) -> dict[str, Any]:
    """Keyword fields that make a valid command."""
    if cls.__name__ in AMENDS:
        return {"changes": {"title": "新しい件名"}, **changes}
    return {**{f.name: VALID[f.name] for f in own_fields(cls)}, **changes}


def refused(cls: type[Command], **fields: Any) -> InvalidCommand:
    with pytest.raises(InvalidCommand) as caught:
        cls(**fields)
    return caught.value


def test_every_valid_command_is_accepted() -> None:
    for _, cls in ALL:
        cls(**valid(cls))


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_a_required_field_set_to_null_is_refused_naming_it(name: str,
                                                            cls: type[Command]) -> None:
    for f in own_fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            error = refused(cls, **valid(cls, **{f.name: None}))
            assert (error.field, error.reason) == (f.name, "required"), name


def _text_fields(cls: type[Command]) -> list[str]:
    """Required texts (an optional summary may be left empty)."""
    hints = typing.get_type_hints(cls)
    return [f.name for f in own_fields(cls)
            if hints[f.name] is str and f.default is dataclasses.MISSING]


@pytest.mark.parametrize(("name", "cls"), ALL)
@pytest.mark.parametrize("blank", ["", "   ", "\u3000", "\u200b\u200b", "\ufeff \u2060"])
def test_blank_or_invisible_text_is_refused(name: str, cls: type[Command], blank: str) -> None:
    for field in _text_fields(cls):
        error = refused(cls, **valid(cls, **{field: blank}))
        assert error.field == field and error.reason in ("blank", "required"), name


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_text_over_its_limit_is_refused(name: str, cls: type[Command]) -> None:
    for field in _text_fields(cls):
        error = refused(cls, **valid(cls, **{field: "あ" * (values.TEXT_MAX + 1)}))
        assert error.reason == "too_long", (name, field)


@pytest.mark.parametrize(("name", "cls"), ALL)
@pytest.mark.parametrize("wrong", [True, 1.5, "12", [1], {"a": 1}])
def test_whole_numbers_refuse_other_types(name: str, cls: type[Command], wrong: Any) -> None:
    hints = typing.get_type_hints(cls)
    for f in own_fields(cls):
        if hints[f.name] in (int, int | None):
            error = refused(cls, **valid(cls, **{f.name: wrong}))
            assert (error.field, error.reason) == (f.name, "wrong_type"), name


@pytest.mark.parametrize(("field", "value"), [
    ("residents_affected", -1), ("residents_affected", 10**30),
    ("estimated_cost_jpy", -1), ("estimated_cost_jpy", values.YEN_MAX + 1),
    ("fiscal_year", 1999), ("fiscal_year", 10**12), ("amount_jpy", -5),
    ("satisfaction", 0), ("satisfaction", 6), ("deferred_to_fiscal_year", 2100),
])
def test_numbers_out_of_range_are_refused(field: str, value: int) -> None:
    for _, cls in ALL:
        if field in {f.name for f in own_fields(cls)}:
            error = refused(cls, **valid(cls, **{field: value}))
            assert (error.field, error.reason) == (field, "out_of_range")


@pytest.mark.parametrize("day", [date(1900, 1, 1), date(1999, 12, 31), date(2100, 1, 1),
                                 date(9999, 12, 31)])
def test_dates_outside_the_calendars_years_are_refused(day: date) -> None:
    for _, cls in ALL:
        for f in own_fields(cls):
            if f.name in ("observed_on", "delivered_on"):
                error = refused(cls, **valid(cls, **{f.name: day}))
                assert error.reason == "date_out_of_range"


@pytest.mark.parametrize("wrong", [1764000000, "2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)])
def test_a_date_must_be_a_date(wrong: Any) -> None:
    assert refused(RecordNeed, **valid(RecordNeed, observed_on=wrong)).reason == "wrong_type"


@pytest.mark.parametrize("wrong", [1764000000, "2026-11-20T10:00:00+09:00",
                                   datetime(2026, 11, 20, 10, 0), datetime(1900, 1, 1, tzinfo=UTC)])
def test_effective_at_must_be_an_instant_with_an_offset_in_known_years(wrong: Any) -> None:
    assert refused(RecordNeed, **valid(RecordNeed), effective_at=wrong).field == "effective_at"


@pytest.mark.parametrize("choice", ["source", "urgency", "channel", "decision", "outcome"])
def test_enumerations_refuse_unknown_values(choice: str) -> None:
    for _, cls in ALL:
        if choice in {f.name for f in own_fields(cls)}:
            error = refused(cls, **valid(cls, **{choice: "whatever"}))
            assert (error.field, error.reason) == (choice, "choice")
            assert VALID[choice] in error.params["choices"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 91, "north", True])
def test_locations_hold_finite_coordinates_only(bad: Any) -> None:
    error = refused(RecordNeed, **valid(RecordNeed, location={"lat": bad}))
    assert error.field == "location.lat"


def test_indicator_values_are_finite_and_their_count_bounded() -> None:
    evaluate = PROPOSAL_COMMANDS["evaluate"]
    assert refused(evaluate, **valid(evaluate, indicators={"x": math.nan})).reason == \
        "not_finite"
    many = {f"k{i}": i for i in range(values.LIST_MAX + 1)}
    assert refused(evaluate, **valid(evaluate, indicators=many)).reason == "too_many"


def test_lists_are_bounded_and_deduplicated() -> None:
    assert refused(RecordNeed, **valid(RecordNeed, plan_goals=["g"] * 60_000)).reason == \
        "too_many"
    assert RecordNeed(**valid(RecordNeed, plan_goals=["a", "b", "a"])).plan_goals == ("a", "b")
    assert refused(RecordNeed, **valid(RecordNeed, plan_goals="6-2-1")).reason == "wrong_type"


def test_amend_refuses_nothing_to_change_and_fields_it_cannot_change() -> None:
    amend = NEED_COMMANDS["amend"]
    assert refused(amend, changes={}).reason == "nothing_to_amend"
    assert refused(amend, changes={"ward": "chuo"}).reason == "not_amendable"
    assert refused(amend, changes={"title": None}).reason == "required"
    assert amend(changes={"school_district": None}).changes == {"school_district": None}


def test_a_deferral_names_its_year_and_other_decisions_drop_it() -> None:
    decide = PROPOSAL_COMMANDS["decide"]
    assert refused(decide, decision="deferred", reason="r").field == "deferred_to_fiscal_year"
    assert decide(decision="accepted", reason="r", deferred_to_fiscal_year=2027) \
        .deferred_to_fiscal_year is None


def test_a_reporter_keeps_only_what_was_given() -> None:
    assert Reporter(name="山田", contact="  ").as_dict() == {"name": "山田"}


# ── the HTTP bodies against the commands ──────────────────────────────────



def _http_models() -> list[tuple[str, type[BaseModel], type[Command]]]:
    pairs: list[tuple[str, type[BaseModel], type[Command]]] = [
        ("record", need_routes.NeedIn, RecordNeed),
        ("create", proposal_routes.ProposalIn, DraftProposal),
    ]
    for route in need_routes.router.routes + proposal_routes.router.routes:
        body = getattr(route, "body_field", None)
        path = getattr(route, "path", "")
        if body is None or path.count("/") < 3:
            continue
        action = path.rsplit("/", 1)[1]
        table = NEED_COMMANDS if path.startswith("/needs") else PROPOSAL_COMMANDS
        model = _model_of(body.field_info.annotation)
        pairs.append((action, model, table[action]))
    return pairs


def _model_of(annotation: Any) -> type[BaseModel]:
    for arg in (annotation, *typing.get_args(annotation)):
        for inner in (arg, *typing.get_args(arg)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    raise AssertionError(annotation)


def test_every_action_route_has_a_domain_command() -> None:
    actions = {a for a, _, _ in _http_models()}
    assert set(NEED_COMMANDS) | set(PROPOSAL_COMMANDS) | set(CREATIONS) <= actions


@pytest.mark.parametrize(("action", "model", "cls"), _http_models(),
                         ids=lambda x: x if isinstance(x, str) else getattr(x, "__name__", ""))
def test_http_body_and_domain_command_name_the_same_fields(action: str, model: type[BaseModel],
                                                           cls: type[Command]) -> None:
    body = {n for n in model.model_fields if n != "effective_at"}
    if cls.__name__ in AMENDS:
        amendable = (need_routes.AmendIn if "Need" in cls.__name__ else
                     proposal_routes.AmendIn).model_fields
        assert body == set(amendable) - {"effective_at"}
        return
    command = {f.name for f in dataclasses.fields(cls) if f.name != "effective_at"}
    assert body == command
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "effective_at":
            continue
        required_in_domain = f.default is dataclasses.MISSING and \
            f.default_factory is dataclasses.MISSING
        assert model.model_fields[f.name].is_required() == required_in_domain, f.name
        enums = [t for t in (hints[f.name], *typing.get_args(hints[f.name]))
                 if isinstance(t, type) and issubclass(t, StrEnum)]
        if enums:
            annotation = model.model_fields[f.name].annotation
            assert enums[0] in (annotation, *typing.get_args(annotation)), f.name
