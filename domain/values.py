"""Checks of single values, shared by every command: what an event may hold.

Each check either returns the value in its domain type or raises `InvalidCommand`
naming the field and the rule, so that nothing a view could not hold reaches the log.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from domain.errors import InvalidCommand

#: the first and last years the business calendar (and so every clock) knows
FIRST_YEAR = 2000
LAST_YEAR = 2099
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)

TITLE_MAX = 200
TEXT_MAX = 10_000
SHORT_TEXT_MAX = 500
REF_MAX = 100
#: lists in a command: plan goals, co-divisions, wards of a notice, indicators
LIST_MAX = 50
NEEDS_PER_PROPOSAL_MAX = 200
RESIDENTS_MAX = 100_000_000
YEN_MAX = 10**13

E = TypeVar("E", bound=StrEnum)

# Characters that print as nothing: a title made of them is as blank as one of spaces.
_INVISIBLE_CHARS = "\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad\u180e"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Control characters (Unicode Cc) other than tab and line breaks may not appear in a text.
_CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# What `str.strip()` takes for space, besides the controls above.
_SPACE_CHARS = ("\t\n\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
                "\u205f\u3000")
#: the same rules as a JSON Schema pattern, for the HTTP schema to state them: no
#: control characters, and at least one character that is neither space nor invisible
TEXT_PATTERN = (f"^[^{_CONTROL_CHARS}]*[^{_CONTROL_CHARS}{_SPACE_CHARS}{_INVISIBLE_CHARS}]"
                f"[^{_CONTROL_CHARS}]*$")
#: an optional text: no control characters
OPTIONAL_TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*$"
#: reference-data ids are slugs in every city's file
REF_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"


def is_blank(text: str) -> bool:
    """True when nothing visible remains once spaces and zero-width characters go."""
    return not _INVISIBLE.sub("", text).strip()


def text(value: Any, field: str, max_len: int = TEXT_MAX) -> str:
    """A required, non-blank text of at most `max_len` characters."""
    if value is None:
        raise InvalidCommand(field, "required")
    if not isinstance(value, str):
        raise InvalidCommand(field, "wrong_type", expected="text")
    if is_blank(value):
        raise InvalidCommand(field, "blank")
    if len(value) > max_len:
        raise InvalidCommand(field, "too_long", max=max_len)
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\r\t" for c in value):
        raise InvalidCommand(field, "control_character")  # Cs: a lone surrogate
    return value


def optional_text(value: Any, field: str, max_len: int = TEXT_MAX) -> str | None:
    """A text as `text`, or None; a blank text counts as none."""
    if value is None or (isinstance(value, str) and is_blank(value)):
        return None
    return text(value, field, max_len)


def whole(value: Any, field: str, lo: int, hi: int) -> int:
    """A whole number from `lo` to `hi` (a boolean is not a number)."""
    if value is None:
        raise InvalidCommand(field, "required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCommand(field, "wrong_type", expected="integer")
    if not lo <= value <= hi:
        raise InvalidCommand(field, "out_of_range", min=lo, max=hi)
    return value


def optional_whole(value: Any, field: str, lo: int, hi: int) -> int | None:
    """A whole number as `whole`, or None."""
    return None if value is None else whole(value, field, lo, hi)


def day(value: Any, field: str) -> date:
    """A calendar date within the years the business calendar knows."""
    if value is None:
        raise InvalidCommand(field, "required")
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidCommand(field, "wrong_type", expected="date")
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidCommand(field, "date_out_of_range", min=FIRST_DAY.isoformat(),
                             max=LAST_DAY.isoformat())
    return value


def instant(value: Any, field: str) -> datetime:
    """An instant with its offset, within the calendar's years."""
    if not isinstance(value, datetime):
        raise InvalidCommand(field, "wrong_type", expected="instant")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCommand(field, "naive_instant")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidCommand(field, "date_out_of_range", min=FIRST_DAY.isoformat(),
                             max=LAST_DAY.isoformat())
    return value


def choice(value: Any, field: str, enum: type[E]) -> E:
    """One of an enumeration's values."""
    if value is None:
        raise InvalidCommand(field, "required")
    try:
        return enum(value)
    except ValueError:
        raise InvalidCommand(field, "choice", choices=[e.value for e in enum]) from None


def optional_choice(value: Any, field: str, enum: type[E]) -> E | None:
    """One of an enumeration's values, or None."""
    return None if value is None else choice(value, field, enum)


def ref(value: Any, field: str) -> str:
    """A reference-data id (the city's file decides whether it exists)."""
    if value is None:
        raise InvalidCommand(field, "required")
    if not isinstance(value, str):
        raise InvalidCommand(field, "wrong_type", expected="id")
    if is_blank(value):
        raise InvalidCommand(field, "blank")
    if len(value) > REF_MAX:
        raise InvalidCommand(field, "too_long", max=REF_MAX)
    return value


def optional_ref(value: Any, field: str) -> str | None:
    """A reference-data id, or None."""
    return None if value is None else ref(value, field)


def refs(value: Any, field: str, max_items: int = LIST_MAX) -> tuple[str, ...]:
    """A list of distinct reference-data ids, in the order given."""
    items = _items(value, field, max_items)
    return tuple(dict.fromkeys(ref(v, field) for v in items))


def uuid(value: Any, field: str) -> UUID:
    """A record's id."""
    if value is None:
        raise InvalidCommand(field, "required")
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value)) if isinstance(value, str) else _wrong(field, "uuid")
    except ValueError:
        raise InvalidCommand(field, "wrong_type", expected="uuid") from None


def uuids(value: Any, field: str, max_items: int) -> tuple[UUID, ...]:
    """A list of distinct record ids, in the order given."""
    return tuple(dict.fromkeys(uuid(v, field) for v in _items(value, field, max_items)))


def flag(value: Any, field: str) -> bool:
    """True or false."""
    if not isinstance(value, bool):
        raise InvalidCommand(field, "wrong_type", expected="boolean")
    return value


def finite(value: Any, field: str, lo: float, hi: float) -> float:
    """A finite number from `lo` to `hi`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCommand(field, "wrong_type", expected="number")
    if not math.isfinite(value):
        raise InvalidCommand(field, "not_finite")
    if not lo <= value <= hi:
        raise InvalidCommand(field, "out_of_range", min=lo, max=hi)
    return float(value)


def location(value: Any, field: str = "location") -> dict[str, Any] | None:
    """Where a need was observed: `lat`, `lon`, `address`, each optional."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidCommand(field, "wrong_type", expected="object")
    unknown = sorted(set(value) - {"lat", "lon", "address"})
    if unknown:
        raise InvalidCommand(f"{field}.{unknown[0]}", "unknown_field")
    lat, lon = value.get("lat"), value.get("lon")
    return {
        "lat": None if lat is None else finite(lat, f"{field}.lat", -90, 90),
        "lon": None if lon is None else finite(lon, f"{field}.lon", -180, 180),
        "address": optional_text(value.get("address"), f"{field}.address", SHORT_TEXT_MAX),
    }


def indicators(value: Any, field: str = "indicators") -> dict[str, float | str] | None:
    """Named indicator values: finite numbers or short texts."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidCommand(field, "wrong_type", expected="object")
    if len(value) > LIST_MAX:
        raise InvalidCommand(field, "too_many", max=LIST_MAX)
    out: dict[str, float | str] = {}
    for name, v in value.items():
        key = ref(name, field)
        if isinstance(v, str):
            out[key] = text(v, f"{field}.{key}", SHORT_TEXT_MAX)
        elif isinstance(v, int | float) and not isinstance(v, bool) and not math.isfinite(v):
            raise InvalidCommand(f"{field}.{key}", "not_finite")
        else:
            out[key] = v  # whether it fits the indicator's unit the city's data decides
    return out


def _items(value: Any, field: str, max_items: int) -> Iterable[Any]:
    if value is None:
        raise InvalidCommand(field, "required")
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidCommand(field, "wrong_type", expected="list")
    items = list(value)
    if len(items) > max_items:
        raise InvalidCommand(field, "too_many", max=max_items)
    return items


def _wrong(field: str, expected: str) -> UUID:
    raise InvalidCommand(field, "wrong_type", expected=expected)
