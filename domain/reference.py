"""City reference data: wards, offices, school districts, divisions, policy areas, plan goals.

Indicators have their own module (`domain/indicators.py`); they are read here with the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.indicators import Indicator, build_indicators

OFFICE_KINDS: tuple[str, ...] = (
    "ward_office",
    "general_branch",
    "branch",
    "exchange_room",
    "community_centre",
)
"""Kinds of place where a need can be heard (see the glossary in domain.md)."""

TARGET_CLOCKS: tuple[str, ...] = ("acknowledgement", "decision", "feedback", "end_to_end")
"""Clock names that carry a per-division target, in business days."""

# Lowercase ASCII words joined by single hyphens: "chuo", "higashi-sakuragi", "6-2-1".
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class CityDataError(Exception):
    """A city data file is missing, malformed or inconsistent; the message names the entry."""


@dataclass(frozen=True)
class Targets:
    """Per-division clock targets in business days."""

    acknowledgement: int = 5
    decision: int = 30
    feedback: int = 10
    end_to_end: int = 60

    def as_dict(self) -> dict[str, int]:
        """The targets as a plain mapping, in clock order."""
        return {name: getattr(self, name) for name in TARGET_CLOCKS}


@dataclass(frozen=True)
class Ward:
    """A ward (区) and its development vision (まちづくりビジョン)."""

    id: str
    name_ja: str
    name_en: str
    vision_ja: str
    vision_en: str


@dataclass(frozen=True)
class Office:
    """A place of intake in a ward: ward office, branch, exchange room or community centre."""

    id: str
    ward: str
    kind: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class SchoolDistrict:
    """An elementary-school district (校区) of a ward."""

    id: str
    ward: str
    name_ja: str
    name_en: str
    #: residents living in the district, where the city's file gives it
    residents: int | None = None


@dataclass(frozen=True)
class Bureau:
    """A head-office bureau (局) grouping divisions."""

    id: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class Department:
    """A head-office division (本庁主務課) that reviews proposals, with its clock targets."""

    id: str
    bureau: str
    name_ja: str
    name_en: str
    targets: Targets = Targets()


@dataclass(frozen=True)
class PolicyArea:
    """A policy area (施策分野) that needs and proposals are filed under."""

    id: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class PlanGoal:
    """A chapter (chapter None) or measure (chapter = its chapter id) of the comprehensive plan."""

    id: str
    name_ja: str
    name_en: str
    chapter: str | None = None


_T = TypeVar("_T")


def _index(items: tuple[Any, ...]) -> dict[str, Any]:
    return {item.id: item for item in items}


@dataclass(frozen=True)
class CityData:
    """All reference data of one city, in file order, with lookups by id."""

    id: str
    name_ja: str
    name_en: str
    wards: tuple[Ward, ...]
    offices: tuple[Office, ...]
    school_districts: tuple[SchoolDistrict, ...]
    bureaus: tuple[Bureau, ...]
    departments: tuple[Department, ...]
    policy_areas: tuple[PolicyArea, ...]
    plan_goals: tuple[PlanGoal, ...]
    default_targets: Targets = Targets()
    indicators: tuple[Indicator, ...] = ()
    #: where the residents per school district come from (e.g. "demo figures")
    residents_note: str | None = None
    _wards: dict[str, Ward] = field(init=False, repr=False, compare=False)
    _offices: dict[str, Office] = field(init=False, repr=False, compare=False)
    _school_districts: dict[str, SchoolDistrict] = field(init=False, repr=False, compare=False)
    _bureaus: dict[str, Bureau] = field(init=False, repr=False, compare=False)
    _departments: dict[str, Department] = field(init=False, repr=False, compare=False)
    _policy_areas: dict[str, PolicyArea] = field(init=False, repr=False, compare=False)
    _plan_goals: dict[str, PlanGoal] = field(init=False, repr=False, compare=False)
    _indicators: dict[str, Indicator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen, so the lookup tables are set once here, bypassing __setattr__.
        for name in (
            "wards",
            "offices",
            "school_districts",
            "bureaus",
            "departments",
            "policy_areas",
            "plan_goals",
            "indicators",
        ):
            object.__setattr__(self, f"_{name}", _index(getattr(self, name)))

    def ward(self, id: str) -> Ward | None:
        """The ward with this id, or None."""
        return self._wards.get(id)

    def office(self, id: str) -> Office | None:
        """The office with this id, or None."""
        return self._offices.get(id)

    def school_district(self, id: str) -> SchoolDistrict | None:
        """The school district with this id, or None."""
        return self._school_districts.get(id)

    def bureau(self, id: str) -> Bureau | None:
        """The bureau with this id, or None."""
        return self._bureaus.get(id)

    def department(self, id: str) -> Department | None:
        """The head-office division with this id, or None."""
        return self._departments.get(id)

    def policy_area(self, id: str) -> PolicyArea | None:
        """The policy area with this id, or None."""
        return self._policy_areas.get(id)

    def plan_goal(self, id: str) -> PlanGoal | None:
        """The plan chapter or measure with this id, or None."""
        return self._plan_goals.get(id)

    def indicator(self, id: str) -> Indicator | None:
        """The declared indicator with this id, or None."""
        return self._indicators.get(id)

    def measures_of(self, chapter_id: str) -> tuple[PlanGoal, ...]:
        """The measures of a plan chapter, in file order."""
        return tuple(g for g in self.plan_goals if g.chapter == chapter_id)

    def targets_for(self, department_id: str) -> Targets:
        """The division's clock targets; the city's defaults for an unknown division."""
        department = self._departments.get(department_id)
        return department.targets if department is not None else self.default_targets

    def offices_in(self, ward_id: str, kind: str | None = None) -> tuple[Office, ...]:
        """The ward's offices in file order, optionally only those of one kind."""
        return tuple(
            o for o in self.offices if o.ward == ward_id and (kind is None or o.kind == kind)
        )

    def school_districts_in(self, ward_id: str) -> tuple[SchoolDistrict, ...]:
        """The ward's school districts in file order."""
        return tuple(s for s in self.school_districts if s.ward == ward_id)

    def ward_office(self, ward_id: str) -> Office | None:
        """The ward's ward office (there is exactly one per ward), or None for an unknown ward."""
        found = self.offices_in(ward_id, "ward_office")
        return found[0] if found else None


# --- validation -------------------------------------------------------------------------

_TOP_KEYS = (
    "city",
    "wards",
    "offices",
    "school_districts",
    "bureaus",
    "departments",
    "policy_areas",
    "plan_goals",
)
_OPTIONAL_TOP_KEYS = ("indicators",)
_NAMES = ("id", "name_ja", "name_en")


class _Entry:
    """One mapping of the raw data, with its location for error messages."""

    def __init__(
        self, where: str, raw: object, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> None:
        if not isinstance(raw, Mapping):
            raise CityDataError(f"{where}: expected a mapping, got {type(raw).__name__}")
        self.raw: Mapping[str, Any] = raw
        ident = raw.get("id")
        self.where = f"{where} (id {ident!r})" if ident is not None else where
        missing = [key for key in required if key not in raw]
        if missing:
            raise self.error(f"missing key {missing[0]!r}")
        unknown = sorted(str(key) for key in raw if key not in required + optional)
        if unknown:
            raise self.error(f"unknown key {unknown[0]!r}")

    def error(self, message: str) -> CityDataError:
        """An error naming this entry."""
        return CityDataError(f"{self.where}: {message}")

    def text(self, key: str) -> str:
        """A required non-empty string."""
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key} must be a non-empty string, got {value!r}")
        return value

    def slug(self, key: str = "id") -> str:
        """A required slug (lowercase ascii letters, digits, single hyphens)."""
        value = self.raw[key]
        if not isinstance(value, str) or not _SLUG.fullmatch(value):
            raise self.error(
                f"{key} {value!r} is not a slug (lowercase ascii letters, digits, hyphens)"
            )
        return value


def _targets(entry: _Entry, key: str, base: Targets) -> Targets:
    raw = entry.raw.get(key)
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise entry.error(f"{key} must be a mapping of clock to business days")
    values = base.as_dict()
    for clock, days in raw.items():
        if clock not in TARGET_CLOCKS:
            raise entry.error(
                f"{key}: unknown clock {clock!r} (expected one of {', '.join(TARGET_CLOCKS)})"
            )
        # bool is an int in Python; `true` in YAML is not a number of days.
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            raise entry.error(f"{key}.{clock} must be a positive integer, got {days!r}")
        values[clock] = days
    return Targets(**values)


def _collection(
    raw: Mapping[str, Any],
    key: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    build: Callable[[_Entry], _T],
) -> tuple[_T, ...]:
    items = raw[key]
    if not isinstance(items, list):
        raise CityDataError(f"{key}: expected a list, got {type(items).__name__}")
    if not items:
        raise CityDataError(f"{key}: must not be empty")
    built: list[_T] = []
    first_at: dict[str, int] = {}
    for position, item in enumerate(items):
        entry = _Entry(f"{key}[{position}]", item, required, optional)
        ident = entry.slug("id")
        if ident in first_at:
            raise entry.error(f"duplicate id (first at {key}[{first_at[ident]}])")
        first_at[ident] = position
        for name in required:
            if name.startswith("name_"):
                entry.text(name)
        built.append(build(entry))
    return tuple(built)


def build_city(raw: Mapping[str, Any]) -> CityData:
    """Validate a parsed city data file and build its CityData; raise CityDataError on a fault."""
    if not isinstance(raw, Mapping):
        raise CityDataError(f"expected a mapping at the top level, got {type(raw).__name__}")
    for key in _TOP_KEYS:
        if key not in raw:
            raise CityDataError(f"missing key {key!r}")
    unknown = sorted(str(key) for key in raw if key not in _TOP_KEYS + _OPTIONAL_TOP_KEYS)
    if unknown:
        raise CityDataError(f"unknown key {unknown[0]!r}")

    city = _Entry("city", raw["city"], _NAMES, ("default_targets", "residents_note"))
    city_id = city.slug("id")
    defaults = _targets(city, "default_targets", Targets())

    wards = _collection(
        raw,
        "wards",
        (*_NAMES, "vision_ja", "vision_en"),
        (),
        lambda e: Ward(
            e.slug(), e.text("name_ja"), e.text("name_en"), e.text("vision_ja"), e.text("vision_en")
        ),
    )
    ward_ids = {w.id for w in wards}

    def ward_of(entry: _Entry) -> str:
        ward = entry.raw["ward"]
        if not isinstance(ward, str) or ward not in ward_ids:
            raise entry.error(f"ward {ward!r} is not a ward of this city")
        return ward

    ward_office_at: dict[str, str] = {}

    def office(entry: _Entry) -> Office:
        ward = ward_of(entry)
        kind = entry.raw["kind"]
        if not isinstance(kind, str) or kind not in OFFICE_KINDS:
            raise entry.error(f"kind {kind!r} is not one of {', '.join(OFFICE_KINDS)}")
        if kind == "ward_office":
            if ward in ward_office_at:
                raise entry.error(
                    f"ward {ward!r} already has a ward_office ({ward_office_at[ward]})"
                )
            ward_office_at[ward] = entry.where
        return Office(entry.slug(), ward, kind, entry.text("name_ja"), entry.text("name_en"))

    offices = _collection(raw, "offices", (*_NAMES, "ward", "kind"), (), office)
    for position, ward in enumerate(wards):
        if ward.id not in ward_office_at:
            raise CityDataError(
                f"wards[{position}] (id {ward.id!r}): has no office of kind ward_office"
            )

    def residents(entry: _Entry) -> int | None:
        value = entry.raw.get("residents")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):
            raise entry.error(f"residents must be a positive integer, got {value!r}")
        return value

    school_districts = _collection(
        raw,
        "school_districts",
        (*_NAMES, "ward"),
        ("residents",),
        lambda e: SchoolDistrict(e.slug(), ward_of(e), e.text("name_ja"), e.text("name_en"),
                                 residents(e)),
    )
    bureaus = _collection(
        raw, "bureaus", _NAMES, (), lambda e: Bureau(e.slug(), e.text("name_ja"), e.text("name_en"))
    )
    bureau_ids = {b.id for b in bureaus}

    def department(entry: _Entry) -> Department:
        bureau = entry.raw["bureau"]
        if not isinstance(bureau, str) or bureau not in bureau_ids:
            raise entry.error(f"bureau {bureau!r} is not a bureau of this city")
        return Department(
            entry.slug(),
            bureau,
            entry.text("name_ja"),
            entry.text("name_en"),
            _targets(entry, "targets", defaults),
        )

    departments = _collection(raw, "departments", (*_NAMES, "bureau"), ("targets",), department)
    policy_areas = _collection(
        raw,
        "policy_areas",
        _NAMES,
        (),
        lambda e: PolicyArea(e.slug(), e.text("name_ja"), e.text("name_en")),
    )

    chapters: set[str] = set()

    def plan_goal(entry: _Entry) -> PlanGoal:
        chapter = entry.raw.get("chapter")
        ident = entry.slug()
        if chapter is None:
            chapters.add(ident)
        elif not isinstance(chapter, str) or chapter not in chapters:
            # Chapters come before their measures, so a forward reference is an error too.
            raise entry.error(f"chapter {chapter!r} is not a chapter listed before this measure")
        return PlanGoal(ident, entry.text("name_ja"), entry.text("name_en"), chapter)

    plan_goals = _collection(raw, "plan_goals", _NAMES, ("chapter",), plan_goal)

    indicators = build_indicators(raw.get("indicators"), {g.id for g in plan_goals},
                                  CityDataError)
    note = city.raw.get("residents_note")
    return CityData(
        id=city_id,
        name_ja=city.text("name_ja"),
        name_en=city.text("name_en"),
        wards=wards,
        offices=offices,
        school_districts=school_districts,
        bureaus=bureaus,
        departments=departments,
        policy_areas=policy_areas,
        plan_goals=plan_goals,
        default_targets=defaults,
        indicators=indicators,
        residents_note=city.text("residents_note") if note is not None else None,
    )
