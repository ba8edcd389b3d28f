"""The plan progress report and needs per school district over HTTP: shape, counts that
follow a recorded need, and bad parameters refused as problems naming them."""

from __future__ import annotations

from tests.e2e.conftest import Api, new_need
from tests.e2e.test_conventions import assert_problem

METRICS = "/api/v1/metrics"


def test_plan_progress_counts_a_need_under_each_of_its_goals_and_the_chapter_once(
        api: Api) -> None:
    new_need(api, plan_goals=["6-5-1", "6-5-2"], observed_on="2026-05-20")
    position = api.container.app.position()
    with api.as_("monitor") as client:
        out = client.get(f"{METRICS}/plan-progress",
                         params={"fiscal_year": 2026, "min_position": position}).json()
    rows = {r["goal"]: r for r in out["rows"]}
    assert [r["goal"] for r in out["rows"]][:2] == ["6-1", "6-1-1"]  # a chapter, its measures
    assert (rows["6-5"]["needs_heard"], rows["6-5-1"]["needs_heard"],
            rows["6-5-2"]["needs_heard"]) == (1, 1, 1)
    assert rows["6-5"]["name_ja"].startswith("第5章")
    assert [i["indicator"] for i in rows["6-5-2"]["indicators"]] == ["road-repair-backlog"]


def test_needs_per_school_district_lists_every_district_of_the_ward(api: Api) -> None:
    new_need(api, observed_on="2026-05-20")  # 桜木校区
    position = api.container.app.position()
    with api.as_("staff") as client:
        out = client.get(f"{METRICS}/needs-by-school-district", params={
            "since": "2026-04-01", "until": "2026-06-30", "ward": "higashi",
            "min_position": position}).json()
    rows = {r["school_district"]: r for r in out["rows"]}
    assert len(rows) == 12 and rows["higashi-sakuragi"]["needs"] == 1
    assert rows["higashi-kengun"]["silent"] is True
    assert "デモ" in out["residents_note"]


def test_bad_parameters_are_problems_naming_them(api: Api) -> None:
    with api.as_("monitor") as client:
        no_year = client.get(f"{METRICS}/plan-progress")
        future = client.get(f"{METRICS}/plan-progress",
                            params={"fiscal_year": 2026, "as_of": "2999-01-01T00:00:00Z"})
        reversed_ = client.get(f"{METRICS}/needs-by-school-district",
                               params={"since": "2026-06-01", "until": "2026-05-01"})
        unknown = client.get(f"{METRICS}/needs-by-school-district", params={"ward": "atlantis"})
    assert assert_problem(no_year, 422)["detail"] == "「年度」は必須です"
    assert_problem(future, 422)
    assert assert_problem(reversed_, 422)["detail"] == \
        "期間の始め（2026-06-01）が終わり（2026-05-01）より後になっています"
    assert_problem(unknown, 422, "unknown-reference")
