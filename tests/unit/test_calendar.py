"""Tests for the business-day calendar (開庁日) in domain.calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    JST,
    BusinessCalendar,
    NaiveInstantError,
    UnsupportedYearError,
    date_jst,
    default_calendar,
)

# Hypothesis reuses this across examples; the calendar only caches immutable year data.
CAL = BusinessCalendar()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """Build a UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def d(iso: str) -> date:
    """Parse an ISO date."""
    return date.fromisoformat(iso)


# --- date_jst -----------------------------------------------------------------------------


def test_date_jst_moves_late_utc_evening_to_next_japanese_day() -> None:
    # 15:00 UTC is 00:00 JST the next day; 14:59 UTC is still the same day.
    assert date_jst(utc(2026, 6, 4, 14, 59)) == d("2026-06-04")
    assert date_jst(utc(2026, 6, 4, 15, 0)) == d("2026-06-05")


def test_date_jst_accepts_instants_in_any_timezone() -> None:
    assert date_jst(datetime(2026, 6, 5, 0, 30, tzinfo=JST)) == d("2026-06-05")


def test_date_jst_rejects_naive_instant_with_value_error_subclass() -> None:
    with pytest.raises(NaiveInstantError, match="no timezone"):
        date_jst(datetime(2026, 6, 5, 12, 0))
    assert issubclass(NaiveInstantError, ValueError)


# --- Golden Week 2026 ---------------------------------------------------------------------
# Tue 28 Apr  business          Sun  3 May 憲法記念日
# Wed 29 Apr  昭和の日           Mon  4 May みどりの日
# Thu 30 Apr  business          Tue  5 May こどもの日
# Fri  1 May  business          Wed  6 May 振替休日 (3 May fell on a Sunday)
# Sat  2 May  weekend           Thu  7 May business;  Fri 8 May business;  Mon 11 May business


def test_golden_week_2026_holidays_are_not_business_days() -> None:
    for iso in ("2026-04-29", "2026-05-04", "2026-05-05", "2026-05-06"):
        assert not CAL.is_business_day(d(iso)), iso
    for iso in ("2026-04-28", "2026-04-30", "2026-05-01", "2026-05-07", "2026-05-08"):
        assert CAL.is_business_day(d(iso)), iso


def test_golden_week_2026_counts_four_business_days_from_28_april_to_8_may() -> None:
    # (28 Apr, 8 May] -> 30 Apr, 1 May, 7 May, 8 May = 4.
    assert CAL.business_days_between(d("2026-04-28"), d("2026-05-08")) == 4


def test_golden_week_2026_friday_1_may_to_thursday_7_may_is_one_business_day() -> None:
    assert CAL.business_days_between(d("2026-05-01"), d("2026-05-07")) == 1


def test_add_business_days_skips_golden_week_2026() -> None:
    start = d("2026-04-28")
    # 1st: 30 Apr (29 Apr is 昭和の日); 2nd: 1 May; 3rd: 7 May (2–6 May closed);
    # 4th: 8 May; 5th: Mon 11 May.
    assert CAL.add_business_days(start, 1) == d("2026-04-30")
    assert CAL.add_business_days(start, 2) == d("2026-05-01")
    assert CAL.add_business_days(start, 3) == d("2026-05-07")
    assert CAL.add_business_days(start, 4) == d("2026-05-08")
    assert CAL.add_business_days(start, 5) == d("2026-05-11")


# --- substitute and citizens' holidays ----------------------------------------------------


def test_substitute_holiday_for_sunday_emperors_birthday_2025_is_closed() -> None:
    # 天皇誕生日 Sun 23 Feb 2025 -> 振替休日 Mon 24 Feb 2025.
    assert not CAL.is_business_day(d("2025-02-24"))
    assert CAL.holiday_name(d("2025-02-24")) == "振替休日"
    # (Fri 21 Feb, Tue 25 Feb] -> only Tue 25 Feb = 1.
    assert CAL.business_days_between(d("2025-02-21"), d("2025-02-25")) == 1


def test_substitute_holiday_6_may_2026_is_closed() -> None:
    assert CAL.holiday_name(d("2026-05-06")) == "振替休日"
    assert not CAL.is_business_day(d("2026-05-06"))


def test_citizens_holiday_22_september_2026_is_closed() -> None:
    # Mon 21 敬老の日, Tue 22 国民の休日 (sandwiched), Wed 23 秋分の日.
    assert CAL.holiday_name(d("2026-09-22")) == "国民の休日"
    assert not CAL.is_business_day(d("2026-09-22"))
    # (Fri 18 Sep, Fri 25 Sep] -> Thu 24, Fri 25 = 2.
    assert CAL.business_days_between(d("2026-09-18"), d("2026-09-25")) == 2
    assert CAL.add_business_days(d("2026-09-18"), 1) == d("2026-09-24")


# --- year-end closure ---------------------------------------------------------------------


def test_year_end_closure_weekdays_are_not_business_days() -> None:
    # 29–31 Dec 2026 are Tue–Thu; 1 Jan 2027 is a Friday (元日); 2 Jan 2026 is a Friday.
    for iso in ("2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2026-01-02"):
        assert not CAL.is_business_day(d(iso)), iso
    assert CAL.is_business_day(d("2026-12-28"))
    assert CAL.is_business_day(d("2027-01-04"))


def test_new_years_day_is_a_holiday_and_2_january_is_closure_only() -> None:
    assert CAL.holiday_name(d("2027-01-01")) == "元日"
    assert CAL.holiday_name(d("2026-01-02")) == "年末年始休庁"
    assert CAL.holiday_name(d("2026-12-30")) == "年末年始休庁"


def test_monday_28_december_2026_to_monday_4_january_2027_is_one_business_day() -> None:
    # (28 Dec, 4 Jan] -> 29 Dec–3 Jan closed, so only Mon 4 Jan = 1.
    assert CAL.business_days_between(d("2026-12-28"), d("2027-01-04")) == 1
    assert CAL.add_business_days(d("2026-12-28"), 1) == d("2027-01-04")
    # (Fri 25 Dec, 4 Jan] -> Mon 28 Dec, Mon 4 Jan = 2.
    assert CAL.business_days_between(d("2026-12-25"), d("2027-01-04")) == 2


# --- elapsed with instants ----------------------------------------------------------------


def test_friday_to_monday_acknowledgement_counts_one_business_day() -> None:
    submitted = utc(2026, 6, 5, 3, 0)  # Fri 5 Jun 12:00 JST
    acknowledged = utc(2026, 6, 8, 1, 0)  # Mon 8 Jun 10:00 JST
    assert CAL.elapsed(submitted, acknowledged) == 1


def test_late_utc_thursday_that_is_friday_in_jst_to_monday_counts_one_business_day() -> None:
    submitted = utc(2026, 6, 4, 20, 0)  # Thu 20:00 UTC = Fri 5 Jun 05:00 JST
    acknowledged = utc(2026, 6, 8, 1, 0)  # Mon 8 Jun 10:00 JST
    assert CAL.elapsed(submitted, acknowledged) == 1


def test_jst_midnight_decides_whether_friday_acknowledgement_counts() -> None:
    acknowledged = utc(2026, 6, 5, 1, 0)  # Fri 5 Jun 10:00 JST
    assert CAL.elapsed(utc(2026, 6, 4, 14, 59), acknowledged) == 1  # Thu 23:59 JST
    assert CAL.elapsed(utc(2026, 6, 4, 15, 0), acknowledged) == 0  # Fri 00:00 JST


def test_same_day_counts_zero_business_days() -> None:
    assert CAL.business_days_between(d("2026-06-05"), d("2026-06-05")) == 0
    assert CAL.elapsed(utc(2026, 6, 5, 0, 0), utc(2026, 6, 5, 14, 0)) == 0


def test_end_before_start_counts_zero_business_days() -> None:
    assert CAL.business_days_between(d("2026-06-08"), d("2026-06-05")) == 0
    assert CAL.elapsed(utc(2026, 6, 8, 1, 0), utc(2026, 6, 5, 1, 0)) == 0


def test_elapsed_rejects_naive_instants() -> None:
    with pytest.raises(NaiveInstantError):
        CAL.elapsed(datetime(2026, 6, 5), utc(2026, 6, 8))


# --- due dates ----------------------------------------------------------------------------


def test_add_zero_business_days_returns_start_even_on_a_holiday() -> None:
    assert CAL.add_business_days(d("2026-05-05"), 0) == d("2026-05-05")


def test_add_business_days_rejects_negative_n() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        CAL.add_business_days(d("2026-05-05"), -1)


def test_add_business_days_from_a_weekend_starts_counting_on_monday() -> None:
    assert CAL.add_business_days(d("2026-06-06"), 1) == d("2026-06-08")  # Sat -> Mon


def test_five_business_day_due_date_of_submission_before_golden_week_is_11_may() -> None:
    # Tue 28 Apr 12:00 JST + 5 business days (30 Apr, 1 May, 7 May, 8 May, 11 May).
    assert CAL.due_on(utc(2026, 4, 28, 3, 0), 5) == d("2026-05-11")


def test_due_on_uses_the_jst_date_of_the_start_instant() -> None:
    # Thu 4 Jun 20:00 UTC is Fri 5 Jun JST, so 1 business day later is Mon 8 Jun.
    assert CAL.due_on(utc(2026, 6, 4, 20, 0), 1) == d("2026-06-08")
    # Thu 4 Jun 14:00 UTC is still Thu 4 Jun JST -> Fri 5 Jun.
    assert CAL.due_on(utc(2026, 6, 4, 14, 0), 1) == d("2026-06-05")


def test_due_date_has_ended_only_after_jst_midnight() -> None:
    due = d("2026-05-11")
    assert not CAL.has_ended(due, utc(2026, 5, 11, 14, 59, 59))  # 23:59:59 JST on 11 May
    assert CAL.has_ended(due, utc(2026, 5, 11, 15, 0))  # 00:00 JST on 12 May
    assert not CAL.has_ended(due, utc(2026, 5, 10, 15, 0))  # 00:00 JST on the due date


# --- names, city closures, limits ---------------------------------------------------------


def test_holiday_name_is_none_for_business_days_and_plain_weekends() -> None:
    assert CAL.holiday_name(d("2026-06-05")) is None
    assert CAL.holiday_name(d("2026-06-06")) is None
    assert CAL.holiday_name(d("2026-04-29")) == "昭和の日"


def test_extra_closed_dates_are_not_business_days() -> None:
    cal = BusinessCalendar(extra_closed=[d("2026-06-05"), d("2026-06-06")])
    assert not cal.is_business_day(d("2026-06-05"))
    assert cal.holiday_name(d("2026-06-05")) == "臨時休庁"
    # (Thu 4 Jun, Mon 8 Jun] -> Fri closed, weekend -> Mon only = 1.
    assert cal.business_days_between(d("2026-06-04"), d("2026-06-08")) == 1
    assert cal.add_business_days(d("2026-06-04"), 1) == d("2026-06-08")
    # The default calendar is unaffected.
    assert CAL.is_business_day(d("2026-06-05"))


def test_years_without_known_national_holidays_are_rejected() -> None:
    with pytest.raises(UnsupportedYearError):
        CAL.is_business_day(date(2100, 6, 1))


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()
    assert isinstance(default_calendar(), BusinessCalendar)


def test_business_days_between_over_seven_years_matches_day_loop() -> None:
    # 2024-01-01..2030-12-31 by the arithmetic path must agree with the day loop.
    start, end = d("2023-12-31"), d("2030-12-31")
    naive = sum(
        CAL.is_business_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )
    assert CAL.business_days_between(start, end) == naive


# --- properties ---------------------------------------------------------------------------

start_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def naive_between(cal: BusinessCalendar, start: date, end: date) -> int:
    """Count business days in (start, end] one day at a time."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += cal.is_business_day(day)
        day += timedelta(days=1)
    return count


@given(start=start_dates, span=st.integers(min_value=-30, max_value=800))
def test_business_days_between_matches_naive_day_loop(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    assert CAL.business_days_between(start, end) == naive_between(CAL, start, end)


@given(start=start_dates, n=st.integers(min_value=0, max_value=300))
def test_add_business_days_is_inverse_of_business_days_between(start: date, n: int) -> None:
    due = CAL.add_business_days(start, n)
    assert CAL.business_days_between(start, due) == n
    if n >= 1:
        assert CAL.is_business_day(due)
        # It is the first day reaching n: the day before still counts n - 1.
        assert CAL.business_days_between(start, due - timedelta(days=1)) == n - 1


@given(
    start=start_dates,
    span=st.integers(min_value=0, max_value=400),
    n=st.integers(min_value=0, max_value=120),
    closed=st.lists(start_dates, max_size=40),
)
def test_calendar_with_city_closures_matches_naive_day_loop(
    start: date, span: int, n: int, closed: list[date]
) -> None:
    cal = BusinessCalendar(extra_closed=closed)
    end = start + timedelta(days=span)
    assert cal.business_days_between(start, end) == naive_between(cal, start, end)
    due = cal.add_business_days(start, n)
    assert cal.business_days_between(start, due) == n
    assert n == 0 or cal.is_business_day(due)
