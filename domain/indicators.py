"""Indicators of the comprehensive plan (成果指標), declared in the city's data file.

An indicator names what it measures, its unit, which direction is better, the plan
goals it measures and where it is measured (per ward, per school district or city-wide).
A value fits the unit or is refused: that check lives here, once, for evaluations and
observations alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import InvalidCommand


class Unit(StrEnum):
    """What an indicator's value is; each unit admits one kind and range of number."""

    PERCENT = "percent"  # 0–100, decimals allowed
    COUNT = "count"  # a whole number ≥ 0
    PER_1000_RESIDENTS = "per_1000_residents"  # a number ≥ 0, decimals allowed
    SCORE_1_5 = "score_1_5"  # 1–5, decimals allowed (a mean of 1–5 answers)
    YEN = "yen"  # a whole number of yen ≥ 0


class Direction(StrEnum):
    """Which way is better."""

    HIGHER = "higher"
    LOWER = "lower"


class Scope(StrEnum):
    """Where an indicator is measured: observations name a ward, a school district or neither."""

    WARD = "ward"
    SCHOOL_DISTRICT = "school_district"
    CITY = "city"


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: the largest value any unit admits (counts and yen), so every view can hold it
VALUE_MAX = 10**13

#: unit → (lowest, highest, whole numbers only)
_RANGES: dict[Unit, tuple[float, float, bool]] = {
    Unit.PERCENT: (0, 100, False),
    Unit.COUNT: (0, VALUE_MAX, True),
    Unit.PER_1000_RESIDENTS: (0, 1000, False),
    Unit.SCORE_1_5: (1, 5, False),
    Unit.YEN: (0, VALUE_MAX, True),
}


@dataclass(frozen=True)
class Indicator:
    """One declared indicator."""

    id: str
    name_ja: str
    name_en: str
    unit: Unit
    direction: Direction
    plan_goals: tuple[str, ...]
    scope: Scope

    def check_value(self, value: Any, field: str) -> float:
        """The value as a number if it fits the unit; `wrong_unit` otherwise."""
        lo, hi, whole = _RANGES[self.unit]
        fits = (not isinstance(value, bool) and isinstance(value, int | float)
                and math.isfinite(value) and lo <= value <= hi
                and (not whole or float(value).is_integer()))
        if not fits:
            raise InvalidCommand(field, "wrong_unit", indicator=self.id, unit=self.unit.value,
                                 min=_shown(lo), max=_shown(hi),
                                 whole="yes" if whole else "no")
        return float(value)


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def build_indicators(raw: Any, plan_goal_ids: set[str],
                     error: type[Exception]) -> tuple[Indicator, ...]:
    """Validate the file's `indicators` list; `error` is the city data's error class."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise error(f"indicators: expected a list, got {type(raw).__name__}")
    keys = {"id", "name_ja", "name_en", "unit", "direction", "plan_goals", "scope"}
    seen: set[str] = set()
    built = []
    for position, item in enumerate(raw):
        where = f"indicators[{position}]"
        if not isinstance(item, Mapping):
            raise error(f"{where}: expected a mapping")
        where = f"{where} (id {item.get('id')!r})"
        missing = sorted(keys - set(item))
        unknown = sorted(str(k) for k in set(item) - keys)
        if missing or unknown:
            raise error(f"{where}: {'missing' if missing else 'unknown'} key"
                        f" {(missing or unknown)[0]!r}")
        ident = item["id"]
        if not isinstance(ident, str) or not _SLUG.fullmatch(ident) or ident in seen:
            raise error(f"{where}: id must be a new slug (lowercase ascii, digits, hyphens)")
        seen.add(ident)
        for name in ("name_ja", "name_en"):
            if not isinstance(item[name], str) or not item[name].strip():
                raise error(f"{where}: {name} must be a non-empty string")
        goals = item["plan_goals"]
        if not isinstance(goals, list) or not goals:
            raise error(f"{where}: plan_goals must be a non-empty list")
        for goal in goals:
            if goal not in plan_goal_ids:
                raise error(f"{where}: plan goal {goal!r} is not in plan_goals")
        built.append(Indicator(ident, item["name_ja"], item["name_en"],
                               _enum(Unit, item["unit"], where, "unit", error),
                               _enum(Direction, item["direction"], where, "direction", error),
                               tuple(goals), _enum(Scope, item["scope"], where, "scope", error)))
    return tuple(built)


def _enum(enum: type[Any], value: Any, where: str, key: str, error: type[Exception]) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise error(f"{where}: {key} {value!r} is not one of {choices}") from None
