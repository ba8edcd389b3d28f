"""Commands: one small typed object per act, checked by the domain when it is made.

A command refuses anything its events and the views could not hold (a required
field set to null, a blank text, a value out of range, a date the calendar does
not know). What needs the city or the clock — references, "not in the future" —
the application checks through `references()` and `past_days()` before acting.
The HTTP schemas are checked against these classes (tests/unit/test_commands.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from domain import values as v
from domain.errors import InvalidCommand


class Source(StrEnum):
    """Where a need was heard."""

    COUNCIL_MEETING = "council_meeting"
    NEIGHBOURHOOD_ASSOCIATION = "neighbourhood_association"
    COMMUNITY_EVENT = "community_event"
    COUNTER = "counter"
    OUTREACH = "outreach"
    SURVEY = "survey"
    PHONE = "phone"
    OTHER = "other"


class Urgency(StrEnum):
    """How soon a need should be handled (low < normal < high < urgent)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    """How feedback reached the community."""

    COUNCIL_MEETING = "council_meeting"
    NOTICE_BOARD = "notice_board"
    LETTER = "letter"
    WEB = "web"
    VISIT = "visit"
    OTHER = "other"


class Decision(StrEnum):
    """A division's decision on a proposal."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DEFERRED = "deferred"


class BudgetOutcome(StrEnum):
    """Finance's answer to a budget request."""

    BUDGETED = "budgeted"
    NOT_BUDGETED = "not_budgeted"


Ref = tuple[str, str, str]  # (kind of reference data, id, field)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    """Every command may say when the act really happened (default: now)."""

    action: ClassVar[str]
    effective_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.effective_at is not None:
            v.instant(self.effective_at, "effective_at")
        self.check()

    def check(self) -> None:
        """Check and normalise the command's own fields (overridden per command)."""

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def fields(self) -> dict[str, Any]:
        """The command's fields as its event takes them (enums as plain strings)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
               if f.name != "effective_at"}
        return out

    def references(self) -> Iterable[Ref]:
        """Reference-data ids the command names, for the application to look up."""
        return ()

    def past_days(self) -> Iterable[tuple[str, date]]:
        """Dates of things that already happened: none may be after today."""
        return ()


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(x) for x in value]
    return value


# ── needs ─────────────────────────────────────────────────────────────────


def _need_field(name: str, value: Any) -> Any:
    """One field of a need, as recording and amending both check it."""
    checks: dict[str, Any] = {
        "title": lambda x: v.text(x, "title", v.TITLE_MAX),
        "description": lambda x: v.text(x, "description"),
        "policy_area": lambda x: v.ref(x, "policy_area"),
        "urgency": lambda x: v.choice(x, "urgency", Urgency),
        "school_district": lambda x: v.optional_ref(x, "school_district"),
        "location": lambda x: v.location(x),
        "plan_goals": lambda x: v.refs(x, "plan_goals"),
        "observed_on": lambda x: v.day(x, "observed_on"),
        "residents_affected": lambda x: v.optional_whole(x, "residents_affected", 0,
                                                         v.RESIDENTS_MAX),
    }
    return checks[name](value)


NEED_AMENDABLE = ("title", "description", "policy_area", "urgency", "school_district",
                  "location", "plan_goals", "observed_on", "residents_affected")


def _need_refs(fields: Mapping[str, Any]) -> Iterable[Ref]:
    if fields.get("policy_area") is not None:
        yield "policy_area", fields["policy_area"], "policy_area"
    if fields.get("school_district") is not None:
        yield "school_district", fields["school_district"], "school_district"
    for goal in fields.get("plan_goals") or ():
        yield "plan_goal", goal, "plan_goals"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reporter:
    """The reporting resident: personal data, kept in the vault, never in the log."""

    name: str | None = None
    contact: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", v.optional_text(self.name, "reporter.name", 200))
        object.__setattr__(self, "contact",
                           v.optional_text(self.contact, "reporter.contact", v.SHORT_TEXT_MAX))

    def as_dict(self) -> dict[str, str]:
        """The data to keep, without empty parts."""
        return {k: x for k, x in (("name", self.name), ("contact", self.contact)) if x}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordNeed(Command):
    """A need heard at an office."""

    action: ClassVar[str] = "record"
    ward: str
    office: str
    source: Source
    policy_area: str
    title: str
    description: str
    observed_on: date
    school_district: str | None = None
    residents_affected: int | None = None
    urgency: Urgency = Urgency.NORMAL
    location: dict[str, Any] | None = None
    plan_goals: tuple[str, ...] = ()
    reporter: Reporter | None = None

    def check(self) -> None:
        self._set("ward", v.ref(self.ward, "ward"))
        self._set("office", v.ref(self.office, "office"))
        self._set("source", v.choice(self.source, "source", Source))
        for name in NEED_AMENDABLE:
            self._set(name, _need_field(name, getattr(self, name)))
        if self.reporter is not None and not isinstance(self.reporter, Reporter):
            raise InvalidCommand("reporter", "wrong_type", expected="object")

    def fields(self) -> dict[str, Any]:
        out = super().fields()
        del out["reporter"]
        return out

    def references(self) -> Iterable[Ref]:
        yield "ward", self.ward, "ward"
        yield "office", self.office, "office"
        yield from _need_refs(self.fields())

    def past_days(self) -> Iterable[tuple[str, date]]:
        yield "observed_on", self.observed_on


def _changes(changes: Any, amendable: tuple[str, ...],
             check: Any) -> dict[str, Any]:
    if changes is None:
        raise InvalidCommand("changes", "required")
    if not isinstance(changes, Mapping):
        raise InvalidCommand("changes", "wrong_type", expected="object")
    unknown = sorted(set(changes) - set(amendable))
    if unknown:
        raise InvalidCommand(unknown[0], "not_amendable", amendable=list(amendable))
    if not changes:
        raise InvalidCommand(None, "nothing_to_amend", amendable=list(amendable))
    return {name: _plain(check(name, value)) for name, value in changes.items()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AmendNeed(Command):
    """Corrections to what was recorded; only the fields given change."""

    action: ClassVar[str] = "amend"
    changes: Mapping[str, Any]

    def check(self) -> None:
        self._set("changes", _changes(self.changes, NEED_AMENDABLE, _need_field))

    def references(self) -> Iterable[Ref]:
        return _need_refs(self.changes)

    def past_days(self) -> Iterable[tuple[str, date]]:
        if "observed_on" in self.changes:
            yield "observed_on", self.changes["observed_on"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TriageNeed(Command):
    """Accept the need for handling, optionally re-classifying it."""

    action: ClassVar[str] = "triage"
    policy_area: str | None = None
    urgency: Urgency | None = None
    note: str | None = None

    def check(self) -> None:
        self._set("policy_area", v.optional_ref(self.policy_area, "policy_area"))
        self._set("urgency", v.optional_choice(self.urgency, "urgency", Urgency))
        self._set("note", v.optional_text(self.note, "note"))

    def references(self) -> Iterable[Ref]:
        return _need_refs({"policy_area": self.policy_area})


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolveNeedLocally(Command):
    """The ward dealt with it itself."""

    action: ClassVar[str] = "resolve-locally"
    note: str

    def check(self) -> None:
        self._set("note", v.text(self.note, "note"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeclineNeed(Command):
    """The ward will not take it further, for a stated reason."""

    action: ClassVar[str] = "decline"
    reason: str

    def check(self) -> None:
        self._set("reason", v.text(self.reason, "reason"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class MergeNeed(Command):
    """The same need was heard twice: keep the other one."""

    action: ClassVar[str] = "merge"
    into: UUID

    def check(self) -> None:
        self._set("into", v.uuid(self.into, "into"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Feedback(Command):
    """Tell the originators what became of what they said."""

    action: ClassVar[str] = "feedback"
    message: str
    channel: Channel
    delivered_on: date

    def check(self) -> None:
        self._set("message", v.text(self.message, "message"))
        self._set("channel", v.choice(self.channel, "channel", Channel))
        self._set("delivered_on", v.day(self.delivered_on, "delivered_on"))

    def past_days(self) -> Iterable[tuple[str, date]]:
        yield "delivered_on", self.delivered_on


NEED_COMMANDS: dict[str, type[Command]] = {
    c.action: c for c in (AmendNeed, TriageNeed, ResolveNeedLocally, DeclineNeed, MergeNeed,
                          Feedback)
}


def command_for(table: Mapping[str, type[Command]], action: str, **body: Any) -> Command:
    """The command of `action` made from keyword fields (a missing one is `required`)."""
    cls = table[action]
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise InvalidCommand(unknown[0], "unknown_field")
    for name, f in names.items():
        if name not in body and f.default is dataclasses.MISSING \
                and f.default_factory is dataclasses.MISSING:
            raise InvalidCommand(name, "required")
    return cls(**body)
