"""The proposal clocks (domain.md, "Clocks and metrics"), worked by hand.

Counting rule: the elapsed business days from `a` to `b` are the business days `d`
with date_jst(a) < d <= date_jst(b) (the first day is not counted); the N-day due date
is the N-th business day after the start date; a paused clock subtracts the elapsed
business days of each pause and its due date moves later by as many.

Calendars used below (開庁日 = Mon–Fri, not a national holiday, not 29 Dec – 3 Jan):

  June 2026          Mon 1 … Fri 5 | Mon 8 … Fri 12 | Mon 15 … Fri 19 | …  (no holidays)
  Golden Week 2026   Tue 28 Apr open | Wed 29 Apr 昭和の日 | Thu 30 Apr, Fri 1 May open |
                     Sun 3 – Wed 6 May closed (6 May 振替休日) | Thu 7 May open
  Year end 2026/27   Mon 28 Dec open | Tue 29 Dec – Sun 3 Jan closed | Mon 4 Jan open |
                     Mon 11 Jan 2027 成人の日 | Thu 11 Feb 建国記念の日 | Tue 23 Feb 天皇誕生日
  July 2026          Mon 20 Jul 海の日

Targets: `transport-planning` uses the defaults (acknowledgement 5, decision 30,
feedback 10); `road-maintenance` overrides decision with 45 (the others default).
All instants are written in JST with `jst(...)` (10:00 unless given).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.clocks import ClockReading, proposal_clocks
from domain.proposal import Proposal
from tests.unit.conftest import CO, LEAD, World, jst


def submitted(world: World, at: datetime, lead: str = LEAD) -> Proposal:
    """A proposal (with one need) drafted and submitted at `at`."""
    need = world.triaged_need(effective_at=at)
    draft = world.draft_proposal([need.id], effective_at=at, lead_department=lead,
                                 co_departments=[])
    return world.act(draft, "submit", effective_at=at)


def clocks(world: World, proposal: Proposal, now: datetime | None = None
           ) -> dict[str, ClockReading]:
    """The proposal's clocks as stored, read at `now`, against its current lead's targets."""
    stored = world.app.get_proposal(proposal.id)
    targets = world.app.city.targets_for(stored.lead_department)
    return proposal_clocks(stored, targets, world.app.calendar, now or world.clock.now)


def decide(world: World, proposal: Proposal, at: datetime, decision: str = "rejected"
           ) -> Proposal:
    year = 2027 if decision == "deferred" else None
    return world.act(proposal, "decide", decision=decision, reason="理由",
                     deferred_to_fiscal_year=year, effective_at=at)


def feedback(world: World, proposal: Proposal, at: datetime) -> Proposal:
    return world.act(proposal, "feedback", message="結果", channel="web",
                     delivered_on=at.date(), effective_at=at)


# ── targets ───────────────────────────────────────────────────────────────


def test_targets_come_from_the_city_file_with_defaults() -> None:
    from tests.unit.conftest import kumamoto

    city = kumamoto()
    transport, road = city.targets_for(LEAD), city.targets_for(CO)
    assert (transport.acknowledgement, transport.decision, transport.feedback) == (5, 30, 10)
    assert (road.acknowledgement, road.decision, road.feedback) == (5, 45, 10)


# ── acknowledgement ───────────────────────────────────────────────────────


def test_friday_submit_monday_acknowledge_is_one_business_day(world: World) -> None:
    # Fri 5 Jun → Mon 8 Jun: days d with 5 Jun < d <= 8 Jun that are open: 8 Jun → 1.
    # Due: 5th business day after Fri 5 Jun = 8, 9, 10, 11, 12 → Fri 12 Jun.
    proposal = submitted(world, jst(2026, 6, 5))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 6, 8))
    ack = clocks(world, proposal)["acknowledgement"]
    assert ack.state == "stopped"
    assert (ack.started_at, ack.stopped_at) == (jst(2026, 6, 5), jst(2026, 6, 8))
    assert (ack.business_days, ack.target, ack.due_on, ack.late) == (
        1, 5, date(2026, 6, 12), False)


def test_business_days_are_counted_on_japanese_dates_not_utc_dates(world: World) -> None:
    # Submitted Fri 5 Jun 23:30 JST (= Fri 14:30 UTC), acknowledged Mon 8 Jun 08:00 JST
    # (= Sun 7 Jun 23:00 UTC). In JST that is Fri → Mon = 1 (in UTC dates it would be 0).
    proposal = submitted(world, jst(2026, 6, 5, 23, 30))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 6, 8, 8, 0))
    assert clocks(world, proposal)["acknowledgement"].business_days == 1


def test_acts_on_the_same_japanese_day_take_zero_business_days(world: World) -> None:
    # Fri 5 Jun 00:30 JST (= Thu 4 Jun 15:30 UTC) → Fri 5 Jun 23:00 JST: same JST date → 0.
    proposal = submitted(world, jst(2026, 6, 5, 0, 30))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 6, 5, 23, 0))
    assert clocks(world, proposal)["acknowledgement"].business_days == 0


@pytest.mark.parametrize("action", ["acknowledge", "request-info", "start-review", "decide"])
def test_acknowledgement_stops_at_the_first_of_its_stopping_acts(
    world: World, action: str
) -> None:
    # Mon 1 Jun → Thu 4 Jun: 2, 3, 4 Jun → 3 business days; due 5th after 1 Jun = 8 Jun.
    proposal = submitted(world, jst(2026, 6, 1))
    bodies: dict[str, dict[str, Any]] = {
        "acknowledge": {"note": None}, "request-info": {"question": "?"},
        "start-review": {},
        "decide": {"decision": "accepted", "reason": "r", "deferred_to_fiscal_year": None},
    }
    world.act(proposal, action, effective_at=jst(2026, 6, 4), **bodies[action])
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.state, ack.stopped_at, ack.business_days, ack.due_on, ack.late) == (
        "stopped", jst(2026, 6, 4), 3, date(2026, 6, 8), False)


def test_acknowledgement_stopped_by_co_division_request_info_stays_stopped(
    world: World,
) -> None:
    # A co-division's question stops it too (Mon 1 → Wed 3 Jun = 2 days); what follows
    # (answer Fri 5, start… decide Wed 10) does not move the stop.
    need = world.triaged_need(effective_at=jst(2026, 6, 1))
    draft = world.draft_proposal([need.id], effective_at=jst(2026, 6, 1), co_departments=[CO])
    proposal = world.act(draft, "submit", effective_at=jst(2026, 6, 1))
    world.act(proposal, "request-info", actor=world.actors.road_reviewer, question="?",
              effective_at=jst(2026, 6, 3))
    world.act(proposal, "provide-info", answer="!", effective_at=jst(2026, 6, 5))
    decide(world, proposal, jst(2026, 6, 10))
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.stopped_at, ack.business_days) == (jst(2026, 6, 3), 2)


def test_acknowledgement_across_the_year_end_closure(world: World) -> None:
    # Mon 28 Dec 2026 → Mon 4 Jan 2027: 29 Dec – 3 Jan are closed, so only 4 Jan → 1.
    # Due: 5th business day after 28 Dec = 4, 5, 6, 7, 8 Jan → Fri 8 Jan 2027.
    proposal = submitted(world, jst(2026, 12, 28))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2027, 1, 4))
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.business_days, ack.due_on, ack.late) == (1, date(2027, 1, 8), False)


def test_acknowledgement_across_golden_week(world: World) -> None:
    # Tue 28 Apr → Thu 7 May 2026: open days after 28 Apr are 30 Apr, 1 May, 7 May → 3.
    # Due: 5th after 28 Apr = 30 Apr, 1 May, 7 May, 8 May, 11 May → Mon 11 May.
    proposal = submitted(world, jst(2026, 4, 28))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 5, 7))
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.business_days, ack.due_on, ack.late) == (3, date(2026, 5, 11), False)


# ── late and overdue ──────────────────────────────────────────────────────


def test_running_clock_is_late_only_once_its_due_date_has_ended(world: World) -> None:
    # Submitted Mon 1 Jun; acknowledgement due 5th business day after = Mon 8 Jun.
    # At Mon 8 Jun 23:59 JST: 2–5 Jun (4) + 8 Jun = 5 days, due date not ended → not late.
    # At Tue 9 Jun 00:00 JST: 6 days, 8 Jun has ended → late (overdue).
    proposal = submitted(world, jst(2026, 6, 1))
    before = clocks(world, proposal, now=jst(2026, 6, 8, 23, 59))["acknowledgement"]
    assert (before.state, before.business_days, before.due_on, before.late) == (
        "running", 5, date(2026, 6, 8), False)
    after = clocks(world, proposal, now=jst(2026, 6, 9, 0, 0))["acknowledgement"]
    assert (after.state, after.business_days, after.late) == ("running", 6, True)


@pytest.mark.parametrize(("acknowledged_at", "late"), [
    (jst(2026, 6, 8, 23, 59), False),  # on the due date: within target
    (jst(2026, 6, 9, 9, 0), True),  # the day after: late
])
def test_stopped_clock_is_late_when_stopped_after_its_due_date(
    world: World, acknowledged_at: datetime, late: bool
) -> None:
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "acknowledge", note=None, effective_at=acknowledged_at)
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.due_on, ack.late) == (date(2026, 6, 8), late)


def test_clock_read_before_submission_has_not_started(world: World) -> None:
    proposal = submitted(world, jst(2026, 6, 5))
    early = clocks(world, proposal, now=jst(2026, 6, 4))
    assert {c.state for c in early.values()} == {"not_started"}
    assert early["decision"].business_days is None


def test_clock_read_as_of_a_past_instant_ignores_later_stops(world: World) -> None:
    # Acknowledged Mon 8 Jun; as of Thu 4 Jun it was still running with 3 days (2, 3, 4).
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 6, 8))
    past = clocks(world, proposal, now=jst(2026, 6, 4, 18))["acknowledgement"]
    assert (past.state, past.stopped_at, past.business_days) == ("running", None, 3)


# ── decision: pauses ──────────────────────────────────────────────────────


def test_decision_clock_pauses_while_info_requested_across_golden_week(world: World) -> None:
    # Submitted Mon 20 Apr, question Tue 28 Apr, answer Thu 7 May, decided Fri 15 May 2026.
    # Start → stop, open days after 20 Apr: 21–24 Apr (4), 27, 28 Apr (6), 30 Apr (7),
    #   1 May (8), [3–6 May closed], 7, 8 May (10), 11–15 May (15)      → 15
    # Pause 28 Apr → 7 May: 30 Apr, 1 May, 7 May                          → 3
    # Decision business days: 15 − 3 = 12.
    # Due: the (30 + 3)-rd business day after 20 Apr: 30th = Fri 5 Jun (26–30 = 1–5 Jun),
    #   31st = 8 Jun, 32nd = 9 Jun, 33rd = Wed 10 Jun.
    proposal = submitted(world, jst(2026, 4, 20))
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 4, 28))
    world.act(proposal, "provide-info", answer="!", effective_at=jst(2026, 5, 7))
    decide(world, proposal, jst(2026, 5, 15))
    decision = clocks(world, proposal)["decision"]
    assert decision.state == "stopped"
    assert (decision.business_days, decision.paused_business_days) == (12, 3)
    assert (decision.target, decision.due_on, decision.late) == (30, date(2026, 6, 10), False)
    # The question also stopped the acknowledgement: 21–24, 27, 28 Apr = 6 days, past its
    # due date (5th after 20 Apr = Mon 27 Apr) → late.
    ack = clocks(world, proposal)["acknowledgement"]
    assert (ack.business_days, ack.due_on, ack.late) == (6, date(2026, 4, 27), True)


@pytest.mark.parametrize("now", [jst(2026, 5, 1, 12), jst(2026, 5, 6, 12)])
def test_paused_decision_clock_does_not_move_over_golden_week(
    world: World, now: datetime
) -> None:
    # Submitted Mon 20 Apr, question Tue 28 Apr, no answer yet.
    # Read Fri 1 May: start → now = 21–24, 27, 28, 30 Apr, 1 May = 8; pause 28 Apr → now =
    #   30 Apr, 1 May = 2; business days 8 − 2 = 6 (the 6 days before the question).
    # Read Wed 6 May (振替休日): 3–6 May are closed, so the same 8, 2 and 6.
    # Due so far: (30 + 2)-nd business day after 20 Apr = Tue 9 Jun.
    proposal = submitted(world, jst(2026, 4, 20))
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 4, 28))
    decision = clocks(world, proposal, now=now)["decision"]
    assert decision.state == "paused"
    assert (decision.business_days, decision.paused_business_days) == (6, 2)
    assert (decision.due_on, decision.late) == (date(2026, 6, 9), False)


def test_decision_clock_paused_over_the_year_end_closure_for_road_maintenance(
    world: World,
) -> None:
    # Led by road-maintenance (decision target 45). Submitted Thu 17 Dec 2026, question
    # Tue 22 Dec, answer Tue 5 Jan 2027, decided Fri 15 Jan 2027.
    # Start → stop: 18, 21, 22, 23, 24, 25, 28 Dec (7), [29 Dec – 3 Jan closed],
    #   4–8 Jan (12), [11 Jan 成人の日], 12–15 Jan (16)                   → 16
    # Pause 22 Dec → 5 Jan: 23, 24, 25, 28 Dec, 4, 5 Jan                 → 6
    # Decision business days: 16 − 6 = 10.
    # Due: (45 + 6) = 51st business day after 17 Dec: 16 by 15 Jan, 18–22 Jan (21),
    #   25–29 Jan (26), 1–5 Feb (31), 8, 9, 10, 12 Feb (35) [11 Feb 建国記念の日],
    #   15–19 Feb (40), 22 Feb (41) [23 Feb 天皇誕生日], 24–26 Feb (44), 1–5 Mar (49),
    #   8 Mar (50), 9 Mar (51) → Tue 9 Mar 2027 (unpaused it would be 45th = 1 Mar).
    proposal = submitted(world, jst(2026, 12, 17), lead=CO)
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 12, 22))
    world.act(proposal, "provide-info", answer="!", effective_at=jst(2027, 1, 5))
    decide(world, proposal, jst(2027, 1, 15))
    decision = clocks(world, proposal)["decision"]
    assert (decision.business_days, decision.paused_business_days) == (10, 6)
    assert (decision.target, decision.due_on, decision.late) == (45, date(2027, 3, 9), False)


def test_two_pauses_are_both_subtracted(world: World) -> None:
    # Submitted Mon 1 Jun. Q1 Wed 3 → A1 Fri 5 Jun (4, 5 = 2). Q2 Tue 9 → A2 Thu 11 Jun
    # (10, 11 = 2). Decided Mon 15 Jun: start → stop = 2–5, 8–12, 15 Jun = 10.
    # 10 − 2 − 2 = 6 business days; due (30 + 4) = 34th after 1 Jun:
    # 30th = Mon 13 Jul (see the transfer test), 31–34 = 14, 15, 16, 17 Jul → Fri 17 Jul.
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "request-info", question="1", effective_at=jst(2026, 6, 3))
    world.act(proposal, "provide-info", answer="1", effective_at=jst(2026, 6, 5))
    world.act(proposal, "request-info", question="2", effective_at=jst(2026, 6, 9))
    world.act(proposal, "provide-info", answer="2", effective_at=jst(2026, 6, 11))
    decide(world, proposal, jst(2026, 6, 15))
    decision = clocks(world, proposal)["decision"]
    assert (decision.business_days, decision.paused_business_days) == (6, 4)
    assert decision.due_on == date(2026, 7, 17)


def test_running_decision_clock_resumes_after_the_answer(world: World) -> None:
    # Submitted Mon 1 Jun, question Tue 2, answer Thu 4 Jun (pause: 3, 4 = 2).
    # Read Fri 12 Jun: start → now = 2–5, 8–12 = 9; 9 − 2 = 7, running.
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 6, 2))
    world.act(proposal, "provide-info", answer="!", effective_at=jst(2026, 6, 4))
    decision = clocks(world, proposal, now=jst(2026, 6, 12))["decision"]
    assert (decision.state, decision.business_days, decision.paused_business_days) == (
        "running", 7, 2)


def test_decision_clock_reads_paused_at_the_instant_info_is_requested(world: World) -> None:
    # Regression (read_clock skipped a pause asked exactly at `now`, `asked >= end`, and
    # read "running"): an act at `now` has happened, as a start or stop at `now` has and
    # as api.md's `as_of` counts events whose effective_at "is not after it".
    proposal = submitted(world, jst(2026, 6, 1))
    asked = jst(2026, 6, 3)
    world.act(proposal, "request-info", question="?", effective_at=asked)
    assert clocks(world, proposal, now=asked)["decision"].state == "paused"


def test_decision_clock_reading_does_not_depend_on_datetime_identity(world: World) -> None:
    # Regression (read_clock decided `in_pause` by `pause_end is end`, an identity test:
    # with the answer's instant and `now` the same datetime object, an answered pause read
    # "paused"). Equal instants must give equal readings; answered at `now` is running.
    answered = jst(2026, 6, 5)
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 6, 3))
    live = world.act(proposal, "provide-info", answer="!", effective_at=answered)
    targets = world.app.city.targets_for(LEAD)
    same_object = proposal_clocks(live, targets, world.app.calendar, answered)["decision"]
    equal_value = clocks(world, proposal, now=jst(2026, 6, 5))["decision"]
    assert equal_value.state == "running"
    assert same_object == equal_value


# ── feedback ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("feedback_at", "business_days", "late"), [
    # Decided Mon 1 Jun; due 10th business day after = 2–5 (4), 8–12 (9), 15 Jun (10).
    (jst(2026, 6, 12), 9, False),  # Fri 12 Jun: 2–5, 8–12 = 9
    (jst(2026, 6, 16), 11, True),  # Tue 16 Jun: 9 + 15, 16 = 11, after Mon 15 Jun
])
def test_feedback_clock_runs_from_decision_to_first_feedback(
    world: World, feedback_at: datetime, business_days: int, late: bool
) -> None:
    proposal = submitted(world, jst(2026, 5, 25))
    decide(world, proposal, jst(2026, 6, 1))
    feedback(world, proposal, feedback_at)
    clock = clocks(world, proposal)["feedback"]
    assert (clock.started_at, clock.stopped_at) == (jst(2026, 6, 1), feedback_at)
    assert (clock.business_days, clock.target, clock.due_on, clock.late) == (
        business_days, 10, date(2026, 6, 15), late)


def test_decision_and_feedback_clocks_use_the_first_decision(world: World) -> None:
    # Submitted Mon 25 May, deferred Mon 1 Jun, taken up Tue 2 Jun, accepted Mon 8 Jun,
    # feedback Wed 10 Jun, again Fri 19 Jun.
    # Decision: 25 May → 1 Jun = 26–29 May (4), 1 Jun (5) → 5, stopped at the deferral.
    # Feedback: 1 Jun → 10 Jun = 2–5 (4), 8, 9, 10 (7) → 7; the second feedback changes
    # nothing.
    proposal = submitted(world, jst(2026, 5, 25))
    decide(world, proposal, jst(2026, 6, 1), "deferred")
    world.act(proposal, "start-review", effective_at=jst(2026, 6, 2))
    decide(world, proposal, jst(2026, 6, 8), "accepted")
    feedback(world, proposal, jst(2026, 6, 10))
    feedback(world, proposal, jst(2026, 6, 19))
    read = clocks(world, proposal)
    assert (read["decision"].stopped_at, read["decision"].business_days) == (
        jst(2026, 6, 1), 5)
    assert (read["feedback"].started_at, read["feedback"].stopped_at) == (
        jst(2026, 6, 1), jst(2026, 6, 10))
    assert read["feedback"].business_days == 7
    assert world.app.get_proposal(proposal.id).decided_at == jst(2026, 6, 8)


def test_feedback_clock_runs_until_feedback(world: World) -> None:
    # Rejected Mon 1 Jun, no feedback; read Wed 17 Jun: 2–5, 8–12, 15–17 = 12 days,
    # past the due date Mon 15 Jun → running and late.
    proposal = submitted(world, jst(2026, 5, 25))
    decide(world, proposal, jst(2026, 6, 1))
    clock = clocks(world, proposal, now=jst(2026, 6, 17))["feedback"]
    assert (clock.state, clock.business_days, clock.late) == ("running", 12, True)


# ── cancellation ──────────────────────────────────────────────────────────


def test_withdraw_cancels_running_clocks_but_not_stopped_ones(world: World) -> None:
    # Submitted Mon 1 Jun, acknowledged Wed 3 Jun (2 days, stopped), withdrawn Fri 5 Jun:
    # the decision clock was running and is cancelled; feedback never started.
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "acknowledge", note=None, effective_at=jst(2026, 6, 3))
    world.act(proposal, "withdraw", reason="r", return_needs=False, effective_at=jst(2026, 6, 5))
    read = clocks(world, proposal)
    assert (read["acknowledgement"].state, read["acknowledgement"].business_days) == (
        "stopped", 2)
    assert (read["decision"].state, read["decision"].business_days,
            read["decision"].late) == ("cancelled", None, None)
    assert read["feedback"].state == "not_started"
    # as of Thu 4 Jun, before the withdrawal, it was still running: 2, 3, 4 Jun = 3
    before = clocks(world, proposal, now=jst(2026, 6, 4))["decision"]
    assert (before.state, before.business_days) == ("running", 3)


def test_withdraw_while_info_requested_cancels_the_paused_decision_clock(
    world: World,
) -> None:
    proposal = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "request-info", question="?", effective_at=jst(2026, 6, 3))
    world.act(proposal, "withdraw", reason="r", return_needs=True, effective_at=jst(2026, 6, 8))
    assert clocks(world, proposal)["decision"].state == "cancelled"


def test_merge_cancels_running_clocks(world: World) -> None:
    proposal = submitted(world, jst(2026, 6, 1))
    target = submitted(world, jst(2026, 6, 1))
    world.act(proposal, "merge", into=target.id, reason="同じ内容", effective_at=jst(2026, 6, 2))
    read = clocks(world, proposal)
    assert (read["acknowledgement"].state, read["decision"].state) == ("cancelled", "cancelled")
    assert clocks(world, target)["decision"].state == "running"  # the target's keep running


@pytest.mark.parametrize("cancel", ["withdraw", "merge"])
def test_feedback_clock_cancelled_by_withdraw_or_merge_stays_cancelled(
    world: World, cancel: str
) -> None:
    # Deferred Mon 1 Jun starts the feedback clock; taken up again Tue 2 Jun, then
    # withdrawn (or merged) Wed 3 Jun, which "cancel[s] every running clock" (domain.md):
    # it is left out of all figures. Feedback on Fri 5 Jun must not revive it as a
    # "stopped" clock of 4 days (regression: read_clock once let a later stop win).
    proposal = submitted(world, jst(2026, 5, 25))
    decide(world, proposal, jst(2026, 6, 1), "deferred")
    world.act(proposal, "start-review", effective_at=jst(2026, 6, 2))
    if cancel == "withdraw":
        world.act(proposal, "withdraw", reason="r", return_needs=False,
                  effective_at=jst(2026, 6, 3))
    else:
        target = submitted(world, jst(2026, 6, 1))
        world.act(proposal, "merge", into=target.id, reason="r", effective_at=jst(2026, 6, 3))
    assert clocks(world, proposal)["feedback"].state == "cancelled"
    feedback(world, proposal, jst(2026, 6, 5))
    assert clocks(world, proposal)["feedback"].state == "cancelled"


# ── the target is the current lead's ──────────────────────────────────────


def test_transfer_keeps_the_start_and_takes_the_new_leads_target(world: World) -> None:
    # Submitted Mon 1 Jun to transport-planning (decision 30): 30th business day after
    #   1 Jun: 2–5 (4), 8–12 (9), 15–19 (14), 22–26 (19), 29, 30 Jun (21), 1–3 Jul (24),
    #   6–10 Jul (29), 13 Jul (30) → Mon 13 Jul.
    # Transferred Wed 3 Jun to road-maintenance (decision 45): continue 14–17 Jul (34),
    #   [20 Jul 海の日], 21–24 Jul (38), 27–31 Jul (43), 3 Aug (44), 4 Aug (45) → Tue 4 Aug.
    # Read Wed 10 Jun: 2–5, 8–10 = 7 business days since the (unchanged) start.
    proposal = submitted(world, jst(2026, 6, 1))
    assert clocks(world, proposal, now=jst(2026, 6, 2))["decision"].due_on == date(2026, 7, 13)
    world.act(proposal, "transfer", to_department=CO, reason="道路の所管",
              effective_at=jst(2026, 6, 3))
    decision = clocks(world, proposal, now=jst(2026, 6, 10))["decision"]
    assert (decision.started_at, decision.business_days) == (jst(2026, 6, 1), 7)
    assert (decision.target, decision.due_on) == (45, date(2026, 8, 4))
    ack = clocks(world, proposal, now=jst(2026, 6, 10))["acknowledgement"]
    assert (ack.target, ack.state) == (5, "running")  # a transfer does not stop it
