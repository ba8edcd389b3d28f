"""Proposals over HTTP: drafting, every action of the table, clocks, history and listing."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import (
    Api,
    act,
    new_need,
    new_proposal,
    submitted_proposal,
    triaged_need,
)

PROBLEM = "application/problem+json"
FEEDBACK = {"message": "区の自治協議会で結果を報告しました", "channel": "council_meeting",
            "delivered_on": "2026-11-25"}


def get(api: Api, kind: str, record_id: str) -> dict[str, Any]:
    with api.as_("monitor") as client:
        response = client.get(f"/api/v1/{kind}/{record_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(api: Api, kind: str, record_id: str) -> list[dict[str, Any]]:
    with api.as_("monitor") as client:
        response = client.get(f"/api/v1/{kind}/{record_id}/history", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def ok(api: Api, person: str, pid: str, action: str, body: dict[str, Any] | None = None,
       status: str | None = None) -> dict[str, Any]:
    response = act(api, person, "proposals", pid, action, body)
    assert response.status_code == 200, response.text
    out = dict(response.json())
    if status is not None:
        assert out["status"] == status
    assert response.headers["ETag"] == f'"{out["version"]}"'
    return out


def refused(api: Api, person: str, kind: str, record_id: str, action: str,
            body: dict[str, Any] | None, status: int, slug: str | None = None) -> dict[str, Any]:
    """Assert the refusal is a problem and that nothing changed."""
    before, events = get(api, kind, record_id), len(history(api, kind, record_id))
    response = act(api, person, kind, record_id, action, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = dict(response.json())
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if slug is not None:
        assert problem["type"].endswith("/" + slug), problem
    after = get(api, kind, record_id)
    assert after["version"] == before["version"] and after["status"] == before["status"]
    assert len(history(api, kind, record_id)) == events
    return problem


def need_status(api: Api, need_id: str) -> str:
    return str(get(api, "needs", need_id)["status"])


def decided(api: Api, decision: str = "accepted", **body: Any) -> dict[str, Any]:
    p = submitted_proposal(api)
    return ok(api, "transport", p["id"], "decide",
              {"decision": decision, "reason": "理由", **body}, decision)


# ── creation and amendment ────────────────────────────────────────────────


def test_create_answers_201_with_location_and_proposes_its_needs(api: Api) -> None:
    need = triaged_need(api)
    with api.as_("staff") as client:
        response = client.post("/api/v1/proposals", json={
            "ward": "higashi", "title": "バス停の改善", "needs": [need["id"]],
            "lead_department": "transport-planning", "policy_area": "transport"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/proposals/{body['id']}"
    assert body["status"] == "draft" and body["needs"] == [need["id"]]
    assert body["submitted_at"] is None and body["closed_for_originators"] is False
    assert set(body["clocks"]) == {"acknowledgement", "decision", "feedback"}
    assert need_status(api, need["id"]) == "proposed"
    assert [e["type"] for e in history(api, "proposals", body["id"])] == ["ProposalDrafted"]


def test_create_with_untriaged_or_foreign_need_or_unknown_department_is_refused(
        api: Api) -> None:
    recorded = new_need(api)
    foreign = new_need(api, "chuo_staff", ward="chuo", office="chuo-ward-office",
                       school_district=None)
    with api.as_("chuo_staff") as client:
        assert client.post(f"/api/v1/needs/{foreign['id']}/triage", json={}).status_code == 200
    base = {"ward": "higashi", "title": "t", "lead_department": "transport-planning",
            "policy_area": "transport"}
    with api.as_("staff") as client:
        for needs, status, slug in (([recorded["id"]], 409, "need-not-proposable"),
                                    ([foreign["id"]], 409, "need-not-proposable")):
            response = client.post("/api/v1/proposals", json={**base, "needs": needs})
            assert response.status_code == status, response.text
            assert response.json()["type"].endswith(slug)
        response = client.post("/api/v1/proposals", json={
            **base, "lead_department": "no-such-division", "needs": []})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["errors"][0]["loc"] == ["body", "lead_department"]
        listed = client.get("/api/v1/proposals", params={"min_position": 0}).json()
    assert listed["items"] == []
    assert need_status(api, recorded["id"]) == "recorded"
    assert need_status(api, foreign["id"]) == "triaged"


def test_amend_draft_moves_needs_in_and_out_and_is_refused_after_submit(api: Api) -> None:
    first, second = triaged_need(api), triaged_need(api)
    p = new_proposal(api, needs=[first["id"]])
    out = ok(api, "staff", p["id"], "amend", {"title": "新しい題", "needs": [second["id"]]},
             "draft")
    assert out["title"] == "新しい題" and out["needs"] == [second["id"]]
    assert out["version"] == p["version"] + 1
    assert need_status(api, first["id"]) == "triaged"
    assert need_status(api, second["id"]) == "proposed"
    ok(api, "mayor", p["id"], "submit", status="submitted")
    problem = refused(api, "staff", "proposals", p["id"], "amend", {"title": "遅い"}, 409,
                      "action-not-allowed")
    assert problem["current_status"] == "submitted"
    assert "amend" not in problem["allowed_actions"]
    assert "acknowledge" in problem["allowed_actions"]


# ── the whole life of a proposal ──────────────────────────────────────────


def test_happy_path_through_every_action(api: Api) -> None:
    p = new_proposal(api)
    pid, need = p["id"], p["needs"][0]
    out = ok(api, "mayor", pid, "submit", status="submitted")
    assert out["submitted_at"] is not None
    assert out["clocks"]["acknowledgement"]["started_at"] is not None
    out = ok(api, "transport", pid, "acknowledge", {"note": "受領"}, "acknowledged")
    assert out["clocks"]["acknowledgement"]["stopped_at"] is not None
    out = ok(api, "roads", pid, "request-info", {"question": "設置場所は?"}, "info_requested")
    assert out["clocks"]["decision"]["state"] == "paused"
    ok(api, "staff", pid, "provide-info", {"answer": "桜木バス停です"}, "under_review")
    out = ok(api, "transport", pid, "decide", {"decision": "accepted", "reason": "必要性が高い"},
             "accepted")
    assert out["decided_at"] is not None and out["decision_reason"] == "必要性が高い"
    assert out["clocks"]["decision"]["stopped_at"] is not None
    assert out["clocks"]["feedback"]["started_at"] is not None
    out = ok(api, "transport", pid, "request-budget",
             {"fiscal_year": 2027, "amount_jpy": 4_800_000}, "budget_requested")
    assert out["budget"] == {"requested_jpy": 4_800_000, "budgeted_jpy": None,
                             "fiscal_year": 2027}
    out = ok(api, "transport", pid, "record-budget",
             {"outcome": "budgeted", "fiscal_year": 2027, "amount_jpy": 4_500_000}, "budgeted")
    assert out["budget"] == {"requested_jpy": 4_800_000, "budgeted_jpy": 4_500_000,
                             "fiscal_year": 2027}
    ok(api, "transport", pid, "start-implementation", {"note": "着工"}, "in_progress")
    assert need_status(api, need) == "proposed"
    out = ok(api, "transport", pid, "complete", {"summary": "ベンチ3基設置"}, "completed")
    assert out["closed_for_originators"] is False
    out = ok(api, "staff", pid, "feedback", FEEDBACK, "completed")
    assert out["closed_for_originators"] is True and len(out["feedback"]) == 1
    assert need_status(api, need) == "closed"
    out = ok(api, "mayor", pid, "evaluate",
             {"satisfaction": 4, "indicators": {"council-meetings-attended": 80}}, "completed")
    assert [e["satisfaction"] for e in out["evaluations"]] == [4]
    assert [e["type"] for e in history(api, "proposals", pid)] == [
        "ProposalDrafted", "ProposalSubmitted", "ProposalAcknowledged",
        "ProposalInfoRequested", "ProposalInfoProvided", "ProposalDecided",
        "ProposalBudgetRequested", "ProposalBudgetRecorded", "ProposalImplementationStarted",
        "ProposalCompleted", "ProposalFeedbackRecorded", "ProposalEvaluated"]
    assert get(api, "proposals", pid)["version"] == out["version"] == 12


def test_start_review_from_submitted_acknowledged_and_deferred(api: Api) -> None:
    p = submitted_proposal(api)
    ok(api, "transport", p["id"], "start-review", status="under_review")
    p = submitted_proposal(api)
    ok(api, "transport", p["id"], "acknowledge", status="acknowledged")
    ok(api, "transport", p["id"], "start-review", status="under_review")
    p = submitted_proposal(api)
    problem = refused(api, "transport", "proposals", p["id"], "decide",
                      {"decision": "deferred", "reason": "来年度"}, 422)
    assert problem["errors"][0]["loc"] == ["body", "deferred_to_fiscal_year"]
    out = ok(api, "transport", p["id"], "decide",
             {"decision": "deferred", "reason": "来年度", "deferred_to_fiscal_year": 2027},
             "deferred")
    assert out["deferred_to_fiscal_year"] == 2027
    ok(api, "transport", p["id"], "start-review", status="under_review")


def test_rejected_then_feedback_closes_for_originators_and_needs(api: Api) -> None:
    p = decided(api, "rejected")
    problem = refused(api, "staff", "proposals", p["id"], "evaluate", {"satisfaction": 2},
                      409, "action-not-allowed")
    assert problem["current_status"] == "rejected" and "evaluate" not in problem[
        "allowed_actions"]
    out = ok(api, "mayor", p["id"], "feedback", FEEDBACK, "rejected")
    assert out["closed_for_originators"] is True
    assert need_status(api, p["needs"][0]) == "closed"
    ok(api, "staff", p["id"], "evaluate", {"satisfaction": 2})


def test_not_budgeted_and_implementation_straight_from_accepted(api: Api) -> None:
    p = decided(api)
    ok(api, "transport", p["id"], "request-budget", {"fiscal_year": 2027, "amount_jpy": 1})
    out = ok(api, "transport", p["id"], "record-budget",
             {"outcome": "not_budgeted", "fiscal_year": 2027}, "not_budgeted")
    assert out["budget"]["budgeted_jpy"] == 0
    p = decided(api)
    ok(api, "transport", p["id"], "start-implementation", status="in_progress")


def test_withdraw_returning_needs_or_keeping_them_until_feedback(api: Api) -> None:
    p = submitted_proposal(api)
    out = ok(api, "staff", p["id"], "withdraw", {"reason": "再検討", "return_needs": True},
             "withdrawn")
    assert out["clocks"]["acknowledgement"]["state"] == "cancelled"
    assert need_status(api, p["needs"][0]) == "triaged"
    p = new_proposal(api)
    ok(api, "mayor", p["id"], "withdraw", {"reason": "取り下げ", "return_needs": False},
       "withdrawn")
    assert need_status(api, p["needs"][0]) == "proposed"
    assert ok(api, "staff", p["id"], "feedback", FEEDBACK)["closed_for_originators"]
    assert need_status(api, p["needs"][0]) == "closed"
    p = decided(api)
    problem = refused(api, "staff", "proposals", p["id"], "withdraw", {"reason": "x"}, 409,
                      "action-not-allowed")
    assert problem["current_status"] == "accepted"


def test_merge_moves_needs_into_open_target_only(api: Api) -> None:
    source, into = submitted_proposal(api), submitted_proposal(api)
    out = ok(api, "transport", source["id"], "merge", {"into": into["id"], "reason": "重複"},
             "merged")
    assert out["merged_into"] == into["id"] and out["needs"] == []
    target = get(api, "proposals", into["id"])
    assert set(target["needs"]) == {*into["needs"], *source["needs"]}
    assert target["merged_from"] == [source["id"]]
    assert get(api, "needs", source["needs"][0])["proposal"] == into["id"]
    other, draft, final = submitted_proposal(api), new_proposal(api), decided(api, "rejected")
    for bad in (draft, final):
        refused(api, "transport", "proposals", other["id"], "merge",
                {"into": bad["id"], "reason": "x"}, 409, "merge-target-invalid")


def test_transfer_hands_the_lead_over(api: Api) -> None:
    p = submitted_proposal(api)
    out = ok(api, "transport", p["id"], "transfer",
             {"to_department": "road-maintenance", "reason": "道路の所管"}, "submitted")
    assert out["lead_department"] == "road-maintenance" and out["co_departments"] == []
    assert [(t["from_department"], t["to_department"]) for t in out["transfers"]] == [
        ("transport-planning", "road-maintenance")]
    refused(api, "transport", "proposals", p["id"], "acknowledge", {}, 403, "not-permitted")
    ok(api, "roads", p["id"], "acknowledge", status="acknowledged")
    refused(api, "roads", "proposals", p["id"], "transfer",
            {"to_department": "nowhere", "reason": "x"}, 422, "unknown-reference")


def test_comment_by_any_role_but_monitor_and_notice_by_reviewers(api: Api) -> None:
    p = new_proposal(api)
    for person in ("staff", "chuo_mayor", "parks", "room", "admin"):
        ok(api, person, p["id"], "comment", {"body": f"{person} の意見"})
    refused(api, "monitor", "proposals", p["id"], "comment", {"body": "x"}, 403,
            "not-permitted")
    assert len(get(api, "proposals", p["id"])["comments"]) == 5
    out = ok(api, "parks", p["id"], "notice", {"body": "事前連絡", "wards": ["higashi", "chuo"]})
    assert out["notices"][0]["wards"] == ["higashi", "chuo"]
    refused(api, "staff", "proposals", p["id"], "notice", {"body": "x", "wards": ["higashi"]},
            403, "not-permitted")
    problem = refused(api, "transport", "proposals", p["id"], "notice",
                      {"body": "x", "wards": ["atlantis"]}, 422)
    assert problem["errors"][0]["loc"] == ["body", "wards"]


# ── clocks over a back-dated timeline ─────────────────────────────────────


def test_backdated_clocks_across_golden_week(api: Api) -> None:
    need = new_need(api, observed_on="2026-04-10", effective_at="2026-04-20T10:00:00+09:00")
    with api.as_("staff") as client:
        response = client.post(f"/api/v1/needs/{need['id']}/triage",
                               json={"effective_at": "2026-04-21T10:00:00+09:00"})
    assert response.status_code == 200, response.text
    p = new_proposal(api, needs=[need["id"]], effective_at="2026-04-22T10:00:00+09:00")
    pid = p["id"]
    # before the previous act: 422, nothing changes
    refused(api, "mayor", "proposals", pid, "submit",
            {"effective_at": "2026-04-21T10:00:00+09:00"}, 422, "effective-at-before-previous")
    ok(api, "mayor", pid, "submit", {"effective_at": "2026-04-24T10:00:00+09:00"})
    out = ok(api, "transport", pid, "acknowledge",
             {"effective_at": "2026-05-07T10:00:00+09:00"})
    ack = out["clocks"]["acknowledgement"]
    # Friday 24 Apr → Thursday 7 May, first day not counted: 27, 28, 30 Apr, 1 May, 7 May
    # (29 Apr 昭和の日, 4 May みどりの日, 5 May こどもの日, 6 May 振替休日 are closed) = 5;
    # due on the 5th business day after 24 Apr = 7 May, so acknowledged on time.
    assert ack["started_at"].startswith("2026-04-24T10:00:00+09:00")
    assert ack["stopped_at"].startswith("2026-05-07T10:00:00+09:00")
    assert (ack["business_days"], ack["target"], ack["due_on"], ack["late"]) == (
        5, 5, "2026-05-07", False)
    out = ok(api, "transport", pid, "decide", {"decision": "accepted", "reason": "必要",
                                               "effective_at": "2026-05-08T10:00:00+09:00"})
    dec = out["clocks"]["decision"]
    # decision: 24 Apr → 8 May = the 5 above + 8 May = 6; due the 30th business day after
    # 24 Apr: 27, 28, 30 Apr, 1, 7, 8 May (6), 11–15 (11), 18–22 (16), 25–29 (21),
    # 1–5 Jun (26), 8, 9, 10, 11 Jun (30) → 2026-06-11.
    assert (dec["business_days"], dec["target"], dec["due_on"], dec["late"]) == (
        6, 30, "2026-06-11", False)
    assert out["decided_at"].startswith("2026-05-08T10:00:00+09:00")
    assert out["clocks"]["feedback"]["started_at"].startswith("2026-05-08T10:00:00+09:00")
    out = ok(api, "staff", pid, "feedback", {**FEEDBACK, "delivered_on": "2026-05-25",
                                             "effective_at": "2026-05-25T10:00:00+09:00"})
    fb = out["clocks"]["feedback"]
    # feedback: Friday 8 May → Monday 25 May = 11–15, 18–22, 25 May = 11 business days;
    # due the 10th business day after 8 May = Friday 22 May, so it is late.
    assert (fb["business_days"], fb["target"], fb["due_on"], fb["late"]) == (
        11, 10, "2026-05-22", True)
    assert out["submitted_at"].startswith("2026-04-24T10:00:00+09:00")
    events = history(api, "proposals", pid)
    assert [e["effective_at"][:10] for e in events] == [
        "2026-04-22", "2026-04-24", "2026-05-07", "2026-05-08", "2026-05-25"]


# ── listing ───────────────────────────────────────────────────────────────


def test_list_filters(api: Api) -> None:
    old_need = new_need(api, observed_on="2026-03-01",
                        effective_at="2026-03-02T10:00:00+09:00")
    with api.as_("staff") as client:
        assert client.post(f"/api/v1/needs/{old_need['id']}/triage", json={
            "effective_at": "2026-03-03T10:00:00+09:00"}).status_code == 200
    # submitted 31 Mar 23:30 JST: the last moment of fiscal year 2025
    fy2025 = new_proposal(api, needs=[old_need["id"]], title="道路の段差",
                          lead_department="road-maintenance", co_departments=["parks"],
                          policy_area="roads-parks", effective_at="2026-03-30T10:00:00+09:00")
    ok(api, "mayor", fy2025["id"], "submit", {"effective_at": "2026-03-31T23:30:00+09:00"})
    fy2026 = submitted_proposal(api)
    draft = new_proposal(api, title="ＡＢＣ公園")
    chuo_need = new_need(api, "chuo_staff", ward="chuo", office="chuo-ward-office",
                         school_district=None)
    with api.as_("chuo_staff") as client:
        assert client.post(f"/api/v1/needs/{chuo_need['id']}/triage",
                           json={}).status_code == 200
        response = client.post("/api/v1/proposals", json={
            "ward": "chuo", "title": "中央区の提案", "needs": [chuo_need["id"]],
            "lead_department": "parks", "policy_area": "transport"})
    assert response.status_code == 201, response.text
    chuo = response.json()

    def ids(**params: Any) -> set[str]:
        with api.as_("monitor") as client:
            response = client.get("/api/v1/proposals",
                                  params={"min_position": chuo["position"], **params})
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()["items"]}

    everyone = {fy2025["id"], fy2026["id"], draft["id"], chuo["id"]}
    assert ids() == everyone
    assert ids(ward="chuo") == {chuo["id"]}
    assert ids(ward=["chuo", "higashi"]) == everyone
    assert ids(lead_department="road-maintenance") == {fy2025["id"]}
    assert ids(department="parks") == {fy2025["id"], chuo["id"]}
    assert ids(department="road-maintenance") == {fy2025["id"], fy2026["id"], draft["id"]}
    assert ids(status="draft") == {draft["id"], chuo["id"]}
    assert ids(status=["draft", "submitted"]) == everyone
    assert ids(policy_area="roads-parks") == {fy2025["id"]}
    assert ids(fiscal_year=2025) == {fy2025["id"]}
    assert ids(fiscal_year=2026) == {fy2026["id"]}
    assert ids(q="段差") == {fy2025["id"]}
    assert ids(q="abc") == {draft["id"]}
    assert ids(q="中央区") == {chuo["id"]}
