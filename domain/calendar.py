"""Business-day calendar (開庁日) for clocks and metrics, in Japan Standard Time."""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "JST",
    "BusinessCalendar",
    "NaiveInstantError",
    "UnsupportedYearError",
    "date_jst",
    "default_calendar",
]

JST = ZoneInfo("Asia/Tokyo")
"""Asia/Tokyo: every business-day rule is judged on the JST calendar date."""

YEAR_END_CLOSURE_NAME = "年末年始休庁"
"""Label returned by `holiday_name` for 29 Dec – 3 Jan days that are not national holidays."""

CITY_CLOSURE_NAME = "臨時休庁"
"""Label returned by `holiday_name` for city-specific closures (`extra_closed`)."""

# The holidays package knows Japanese holidays only for these years; outside them it
# silently returns none, which would make counts look plausible but be wrong.
_JAPAN = holidays.country_holidays("JP")
_FIRST_YEAR: int = _JAPAN.start_year
_LAST_YEAR: int = _JAPAN.end_year

_ONE_DAY = timedelta(days=1)


class NaiveInstantError(ValueError):
    """Raised when an instant without a timezone is given where a real instant is needed."""


class UnsupportedYearError(ValueError):
    """Raised for a year whose Japanese national holidays are not known."""


def date_jst(instant: datetime) -> date:
    """Return the calendar date in Japan (JST) of a timezone-aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        # A naive datetime could be UTC or JST; guessing would shift dates by a day
        # for anything between 00:00 and 09:00 JST, so refuse it outright.
        raise NaiveInstantError(
            f"instant {instant.isoformat()} has no timezone; pass an aware datetime "
            "(instants are stored in UTC)"
        )
    return instant.astimezone(JST).date()


def _weekdays_through(d: date) -> int:
    """Return the number of Mon–Fri days from 0001-01-01 (a Monday) through d inclusive."""
    # Ordinal 1 is a Monday, so each block of 7 ordinals holds 5 weekdays and the
    # remainder's first five days are Mon–Fri.
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _add_weekdays(start: date, k: int) -> date:
    """Return the k-th Mon–Fri day after start (k >= 1), ignoring holidays."""
    # From a weekend, the weekdays after it are the same as those after the Friday before.
    weekday = start.weekday()
    if weekday > 4:
        start -= timedelta(days=weekday - 4)
        weekday = 4
    weeks, rest = divmod(k, 5)
    days = weeks * 7 + rest
    if weekday + rest > 4:
        # The remainder crosses a weekend.
        days += 2
    return start + timedelta(days=days)


class BusinessCalendar:
    """Kumamoto City business days: Mon–Fri, not a national holiday, not 29 Dec – 3 Jan."""

    def __init__(self, extra_closed: Iterable[date] = ()) -> None:
        """Create a calendar; extra_closed lists city-specific closure dates."""
        # Weekend closures change nothing, so keep only weekdays; grouping by year lets
        # the per-year cache merge them in without scanning the whole input again.
        self._extra_by_year: dict[int, set[date]] = {}
        for d in extra_closed:
            if d.weekday() < 5:
                self._extra_by_year.setdefault(d.year, set()).add(d)
        # Per year: the weekdays that are closed (set for O(1) membership, sorted tuple
        # for bisecting range counts) and the holiday names for display. Filled lazily
        # because holidays.Japan expands a year at a time and metrics touch few years.
        self._closed: dict[int, frozenset[date]] = {}
        self._closed_sorted: dict[int, tuple[date, ...]] = {}
        self._names: dict[int, dict[date, str]] = {}

    def _load_year(self, year: int) -> frozenset[date]:
        """Compute and cache the closed weekdays of one year."""
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise UnsupportedYearError(
                f"Japanese national holidays are known only for {_FIRST_YEAR}–{_LAST_YEAR}; "
                f"got {year}"
            )
        # Observed holidays (振替休日) and citizens' holidays (国民の休日) are included
        # by the package; Japanese names suit the UI.
        national = holidays.country_holidays("JP", years=year, language="ja")
        names: dict[date, str] = {d: str(name) for d, name in national.items()}
        year_end = [date(year, 1, day) for day in (1, 2, 3)]
        year_end += [date(year, 12, day) for day in (29, 30, 31)]
        closed = set(names) | set(year_end) | self._extra_by_year.get(year, set())
        closed_weekdays = frozenset(d for d in closed if d.weekday() < 5)
        self._names[year] = names
        self._closed_sorted[year] = tuple(sorted(closed_weekdays))
        self._closed[year] = closed_weekdays
        return closed_weekdays

    def _closed_weekdays(self, year: int) -> frozenset[date]:
        """Return the cached closed weekdays of a year, loading it on first use."""
        cached = self._closed.get(year)
        return cached if cached is not None else self._load_year(year)

    def _closed_weekdays_between(self, start: date, end: date) -> int:
        """Return the number of closed weekdays d with start < d <= end (start < end)."""
        total = 0
        for year in range(start.year, end.year + 1):
            self._closed_weekdays(year)
            days = self._closed_sorted[year]
            lo = bisect_right(days, start) if year == start.year else 0
            hi = bisect_right(days, end) if year == end.year else len(days)
            total += hi - lo
        return total

    def is_business_day(self, d: date) -> bool:
        """Return True when d is a business day (開庁日)."""
        return d.weekday() < 5 and d not in self._closed_weekdays(d.year)

    def business_days_between(self, start: date, end: date) -> int:
        """Return the number of business days d with start < d <= end (0 if end <= start)."""
        # Civil Code rule: the first day is not counted. Count weekdays arithmetically and
        # subtract closures, so long spans cost O(years), not O(days).
        if end <= start:
            return 0
        weekdays = _weekdays_through(end) - _weekdays_through(start)
        return weekdays - self._closed_weekdays_between(start, end)

    def elapsed(self, a: datetime, b: datetime) -> int:
        """Return the business days elapsed from instant a to instant b, by JST dates."""
        return self.business_days_between(date_jst(a), date_jst(b))

    def add_business_days(self, start: date, n: int) -> date:
        """Return the n-th business day after start (start itself when n == 0)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        current, remaining = start, n
        # Jump over `remaining` weekdays, then make up for the closures jumped over;
        # closures are sparse, so this converges in a few rounds. When a round jumps
        # over no closure, its landing day is a weekday that is not closed.
        while remaining > 0:
            target = _add_weekdays(current, remaining)
            remaining = self._closed_weekdays_between(current, target)
            current = target
        return current

    def due_on(self, start: datetime, n: int) -> date:
        """Return the JST due date n business days after the instant start."""
        return self.add_business_days(date_jst(start), n)

    def has_ended(self, d: date, now: datetime) -> bool:
        """Return True when the JST date d has ended at the instant now."""
        return date_jst(now) > d

    def holiday_name(self, d: date) -> str | None:
        """Return why d is closed (holiday name, 年末年始休庁, 臨時休庁), or None."""
        closed_weekdays = self._closed_weekdays(d.year)
        name = self._names[d.year].get(d)
        if name is not None:
            return name
        # Weekend days inside the closure are named too, so the UI can show the span.
        if (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3):
            return YEAR_END_CLOSURE_NAME
        if d in closed_weekdays:
            return CITY_CLOSURE_NAME
        return None


@functools.cache
def default_calendar() -> BusinessCalendar:
    """Return the shared Kumamoto City calendar (national holidays and year-end closure)."""
    return BusinessCalendar()
