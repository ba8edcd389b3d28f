"""Response metrics by plan goal and by school district (docs/metrics.md §4), worked by hand.

Every need was observed Mon 5 Jan 2026, so by 30 Jun 2026 each end-to-end clock runs past
its 60 business days: `share_n` of the end-to-end clock counts the needs of a group.

  N1  goals 6-5-1 (ch. 6-5) and 6-2-1 (ch. 6-2)   校区 higashi-sakuragi
  N2  goals 6-5-1 and 6-5-2 (both ch. 6-5)        校区 higashi-kengun
  N3  goal 6-5 (the chapter itself)              no school district
  N4  no goal                                    校区 higashi-sakuragi
  P1  carries N1, N2; goals 6-5-1, 6-5-2
  P2  carries N4; no goal
  P3  carries N3; goal 6-2
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.calendar import default_calendar
from domain.metrics import GroupMetrics, response_metrics
from tests.unit.conftest import World, jst, kumamoto, make_world
from tests.unit.test_metrics import facts_from_app

CAL = default_calendar()
OBSERVED = date(2026, 1, 5)
T0 = jst(2026, 4, 1)
AS_OF = jst(2026, 6, 30, 12)


def need(w: World, goals: list[str], district: str | None, when: datetime = T0) -> Any:
    return w.triaged_need(effective_at=when, plan_goals=goals, school_district=district,
                          observed_on=OBSERVED)


def submitted(w: World, needs: list[Any], goals: list[str], when: datetime = T0) -> Any:
    return w.submitted_proposal([n.id for n in needs], effective_at=when, plan_goals=goals)


def grouped(w: World, group_by: str, as_of: datetime = AS_OF) -> dict[str, GroupMetrics]:
    proposals, needs = facts_from_app(w.app)
    return {g.key: g for g in response_metrics(proposals, needs, group_by, kumamoto(), CAL,
                                               as_of)}


def counted(groups: dict[str, GroupMetrics]) -> dict[str, tuple[int, int]]:
    """(proposals, needs) of each group that has any."""
    out = {k: (g.n, g.clocks["end_to_end"].share_n) for k, g in groups.items()}
    return {k: v for k, v in out.items() if v != (0, 0)}


@pytest.fixture
def story() -> World:
    w = make_world()
    n1 = need(w, ["6-5-1", "6-2-1"], "higashi-sakuragi")
    n2 = need(w, ["6-5-1", "6-5-2"], "higashi-kengun")
    n3 = need(w, ["6-5"], None)
    n4 = need(w, [], "higashi-sakuragi")
    submitted(w, [n1, n2], ["6-5-1", "6-5-2"])
    submitted(w, [n4], [])
    submitted(w, [n3], ["6-2"])
    return w


def test_a_need_under_two_goals_counts_under_both_and_a_chapter_is_the_union(
        story: World) -> None:
    assert counted(grouped(story, "plan_goal")) == {
        "6-2": (1, 1),    # P3 named the chapter; N1 through its measure 6-2-1
        "6-2-1": (0, 1),  # N1
        "6-5": (1, 3),    # P1 once although it names two measures; N1, N2 (once), N3
        "6-5-1": (1, 2),  # P1; N1 and N2
        "6-5-2": (1, 1),  # P1; N2
    }  # P2 and N4 name no goal: under none


def test_every_plan_goal_is_listed_each_chapter_followed_by_its_measures(story: World) -> None:
    keys = list(grouped(story, "plan_goal"))
    city = kumamoto()
    assert keys[:5] == ["6-1", "6-1-1", "6-1-2", "6-1-3", "6-2"]
    assert set(keys) == {g.id for g in city.plan_goals}
    for chapter in (g for g in city.plan_goals if g.chapter is None):
        start = keys.index(chapter.id)
        measures = [m.id for m in city.measures_of(chapter.id)]
        assert keys[start + 1:start + 1 + len(measures)] == measures


def test_a_proposal_counts_under_the_school_districts_of_its_needs(story: World) -> None:
    groups = grouped(story, "school_district")
    assert list(groups) == [s.id for s in kumamoto().school_districts]
    assert counted(groups) == {
        "higashi-sakuragi": (2, 2),  # P1 (via N1) and P2 (via N4); N1 and N4
        "higashi-kengun": (1, 1),  # P1 (via N2), once although it spans two districts; N2
    }  # P3 carries only N3, which names no district: left out, as N3 is


def test_a_merged_proposal_keeps_its_districts_and_its_target_gains_them() -> None:
    w = make_world()
    wakaba = need(w, [], "higashi-wakaba")
    kengun = need(w, [], "higashi-kengun")
    source = submitted(w, [wakaba], [])
    target = submitted(w, [kengun], [])
    w.act(source, "merge", into=target.id, reason="同じ内容", effective_at=jst(2026, 5, 1))
    assert counted(grouped(w, "school_district")) == {
        "higashi-wakaba": (2, 1),  # the merged one, which carried it, and its new carrier
        "higashi-kengun": (1, 1),
    }
    assert counted(grouped(w, "school_district", jst(2026, 4, 30))) == {
        "higashi-wakaba": (1, 1), "higashi-kengun": (1, 1)}


def test_an_amendment_after_t_does_not_change_the_figures_as_of_t() -> None:
    w = make_world()
    moved = need(w, ["6-1-1"], "higashi-sakuragi")
    w.act_on_need(moved, "amend", changes={"plan_goals": ["6-7-1"],
                                           "school_district": "higashi-wakaba"},
                  effective_at=jst(2026, 5, 1))
    before, now = jst(2026, 4, 30), AS_OF
    assert counted(grouped(w, "plan_goal", before)) == {"6-1": (0, 1), "6-1-1": (0, 1)}
    assert counted(grouped(w, "plan_goal", now)) == {"6-7": (0, 1), "6-7-1": (0, 1)}
    assert counted(grouped(w, "school_district", before)) == {"higashi-sakuragi": (0, 1)}
    assert counted(grouped(w, "school_district", now)) == {"higashi-wakaba": (0, 1)}


def test_a_proposal_counts_under_its_goals_and_districts_as_of_its_submission() -> None:
    w = make_world()
    n = need(w, [], "higashi-sakuragi")
    draft = w.draft_proposal([n.id], effective_at=T0, plan_goals=["6-1-1"])
    w.act(draft, "amend", changes={"plan_goals": ["6-3-1"]}, effective_at=jst(2026, 4, 2))
    w.act(draft, "submit", effective_at=jst(2026, 4, 3))
    assert counted(grouped(w, "plan_goal", jst(2026, 4, 2, 12))) == {}  # a draft: not counted
    assert {k: v[0] for k, v in counted(grouped(w, "plan_goal")).items()} == {
        "6-3": 1, "6-3-1": 1}
    assert counted(grouped(w, "school_district"))["higashi-sakuragi"] == (1, 1)
