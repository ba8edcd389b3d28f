"""The metrics of api.md "Metrics" over HTTP, on a small history built by hand.

June 2025 has no holiday; business days after Mon 2 Jun 2025: 3 Jun=1, 4=2, 5=3, 6=4,
9–13 Jun=5–9, 16 Jun=10. Targets: transport-planning the defaults (acknowledgement 5,
decision 30, feedback 10, end to end 60); road-maintenance decision 45, end to end 90.

  A higashi  submitted Mon 2 Jun 10:00, acknowledged Thu 5 Jun (3), accepted Mon 16 Jun
             (decision 10), feedback Wed 18 Jun (2)
  B higashi  submitted Tue 3 Jun, transferred to road-maintenance Wed 4 Jun 15:00,
             never acknowledged: its clocks run, long past due
  C chuo     submitted Mon 2 Jun, rejected Fri 6 Jun (acknowledgement and decision 4),
             no feedback: its feedback clock runs past due

Every need was observed Fri 30 May 2025 and none is closed: end to end runs past due.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api, act, new_need, new_proposal, submitted_proposal
from tests.e2e.test_conventions import assert_problem

METRICS = "/api/v1/metrics"
EARLY = "2025-06-04T12:00:00+09:00"  # before the transfer and any acknowledgement


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def proposal(api: Api, when: str, ward: str = "higashi") -> dict[str, Any]:
    """A proposal with one need (observed 30 May 2025), drafted and submitted at `when`."""
    chuo = ward == "chuo"
    staff, mayor = ("chuo_staff", "chuo_mayor") if chuo else ("staff", "mayor")
    place = {"ward": "chuo", "office": "chuo-ward-office", "school_district": None} if chuo \
        else {}
    need = new_need(api, staff, effective_at=when, observed_on="2025-05-30", **place)
    ok(act(api, staff, "needs", need["id"], "triage", {"effective_at": when}))
    with api.as_(staff) as client:
        draft = ok(client.post("/api/v1/proposals", json={
            "ward": ward, "title": "提案", "summary": "概要", "needs": [need["id"]],
            "lead_department": "transport-planning", "co_departments": [],
            "policy_area": "transport", "effective_at": when}))
    return ok(act(api, mayor, "proposals", draft["id"], "submit", {"effective_at": when}))


@pytest.fixture
def history(api: Api) -> Api:
    a = proposal(api, "2025-06-02T10:00:00+09:00")
    ok(act(api, "transport", "proposals", a["id"], "acknowledge",
           {"effective_at": "2025-06-05T10:00:00+09:00"}))
    ok(act(api, "transport", "proposals", a["id"], "decide",
           {"decision": "accepted", "reason": "効果が見込める",
            "effective_at": "2025-06-16T10:00:00+09:00"}))
    ok(act(api, "transport", "proposals", a["id"], "feedback",
           {"message": "採択しました", "channel": "web", "delivered_on": "2025-06-18",
            "effective_at": "2025-06-18T10:00:00+09:00"}))
    b = proposal(api, "2025-06-03T10:00:00+09:00")
    ok(act(api, "transport", "proposals", b["id"], "transfer",
           {"to_department": "road-maintenance", "reason": "所管が違う",
            "effective_at": "2025-06-04T15:00:00+09:00"}))
    c = proposal(api, "2025-06-02T10:00:00+09:00", ward="chuo")
    ok(act(api, "transport", "proposals", c["id"], "decide",
           {"decision": "rejected", "reason": "財源がない",
            "effective_at": "2025-06-06T10:00:00+09:00"}))
    new_proposal(api)  # a draft: not counted
    return api


def get(api: Api, path: str, person: str = "monitor", **params: Any) -> Any:
    with api.as_(person) as client:
        return client.get(path, params={"min_position": api.container.app.position(),
                                        **params})


def test_response_by_ward(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/response", group_by="ward"))
    assert body["group_by"] == "ward" and body["as_of"].endswith("+09:00")
    groups = {g["key"]: g for g in body["groups"]}
    assert list(groups) == ["chuo", "higashi", "nishi", "minami", "kita"]
    higashi = groups["higashi"]
    assert higashi["n"] == 2
    assert {k: v for k, v in higashi["counts"].items() if v} == {"accepted": 1, "submitted": 1}
    assert higashi["clocks"] == {
        # A 3 within; B running past due → 1 of 2
        "acknowledgement": {"n": 1, "median": 3, "p90": 3, "within_target": 0.5},
        "decision": {"n": 1, "median": 10, "p90": 10, "within_target": 0.5},
        "feedback": {"n": 1, "median": 2, "p90": 2, "within_target": 1.0},
        "end_to_end": {"n": 0, "median": None, "p90": None, "within_target": 0.0},
    }
    assert higashi["acceptance_rate"] == 1.0 and higashi["feedback_closure_rate"] is None
    assert higashi["transfers_per_proposal"] == 0.5 and higashi["mean_satisfaction"] is None
    chuo = groups["chuo"]
    assert chuo["n"] == 1 and chuo["acceptance_rate"] == 0.0
    assert chuo["feedback_closure_rate"] == 0.0  # rejected, nobody told yet
    assert chuo["clocks"]["decision"] == {"n": 1, "median": 4, "p90": 4, "within_target": 1.0}
    assert chuo["clocks"]["feedback"]["within_target"] == 0.0
    kita = groups["kita"]
    assert kita["n"] == 0 and kita["acceptance_rate"] is None
    assert kita["clocks"]["decision"] == {"n": 0, "median": None, "p90": None,
                                          "within_target": None}


def test_response_filters_on_submission_date_and_groups_by_month(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/response", group_by="ward", **{
        "from": "2025-06-03", "to": "2025-06-03"}))
    assert {g["key"]: g["n"] for g in body["groups"] if g["n"]} == {"higashi": 1}  # B
    months = ok(get(history, f"{METRICS}/response", group_by="month"))
    # needs count in the month of observed_on: 30 May 2025, and the draft's 20 Nov 2026
    assert [(g["key"], g["n"]) for g in months["groups"]] == [("2025-05", 0), ("2025-06", 3),
                                                              ("2026-11", 0)]
    years = ok(get(history, f"{METRICS}/response", group_by="fiscal_year"))
    assert [(g["key"], g["n"]) for g in years["groups"]] == [("2025", 3), ("2026", 0)]


def test_as_of_answers_as_the_system_stood_then(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/response", group_by="department", as_of=EARLY))
    assert body["as_of"] == EARLY
    groups = {g["key"]: g for g in body["groups"]}
    assert groups["transport-planning"]["n"] == 3  # B not yet transferred
    assert groups["road-maintenance"]["n"] == 0
    assert groups["transport-planning"]["counts"]["submitted"] == 3
    assert groups["transport-planning"]["clocks"]["acknowledgement"]["within_target"] is None
    now = {g["key"]: g for g in ok(get(history, f"{METRICS}/response",
                                       group_by="department"))["groups"]}
    assert (now["transport-planning"]["n"], now["road-maintenance"]["n"]) == (2, 1)
    # B: 45 of road-maintenance, still long past due
    assert now["road-maintenance"]["clocks"]["decision"]["within_target"] == 0.0


def test_backlog_now_and_then(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/backlog"))
    assert body["departments"] == [{"department": "road-maintenance",
                                    "buckets": {"0-5": 0, "6-10": 0, "11-30": 0, "31+": 1}}]
    early = ok(get(history, f"{METRICS}/backlog", as_of=EARLY))
    # A 2 (3, 4 Jun), B 1 (4 Jun), C 2: all transport-planning
    assert early["departments"] == [{"department": "transport-planning",
                                     "buckets": {"0-5": 3, "6-10": 0, "11-30": 0, "31+": 0}}]


def test_uniformity_flags_wards_with_fewer_than_five_items(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/uniformity", person="transport",
                  metric="acknowledgement_median"))
    assert body["metric"] == "acknowledgement_median"
    wards = {w["ward"]: w for w in body["wards"]}
    assert wards["higashi"] == {"ward": "higashi", "value": 3, "n": 1, "flagged": True}
    assert wards["chuo"] == {"ward": "chuo", "value": 4, "n": 1, "flagged": True}
    assert body["coefficient_of_variation"] is None and body["max_min_ratio"] is None


def test_response_by_plan_goal_counts_a_chapter_once_for_two_of_its_measures(
        history: Api) -> None:
    submitted_proposal(history, plan_goals=["6-5-1", "6-5-2"])
    body = ok(get(history, f"{METRICS}/response", group_by="plan_goal"))
    assert body["group_by"] == "plan_goal"
    keys = [g["key"] for g in body["groups"]]
    assert keys[:4] == ["6-1", "6-1-1", "6-1-2", "6-1-3"]  # each chapter, then its measures
    assert {g["key"]: g["n"] for g in body["groups"] if g["n"]} == {
        "6-5": 1, "6-5-1": 1, "6-5-2": 1}  # A, B and C name no goal: under none


def test_response_by_school_district_via_the_needs_of_each_proposal(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/response", group_by="school_district"))
    groups = {g["key"]: g for g in body["groups"]}
    assert list(groups) == [s.id for s in history.container.city.school_districts]
    # A and B carry needs heard in 桜木校区; C's need names no district
    assert {k: g["n"] for k, g in groups.items() if g["n"]} == {"higashi-sakuragi": 2}
    assert groups["higashi-sakuragi"]["clocks"]["acknowledgement"] == {
        "n": 1, "median": 3, "p90": 3, "within_target": 0.5}


def test_uniformity_between_the_school_districts_of_a_ward(history: Api) -> None:
    body = ok(get(history, f"{METRICS}/uniformity", metric="acknowledgement_median",
                  between="school_district", ward="higashi"))
    assert (body["between"], body["ward"]) == ("school_district", "higashi")
    districts = body["school_districts"]
    assert [d["school_district"] for d in districts][:3] == [
        "higashi-sakuragi", "higashi-kengun", "higashi-takumabaru"]
    assert all(d["school_district"].startswith("higashi-") for d in districts)
    assert districts[0] == {"school_district": "higashi-sakuragi", "value": 3, "n": 1,
                            "flagged": True}
    assert districts[1] == {"school_district": "higashi-kengun", "value": None, "n": 0,
                            "flagged": True}
    # the ward as a whole, for comparison
    assert body["wards"] == [{"ward": "higashi", "value": 3, "n": 1, "flagged": True}]
    assert body["coefficient_of_variation"] is None and body["max_min_ratio"] is None
    between_wards = ok(get(history, f"{METRICS}/uniformity", metric="acknowledgement_median"))
    assert (between_wards["between"], between_wards["ward"]) == ("ward", None)
    assert between_wards["school_districts"] is None and len(between_wards["wards"]) == 5


@pytest.mark.parametrize(("params", "problem"), [
    ({"between": "school_district"}, "school-districts-need-ward"),
    ({"between": "school_district", "ward": "nowhere"}, "unknown-reference"),
    ({"ward": "higashi"}, "ward-only-for-school-districts"),
    ({"between": "district", "ward": "higashi"}, "validation-error"),
])
def test_uniformity_between_districts_names_a_known_ward(
        api: Api, params: dict[str, str], problem: str) -> None:
    with api.as_("staff") as client:
        body = assert_problem(client.get(f"{METRICS}/uniformity", params={
            "metric": "acceptance_rate", **params}), 422, problem)
    assert ("ward" if problem != "validation-error" else "between") in str(body["errors"])


@pytest.mark.parametrize(("path", "params", "named"), [
    ("response", {"group_by": "district"}, "school_district"),
    ("response", {}, "group_by"),
    ("uniformity", {"metric": "acknowledgement_mean"}, "acceptance_rate"),
    ("response", {"group_by": "ward", "from": "2025-07-01", "to": "2025-06-01"}, "from"),
    ("response", {"group_by": "ward", "as_of": "2098-01-01T00:00:00+09:00"}, "future"),
    ("backlog", {"as_of": "2098-01-01T00:00:00Z"}, "future"),
    ("backlog", {"as_of": "2999-01-01T00:00:00Z"}, "2099-12-31"),  # past the calendar
    ("backlog", {"as_of": "2025-06-04T12:00:00"}, "as_of"),  # no offset
])
def test_invalid_questions_are_422_problems(api: Api, path: str, params: dict[str, str],
                                            named: str) -> None:
    with api.as_("staff") as client:
        body = assert_problem(client.get(f"{METRICS}/{path}", params=params), 422)
    assert named in body["detail"] + str(body.get("errors"))


def test_metrics_need_a_token(api: Api) -> None:
    with api.anonymous() as client:
        assert_problem(client.get(f"{METRICS}/response", params={"group_by": "ward"}), 401)
        assert_problem(client.get("/metrics"), 401)


def test_prometheus_text(history: Api) -> None:
    response = get(history, "/metrics", person="admin")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'tsunagi_proposals_open{department="road-maintenance",status="submitted"} 1.0' in text
    assert 'tsunagi_proposals_open{department="transport-planning",status="accepted"} 1.0' in text
    assert ('tsunagi_clocks_overdue{clock="acknowledgement",department="road-maintenance"} 1.0'
            in text)
    assert 'tsunagi_clocks_overdue{clock="end_to_end",department="transport-planning"} 2.0' \
        in text  # the needs of A and C (B's is under road-maintenance)
    # stopped acknowledgements: A 3 and C 4
    assert 'tsunagi_clock_business_days_count{clock="acknowledgement"} 2.0' in text
    assert 'tsunagi_clock_business_days_bucket{clock="acknowledgement",le="3.0"} 1.0' in text
    assert 'tsunagi_clock_business_days_sum{clock="acknowledgement"} 7.0' in text
    assert 'tsunagi_projection_lag_events{view="clock_facts"}' in text
    assert f"tsunagi_log_position {float(history.container.app.position())}" in text
