"""The summaries' own derivations agree with the rules they invert (docs/metrics.md §1–2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import default_calendar
from domain.facts import Fact, NeedFacts
from domain.summaries import carried, last_overdue_start, smallest_target_met

CAL = default_calendar()
DAYS = st.dates(date(2024, 1, 1), date(2027, 12, 31))
TARGETS = st.integers(0, 120)


@given(start=DAYS, span=st.integers(0, 200), target=TARGETS)
def test_a_closed_clock_is_within_exactly_the_targets_from_the_smallest_met(
        start: date, span: int, target: int) -> None:
    closed_on = start + timedelta(days=span)
    smallest = smallest_target_met(CAL, start, closed_on,
                                   CAL.business_days_between(start, closed_on))
    late = closed_on > CAL.add_business_days(start, target)  # the rule of §2
    assert late == (target < smallest)


@given(today=st.dates(date(2025, 1, 1), date(2027, 12, 31)), target=TARGETS,
       back=st.integers(0, 400))
def test_a_running_clock_is_overdue_exactly_when_it_started_by_the_last_overdue_start(
        today: date, target: int, back: int) -> None:
    start = today - timedelta(days=back)
    now = datetime(today.year, today.month, today.day, 3, tzinfo=UTC)  # noon in JST
    overdue = CAL.has_ended(CAL.add_business_days(start, target), now)
    assert overdue == (start <= last_overdue_start(CAL, target, today))


def test_a_submission_counts_the_need_until_it_moved_on_to_another_proposal() -> None:
    t = [datetime(2026, 5, d, 1, tzinfo=UTC) for d in range(1, 6)]
    need = NeedFacts("n", "higashi", (Fact(t[0], "recorded"), Fact(t[1], "proposal", "a"),
                                      Fact(t[3], "proposal", "b")))
    bounds = {c.proposal: c.until for c in carried(need)}
    assert bounds == {"a": t[3], "b": None}
    for s in t:  # the bound says what carried_since says
        assert ("a" in need.carried_since(s)) == (s < t[3])
        assert "b" in need.carried_since(s)


@given(moves=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["a", "b", None])),
                      min_size=1, max_size=6),
       asked=st.integers(-1, 7))
def test_the_carried_bounds_answer_as_carried_since_for_any_order_of_instants(
        moves: list[tuple[int, str | None]], asked: int) -> None:
    base = datetime(2026, 5, 1, tzinfo=UTC)
    need = NeedFacts("n", "higashi", tuple(Fact(base + timedelta(hours=h), "proposal", p)
                                           for h, p in moves))
    instant = base + timedelta(hours=asked)
    bounds = {c.proposal: c.until for c in carried(need)}
    assert {p for p, until in bounds.items() if until is None or instant < until} \
        == need.carried_since(instant)
