"""Response metrics, uniformity and backlog (domain.md "Clocks and metrics"), worked by hand.

Calendars used below (開庁日 = Mon–Fri, not a national holiday, not 29 Dec – 3 Jan):

  Golden Week 2026   Tue 28 Apr open | Wed 29 Apr 昭和の日 | Thu 30 Apr, Fri 1 May open |
                     Mon 4 – Wed 6 May closed (みどりの日, こどもの日, 振替休日) | Thu 7 May open
  May–July 2026      no other holiday until Mon 20 Jul 海の日
  Year end 2026/27   Mon 28 Dec open | Tue 29 Dec – Sun 3 Jan closed | Mon 4 Jan open |
                     Mon 11 Jan 2027 成人の日

Counting from a start date: business day k after …
  Tue 28 Apr 2026: 30 Apr=1, 1 May=2, 7 May=3, 8 May=4, 11 May=5, 15 May=9, 22 May=14,
                   29 May=19, 5 Jun=24, 12 Jun=29, 15 Jun=30, 22 Jun=35
  Mon 11 May 2026: 18 May=5, 22 May=9, 22 Jun=30, 3 Jul=39, 13 Jul=45
  Thu 30 Apr 2026: 8 Jul=46, 29 Jul=60
  Mon  1 Jun 2026: 8 Jun=5; Mon 8 Jun: 22 Jun=10; Fri 12 Jun: 26 Jun=10, 6 Jul=16
  Fri 25 Dec 2026: 28 Dec=1, 4 Jan=2, 5 Jan=3, 15 Jan=10

Targets: `transport-planning` uses the defaults (acknowledgement 5, decision 30,
feedback 10, end to end 60); `road-maintenance` has decision 45 and end to end 90.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.application import Tsunagi, event_type_name
from domain.backlog import backlog, backlog_bucket
from domain.calendar import default_calendar
from domain.facts import Fact, NeedFacts, ProposalFacts, facts_of
from domain.groupings import GROUP_BYS, UnknownGrouping, fiscal_year
from domain.metrics import (
    UNIFORMITY_METRICS,
    GroupMetrics,
    UnknownMetric,
    percentile,
    response_metrics,
)
from domain.proposal import Proposal
from domain.uniformity import uniformity
from tests.unit.conftest import CO, LEAD, World, jst, kumamoto, make_world

CAL = default_calendar()
_NOT_DATA = frozenset({"originator_id", "originator_version", "timestamp",
                       "originator_topic", "effective_at", "actor"})


def facts_from_app(app: Tsunagi) -> tuple[list[ProposalFacts], list[NeedFacts]]:
    """Every proposal's and need's facts, by replaying the app's log through `facts_of`."""
    wards: dict[str, tuple[str, str]] = {}
    facts: dict[str, list[Fact]] = {}
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=500)
        if not notifications:
            break
        for n in notifications:
            event = app.mapper.to_domain_event(n)
            name = event_type_name(event)
            data = {k: v for k, v in event.__dict__.items() if k not in _NOT_DATA}
            subject = str(event.originator_id)
            if name in ("ProposalDrafted", "NeedRecorded"):
                wards[subject] = ("proposal" if name.startswith("Proposal") else "need",
                                  data["ward"])
            facts.setdefault(subject, []).extend(
                facts_of(name, data, event.effective_at))  # type: ignore[attr-defined]
        start = notifications[-1].id + 1
    proposals = [ProposalFacts(s, ward, tuple(facts[s]))
                 for s, (kind, ward) in wards.items() if kind == "proposal"]
    needs = [NeedFacts(s, ward, tuple(facts[s]))
             for s, (kind, ward) in wards.items() if kind == "need"]
    return proposals, needs


def metrics(world: World, group_by: str, as_of: datetime, **kw: Any) -> dict[str, GroupMetrics]:
    proposals, needs = facts_from_app(world.app)
    groups = response_metrics(proposals, needs, group_by, kumamoto(), CAL, as_of, **kw)
    return {g.key: g for g in groups}


# ── percentiles ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(("values", "p", "expected"), [
    # numpy.percentile(..., method="linear"): h = (n-1)·p/100, interpolate x[⌊h⌋]..x[⌊h⌋+1]
    ([1, 2, 3, 4], 50, 2.5),                  # h = 1.5 → 2 + 0.5·1
    ([1, 2, 3, 4], 90, 3.7),                  # h = 2.7 → 3 + 0.7·1
    ([15, 20, 35, 40, 50], 40, 29.0),         # h = 1.6 → 20 + 0.6·15
    ([15, 20, 35, 40, 50], 90, 46.0),         # h = 3.6 → 40 + 0.6·10
    ([50, 15, 40, 20, 35], 50, 35.0),         # unsorted input; h = 2 → x[2]
    ([2, 3, 9], 90, 7.8),                     # h = 1.8 → 3 + 0.8·6
    ([7], 90, 7.0),                           # one value: itself at every p
    ([3, 1], 0, 1.0),
    ([3, 1], 100, 3.0),
])
def test_percentile_interpolates_linearly_between_closest_ranks(
        values: list[int], p: float, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_percentile_of_nothing_is_none_and_p_must_be_a_percentage() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_fiscal_year_starts_on_1_april() -> None:
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026
    assert fiscal_year(date(2027, 1, 15)) == 2026


def test_backlog_bucket_edges() -> None:
    assert [backlog_bucket(d) for d in (0, 5, 6, 10, 11, 30, 31, 400)] == [
        "0-5", "0-5", "6-10", "6-10", "11-30", "11-30", "31+", "31+"]


# ── a hand-worked history ─────────────────────────────────────────────────

#: "now" of the scenario: Fri 15 Jan 2027 12:00 JST
AS_OF = jst(2027, 1, 15, 12)
CHUO = {"ward": "chuo", "office": "chuo-ward-office"}


def _need(world: World, at: datetime, observed_on: date, ward: str = "higashi") -> UUID:
    fields = CHUO if ward == "chuo" else {}
    actor = world.actors.other_ward_staff if ward == "chuo" else None
    return world.triaged_need(effective_at=at, actor=actor, observed_on=observed_on,
                              **fields).id


def _submitted(world: World, at: datetime, observed_on: date = date(2026, 4, 30),
               ward: str = "higashi") -> Proposal:
    need = _need(world, at, observed_on, ward)
    extra: dict[str, Any] = {"ward": "chuo"} if ward == "chuo" else {}
    actor = world.actors.other_ward_staff if ward == "chuo" else None
    draft = world.draft_proposal([need], effective_at=at, actor=actor, lead_department=LEAD,
                                 co_departments=[CO], **extra)
    submitter = world.actors.other_ward_mayor if ward == "chuo" else None
    return world.act(draft, "submit", actor=submitter, effective_at=at)


def _decide(world: World, p: Proposal, decision: str, at: datetime) -> Proposal:
    return world.act(p, "decide", decision=decision, reason="理由",
                     deferred_to_fiscal_year=None, effective_at=at)


def _feedback(world: World, p: Proposal, at: datetime) -> Proposal:
    return world.act(p, "feedback", message="結果をお知らせします", channel="web",
                     delivered_on=at.astimezone(UTC).date(), effective_at=at)


@pytest.fixture(scope="module")
def history() -> World:
    """Seven proposals and a need, the story told in each block's comment."""
    w = make_world()
    # P1 higashi: submitted Tue 28 Apr (Golden Week ahead), acknowledged Thu 7 May
    # → acknowledgement 3 (30 Apr, 1 May, 7 May), due 5 → 11 May: within.
    # Info requested Mon 11 May, provided Mon 18 May: a pause of 5 (12–15, 18 May).
    # Accepted Fri 12 Jun: 29 elapsed − 5 paused = decision 24, due 30+5 → 22 Jun: within.
    # Feedback Mon 6 Jul: 16 after 12 Jun, due 10 → 26 Jun: late.
    p1 = _submitted(w, jst(2026, 4, 28))
    w.act(p1, "acknowledge", note=None, effective_at=jst(2026, 5, 7))
    w.act(p1, "request-info", question="利用者数は?", effective_at=jst(2026, 5, 11))
    w.act(p1, "provide-info", answer="一日300人", effective_at=jst(2026, 5, 18))
    _decide(w, p1, "accepted", jst(2026, 6, 12))
    _feedback(w, p1, jst(2026, 7, 6))
    # P2 higashi: submitted Mon 11 May, transferred Wed 13 May to road-maintenance
    # (decision 45), acknowledged Fri 22 May → 9, due 5 → 18 May: late.
    # Rejected Fri 3 Jul → decision 39: late against 30 (due 22 Jun) but within the new
    # lead's 45 (due 13 Jul). Feedback Wed 8 Jul → 3: within. Satisfaction 2.
    # Its need (observed Thu 30 Apr) closes with that feedback on 8 Jul → end to end 46.
    p2 = _submitted(w, jst(2026, 5, 11))
    w.act(p2, "transfer", to_department=CO, reason="所管が違う", effective_at=jst(2026, 5, 13))
    w.act(p2, "acknowledge", note=None, effective_at=jst(2026, 5, 22))
    _decide(w, p2, "rejected", jst(2026, 7, 3))
    _feedback(w, p2, jst(2026, 7, 8))
    w.act(p2, "evaluate", satisfaction=2, indicators=None, note=None,
          effective_at=jst(2026, 7, 9))
    # P4 higashi: submitted Mon 1 Jun and never touched: every clock running past due.
    _submitted(w, jst(2026, 6, 1))
    # P5 higashi: submitted Mon 1 Jun, withdrawn Tue 2 Jun: its clocks are cancelled.
    p5 = _submitted(w, jst(2026, 6, 1))
    w.act(p5, "withdraw", reason="再検討", return_needs=False, effective_at=jst(2026, 6, 2))
    # P6 higashi: a draft (with a need observed 30 Apr), never submitted.
    w.draft_proposal(effective_at=jst(2026, 6, 1), lead_department=LEAD, co_departments=[])
    # P7 chuo: submitted Mon 1 Jun, accepted Mon 8 Jun → acknowledgement 5 and decision 5
    # (on their due date: within); no feedback, due 22 Jun: running past due.
    p7 = _submitted(w, jst(2026, 6, 1), ward="chuo")
    _decide(w, p7, "accepted", jst(2026, 6, 8))
    # P3 higashi: submitted Fri 25 Dec, acknowledged Mon 4 Jan across the year-end
    # closure → 2 (28 Dec, 4 Jan): within. Its need observed Mon 21 Dec 2026.
    p3 = _submitted(w, jst(2026, 12, 25), observed_on=date(2026, 12, 21))
    w.act(p3, "acknowledge", note=None, effective_at=jst(2027, 1, 4))
    # N8 higashi: observed Fri 25 Dec, resolved locally, feedback Tue 5 Jan 2027
    # → end to end 3 (28 Dec, 4 Jan, 5 Jan).
    n8 = w.record_need(effective_at=jst(2026, 12, 25), observed_on=date(2026, 12, 25))
    w.app.act_on_need(w.actors.ward_staff, n8.id, "resolve-locally", note="区で対応",
                      effective_at=jst(2027, 1, 5))
    w.app.act_on_need(w.actors.ward_staff, n8.id, "feedback", message="対応しました",
                      channel="council_meeting", delivered_on=date(2027, 1, 5),
                      effective_at=jst(2027, 1, 5))
    return w


def test_counts_are_statuses_as_of_the_instant_and_drafts_are_not_counted(
        history: World) -> None:
    higashi = metrics(history, "ward", AS_OF)["higashi"]
    assert higashi.n == 5  # P1–P5; the draft P6 is not counted
    assert {k: v for k, v in higashi.counts.items() if v} == {
        "accepted": 1, "rejected": 1, "acknowledged": 1, "submitted": 1, "withdrawn": 1}
    assert "draft" not in higashi.counts
    assert set(higashi.counts) >= {"under_review", "budgeted", "completed", "merged"}


def test_acknowledgement_across_golden_week_and_year_end(history: World) -> None:
    ack = metrics(history, "ward", AS_OF)["higashi"].clocks["acknowledgement"]
    # stopped: P1 3, P2 9, P3 2 → sorted [2, 3, 9]: median 3, p90 3 + 0.8·6 = 7.8
    assert (ack.n, ack.median, ack.p90) == (3, 3.0, pytest.approx(7.8))
    # within: P1, P3; not: P2 (late), P4 (running past due); P5 cancelled: left out → 2/4
    assert ack.within_target == 0.5


def test_decision_clock_pauses_for_info_and_follows_the_new_leads_target(
        history: World) -> None:
    decision = metrics(history, "ward", AS_OF)["higashi"].clocks["decision"]
    # stopped: P1 24 (paused 5), P2 39 → median 31.5, p90 24 + 0.9·15 = 37.5
    assert (decision.n, decision.median) == (2, 31.5)
    assert decision.p90 == pytest.approx(37.5)
    # within: P1 (22 Jun), P2 (45 of road-maintenance); P4 running past due;
    # P3 running, due 30 after 25 Dec: not yet due, left out → 2/3
    assert decision.within_target == pytest.approx(2 / 3)
    by_department = metrics(history, "department", AS_OF)
    roads = by_department["road-maintenance"]
    assert roads.n == 1 and roads.clocks["decision"].within_target == 1.0


def test_late_feedback(history: World) -> None:
    feedback = metrics(history, "ward", AS_OF)["higashi"].clocks["feedback"]
    # P1 16 (late), P2 3 (within) → median 9.5, p90 3 + 0.9·13 = 14.7, within 1/2
    assert (feedback.n, feedback.median, feedback.within_target) == (2, 9.5, 0.5)
    assert feedback.p90 == pytest.approx(14.7)


def test_end_to_end_counts_needs_from_observed_on_to_closed(history: World) -> None:
    e2e = metrics(history, "ward", AS_OF)["higashi"].clocks["end_to_end"]
    # stopped: P2's need 46 (30 Apr → 8 Jul), N8 3 (25 Dec → 5 Jan) → median 24.5,
    # p90 3 + 0.9·43 = 41.7; running past due (observed 30 Apr, due 29 Jul): the needs
    # of P1, P4, P5, P6; P3's need (observed 21 Dec) is not yet due → within 2/6
    assert (e2e.n, e2e.median) == (2, 24.5)
    assert e2e.p90 == pytest.approx(41.7)
    assert e2e.within_target == pytest.approx(1 / 3)


def test_rates(history: World) -> None:
    higashi = metrics(history, "ward", AS_OF)["higashi"]
    assert higashi.acceptance_rate == 0.5  # P1 accepted, P2 rejected
    assert higashi.feedback_closure_rate == 0.5  # final: P2 (told), P5 (not told)
    assert higashi.transfers_per_proposal == pytest.approx(0.2)  # one transfer, 5 proposals
    assert higashi.mean_satisfaction == 2.0


def test_other_ward_and_empty_wards(history: World) -> None:
    groups = metrics(history, "ward", AS_OF)
    assert list(groups) == ["chuo", "higashi", "nishi", "minami", "kita"]
    chuo = groups["chuo"].as_dict()
    assert chuo["n"] == 1 and chuo["counts"]["accepted"] == 1
    assert chuo["clocks"]["acknowledgement"] == {"n": 1, "median": 5.0, "p90": 5.0,
                                                 "within_target": 1.0}
    # no feedback yet, due 22 Jun: running past due, so 0 of 1 within
    assert chuo["clocks"]["feedback"] == {"n": 0, "median": None, "p90": None,
                                          "within_target": 0.0}
    assert chuo["acceptance_rate"] == 1.0 and chuo["feedback_closure_rate"] is None
    empty = groups["kita"].as_dict()
    assert empty["n"] == 0 and set(empty["counts"].values()) == {0}
    assert all(c == {"n": 0, "median": None, "p90": None, "within_target": None}
               for c in empty["clocks"].values())
    assert [empty[k] for k in ("acceptance_rate", "feedback_closure_rate",
                               "transfers_per_proposal", "mean_satisfaction")] == [None] * 4


def test_as_of_an_earlier_instant_sees_only_what_had_happened(history: World) -> None:
    before = jst(2026, 5, 12, 12)  # P1 waits for info, P2 just submitted, no transfer yet
    higashi = metrics(history, "ward", before)["higashi"]
    assert higashi.n == 2
    assert {k: v for k, v in higashi.counts.items() if v} == {"info_requested": 1,
                                                               "submitted": 1}
    ack = higashi.clocks["acknowledgement"]
    assert (ack.n, ack.median, ack.within_target) == (1, 3.0, 1.0)  # P2 not yet due
    assert higashi.clocks["decision"].within_target is None  # P1 paused, P2 running: not due
    by_department = metrics(history, "department", before)
    assert by_department["transport-planning"].n == 2
    assert by_department["road-maintenance"].n == 0


def test_fiscal_year_and_month_groups_and_date_filter(history: World) -> None:
    fiscal = metrics(history, "fiscal_year", AS_OF)
    assert list(fiscal) == ["2026"] and fiscal["2026"].n == 6
    months = metrics(history, "month", AS_OF)
    assert {k: g.n for k, g in months.items()} == {"2026-04": 1, "2026-05": 1, "2026-06": 3,
                                                   "2026-12": 1}
    # needs group by the month of observed_on: the six of 30 Apr (P1, P2, P4–P7) in April
    may = metrics(history, "month", AS_OF, date_from=date(2026, 5, 1),
                  date_to=date(2026, 5, 31))
    assert list(may) == ["2026-05"] and may["2026-05"].n == 1  # P2 only
    assert may["2026-05"].clocks["end_to_end"].n == 0  # no need observed in May


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(UnknownGrouping):
        response_metrics([], [], "district", kumamoto(), CAL, AS_OF)
    assert GROUP_BYS == ("ward", "department", "policy_area", "fiscal_year", "month",
                         "plan_goal", "school_district")


def test_backlog_by_division_and_business_days_since_submission(history: World) -> None:
    proposals, _ = facts_from_app(history.app)
    # P3 acknowledged, 10 since 25 Dec; P4 submitted 1 Jun: 31+; P1, P2, P7 decided
    assert [(b.department, b.buckets) for b in backlog(proposals, CAL, AS_OF)] == [
        ("transport-planning", {"0-5": 0, "6-10": 1, "11-30": 0, "31+": 1})]
    # 12 May: P1 info_requested 6 since 28 Apr, P2 submitted 1 since 11 May
    assert [(b.department, b.buckets) for b in backlog(proposals, CAL,
                                                       jst(2026, 5, 12, 12))] == [
        ("transport-planning", {"0-5": 1, "6-10": 1, "11-30": 0, "31+": 0})]


# ── uniformity between wards ──────────────────────────────────────────────

JUNE = {k: datetime(2026, 6, d, 1, tzinfo=UTC) for k, d in
        # business days after Mon 1 Jun 2026 (no June holidays)
        {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 8, 6: 9, 7: 10, 8: 11}.items()}


def _acknowledged_after(ward: str, index: int, days: int) -> ProposalFacts:
    """A proposal hand-built from facts: submitted Mon 1 Jun, acknowledged `days` later."""
    return ProposalFacts(f"{ward}-{index}", ward, (
        Fact(JUNE[0], "drafted"), Fact(JUNE[0], "lead", LEAD),
        Fact(JUNE[0], "policy_area", "transport"), Fact(JUNE[0], "status", "submitted"),
        Fact(JUNE[days], "status", "acknowledged")))


def test_uniformity_ranks_wards_with_five_items_and_flags_the_rest() -> None:
    proposals = [_acknowledged_after("chuo", i, d) for i, d in enumerate([2, 4, 4, 6, 8])]
    proposals += [_acknowledged_after("kita", i, d) for i, d in enumerate([3, 3, 6, 6, 6])]
    proposals += [_acknowledged_after("higashi", 0, 2)]
    groups = response_metrics(proposals, [], "ward", kumamoto(), CAL, AS_OF)
    result = uniformity(groups, "acknowledgement_median")
    shown = {w.place: (w.value, w.n, w.flagged) for w in result.places}
    assert shown == {"chuo": (4.0, 5, False), "kita": (6.0, 5, False),
                     "higashi": (2.0, 1, True), "nishi": (None, 0, True),
                     "minami": (None, 0, True)}
    # over chuo 4 and kita 6: mean 5, population stdev 1 → 0.2; max/min 1.5
    assert result.coefficient_of_variation == pytest.approx(0.2)
    assert result.max_min_ratio == pytest.approx(1.5)
    # transfers per proposal: 0 everywhere → mean 0 and min 0: both undefined
    zero = uniformity(groups, "transfers_per_proposal")
    assert zero.coefficient_of_variation is None and zero.max_min_ratio is None
    # within target 5: chuo 2, 4, 4 of 5 (6, 8 late) = 0.6; kita 3, 3 of 5 = 0.4
    # → mean 0.5, population stdev 0.1: 0.2; max/min 1.5
    share = uniformity(groups, "acknowledgement_within_target")
    assert {w.place: w.value for w in share.places if not w.flagged} == {"chuo": 0.6,
                                                                        "kita": 0.4}
    assert share.coefficient_of_variation == pytest.approx(0.2)
    assert share.max_min_ratio == pytest.approx(1.5)


def test_uniformity_without_wards_is_undefined_and_names_are_checked() -> None:
    result = uniformity([], "acceptance_rate")
    assert result.places == [] and result.coefficient_of_variation is None
    assert result.max_min_ratio is None
    with pytest.raises(UnknownMetric):
        uniformity([], "acknowledgement_mean")
    assert len(UNIFORMITY_METRICS) == 16
    assert "end_to_end_within_target" in UNIFORMITY_METRICS
