"""The Permissions rows for proposals, over HTTP: who may, and who gets 403 with no change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Api, new_proposal, submitted_proposal, triaged_need
from tests.e2e.test_proposals_http import FEEDBACK, PROBLEM, get, ok, refused

WARD_OK = ("staff", "mayor", "admin")
WARD_NO = ("chuo_staff", "chuo_mayor", "transport", "room", "monitor")
LEAD_OK = ("transport", "transport2", "admin")
LEAD_NO = ("roads", "parks", "staff", "mayor", "monitor")


def in_status(api: Api, status: str) -> dict[str, Any]:
    """A fresh proposal of higashi (lead transport-planning, co road-maintenance)."""
    if status == "draft":
        return new_proposal(api)
    p = submitted_proposal(api)
    steps: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "submitted": [],
        "info_requested": [("request-info", {"question": "詳細は?"})],
        "accepted": [("decide", {"decision": "accepted", "reason": "r"})],
        "rejected": [("decide", {"decision": "rejected", "reason": "r"})],
        "budget_requested": [("decide", {"decision": "accepted", "reason": "r"}),
                             ("request-budget", {"fiscal_year": 2027, "amount_jpy": 10})],
        "in_progress": [("decide", {"decision": "accepted", "reason": "r"}),
                        ("start-implementation", {})],
        "completed": [("decide", {"decision": "accepted", "reason": "r"}),
                      ("start-implementation", {}), ("complete", {"summary": "s"})],
    }
    for action, body in steps[status]:
        p = ok(api, "transport", p["id"], action, body)
    assert p["status"] == status
    return p


def merge_body(api: Api) -> dict[str, Any]:
    return {"into": submitted_proposal(api)["id"], "reason": "重複"}


Body = dict[str, Any] | Callable[[Api], dict[str, Any]]

#: action → (status it is tried in, body, who may, who may not)
ROWS: dict[str, tuple[str, Body, tuple[str, ...], tuple[str, ...]]] = {
    "amend": ("draft", {"title": "改題"}, WARD_OK, WARD_NO),
    "withdraw": ("submitted", {"reason": "取り下げ"}, WARD_OK, WARD_NO),
    "provide-info": ("info_requested", {"answer": "回答"}, WARD_OK, WARD_NO),
    "submit": ("draft", {}, ("mayor", "admin"),
               ("staff", "chuo_mayor", "transport", "monitor")),
    "acknowledge": ("submitted", {"note": "受領"}, LEAD_OK, LEAD_NO),
    "start-review": ("submitted", {}, LEAD_OK, LEAD_NO),
    "decide": ("submitted", {"decision": "accepted", "reason": "r"}, LEAD_OK, LEAD_NO),
    "request-budget": ("accepted", {"fiscal_year": 2027, "amount_jpy": 100}, LEAD_OK,
                       LEAD_NO),
    "record-budget": ("budget_requested",
                      {"outcome": "budgeted", "fiscal_year": 2027, "amount_jpy": 100},
                      LEAD_OK, LEAD_NO),
    "start-implementation": ("accepted", {}, LEAD_OK, LEAD_NO),
    "complete": ("in_progress", {"summary": "完了"}, LEAD_OK, LEAD_NO),
    "transfer": ("submitted", {"to_department": "parks", "reason": "所管"}, LEAD_OK,
                 LEAD_NO),
    "merge": ("submitted", merge_body, LEAD_OK, LEAD_NO),
    "request-info": ("submitted", {"question": "質問"}, ("transport", "roads", "admin"),
                     ("parks", "staff", "mayor", "monitor")),
    "feedback": ("rejected", FEEDBACK, ("transport", "staff", "mayor", "admin"),
                 ("roads", "parks", "chuo_staff", "chuo_mayor", "room", "monitor")),
    "evaluate": ("completed", {"satisfaction": 3}, ("transport", "staff", "mayor", "admin"),
                 ("roads", "parks", "chuo_staff", "chuo_mayor", "room", "monitor")),
}


@pytest.mark.parametrize("action", list(ROWS))
def test_proposal_action_permissions(api: Api, action: str) -> None:
    status, body, allowed, forbidden = ROWS[action]
    target = in_status(api, status)
    payload = body(api) if callable(body) else body
    for person in forbidden:
        refused(api, person, "proposals", target["id"], action, payload, 403, "not-permitted")
    for person in allowed:
        proposal = in_status(api, status)
        payload = body(api) if callable(body) else body
        out = ok(api, person, proposal["id"], action, payload)
        assert out["version"] == proposal["version"] + 1, (action, person)


def test_create_is_for_the_wards_staff_or_mayor_or_admin(api: Api) -> None:
    need = triaged_need(api)
    body = {"ward": "higashi", "title": "t", "needs": [need["id"]],
            "lead_department": "transport-planning", "policy_area": "transport"}
    for person in ("chuo_staff", "chuo_mayor", "transport", "room", "monitor"):
        with api.as_(person) as client:
            response = client.post("/api/v1/proposals", json=body)
        assert response.status_code == 403, (person, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["type"].endswith("/not-permitted")
    assert get(api, "needs", need["id"])["status"] == "triaged"
    with api.as_("monitor") as client:
        listed = client.get("/api/v1/proposals", params={"min_position": 0}).json()
    assert listed["items"] == []
    for person in WARD_OK:
        with api.as_(person) as client:
            response = client.post("/api/v1/proposals",
                                   json={**body, "needs": [triaged_need(api)["id"]]})
        assert response.status_code == 201, (person, response.text)


def test_transferred_lead_takes_over_the_lead_only_rows(api: Api) -> None:
    p = in_status(api, "submitted")
    ok(api, "transport", p["id"], "transfer", {"to_department": "parks", "reason": "所管"})
    for person in ("transport", "transport2"):
        refused(api, person, "proposals", p["id"], "decide",
                {"decision": "accepted", "reason": "r"}, 403, "not-permitted")
    # the co-division stays a co-division and may still ask questions
    ok(api, "roads", p["id"], "request-info", {"question": "q"}, "info_requested")
    ok(api, "staff", p["id"], "provide-info", {"answer": "a"}, "under_review")
    ok(api, "parks", p["id"], "decide", {"decision": "accepted", "reason": "r"}, "accepted")


def test_anonymous_and_bad_token_get_401(api: Api) -> None:
    p = new_proposal(api)
    with api.anonymous() as client:
        response = client.post(f"/api/v1/proposals/{p['id']}/submit", json={})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        response = client.post(f"/api/v1/proposals/{p['id']}/submit", json={},
                               headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
    assert get(api, "proposals", p["id"])["version"] == p["version"]
