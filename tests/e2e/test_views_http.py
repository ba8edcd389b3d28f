"""The views of api.md "Views": department queue, ward and office feedback, over HTTP.

Histories are built by hand; the expected contents are worked out here by hand
(due dates from the default targets of transport-planning: acknowledgement 5,
decision 30, feedback 10 business days).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.e2e.conftest import Api, act, new_need, new_proposal, submitted_proposal
from tests.e2e.test_conventions import assert_problem

VIEWS = "/api/v1/views"
#: Monday 2 June 2025, 10:00 JST — long ago, no holidays nearby
T0 = "2025-06-02T10:00:00+09:00"
#: Tuesday 3 June 2025, 10:00 JST
T1 = "2025-06-03T10:00:00+09:00"


def get_view(api: Api, path: str, person: str = "admin", **params: Any) -> dict[str, Any]:
    """GET a view once it reflects everything written so far."""
    with api.as_(person) as client:
        response = client.get(f"{VIEWS}/{path}",
                              params={"min_position": api.container.app.position(), **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def queue(api: Api, department: str) -> list[dict[str, Any]]:
    body = get_view(api, f"department-queue/{department}")
    assert body["department"] == department
    assert body["next_cursor"] is None
    assert body["as_of"]
    return list(body["items"])


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def need_at(api: Api, when: str | None = None, **changes: Any) -> dict[str, Any]:
    """A need recorded and triaged (at `when`, if given)."""
    stamp = {"effective_at": when} if when else {}
    body = {"observed_on": "2025-05-30", **stamp, **changes} if when else changes
    need = new_need(api, **body)
    return ok(act(api, "staff", "needs", need["id"], "triage", stamp))


def proposal_at(api: Api, when: str, needs: list[str], **changes: Any) -> dict[str, Any]:
    """A proposal drafted and submitted at `when`."""
    draft = new_proposal(api, needs=needs, effective_at=when, **changes)
    return ok(act(api, "mayor", "proposals", draft["id"], "submit", {"effective_at": when}))


# ── department queue ───────────────────────────────────────────────────────

def test_queue_lists_lead_and_co_proposals_with_clocks_urgency_and_order(api: Api) -> None:
    # Submitted long ago and never acknowledged: acknowledgement due 5 business
    # days after Mon 2 June 2025 = Mon 9 June 2025, long past.
    old = proposal_at(api, T0, [need_at(api, T0, urgency="high")["id"]])
    # Acknowledged the day it came in: the decision clock runs, due 30 business
    # days after Tue 3 June 2025 = Tue 15 July 2025 (no holiday in between).
    acked = proposal_at(api, T1, [need_at(api, T1, urgency="low")["id"]])
    ok(act(api, "transport", "proposals", acked["id"], "acknowledge", {"effective_at": T1}))
    # Two submitted now, the same day: same due date, so the urgent one goes first
    # although submitted later.
    fresh_low = submitted_proposal(api, needs=[need_at(api, urgency="low")["id"]])
    fresh_urgent = submitted_proposal(api, needs=[need_at(api, urgency="urgent")["id"]])
    # Not on transport-planning's desk: a draft, and a proposal of another division.
    new_proposal(api)
    parks = submitted_proposal(api, lead_department="parks", co_departments=[])

    items = queue(api, "transport-planning")
    assert [i["proposal"] for i in items] == [old["id"], acked["id"], fresh_urgent["id"],
                                             fresh_low["id"]]
    first, second, third, fourth = items
    now = datetime.now(UTC)
    assert first == {
        "proposal": old["id"], "title": old["title"], "ward": "higashi",
        "status": "submitted", "role": "lead", "urgency": "high",
        "submitted_at": "2025-06-02T10:00:00+09:00", "clock": "acknowledgement",
        "due_on": "2025-06-09",
        "business_days_open": api.container.calendar.elapsed(
            datetime.fromisoformat(T0), now),
        "overdue": True,
    }
    assert first["business_days_open"] > 300
    assert (second["status"], second["clock"], second["due_on"], second["overdue"],
            second["urgency"], second["role"]) == \
        ("acknowledged", "decision", "2025-07-15", True, "low", "lead")
    assert (third["urgency"], third["clock"], third["overdue"], third["business_days_open"]) \
        == ("urgent", "acknowledgement", False, 0)
    assert (fourth["urgency"], fourth["clock"], fourth["overdue"]) == \
        ("low", "acknowledgement", False)
    assert third["due_on"] == fourth["due_on"]
    assert third["submitted_at"] > fourth["submitted_at"]

    # The co-division sees the same open proposals, as co.
    co_items = queue(api, "road-maintenance")
    assert [i["proposal"] for i in co_items] == [i["proposal"] for i in items]
    assert {i["role"] for i in co_items} == {"co"}

    parks_items = queue(api, "parks")
    assert [(i["proposal"], i["role"]) for i in parks_items] == [(parks["id"], "lead")]


def test_paused_clock_is_not_the_running_one(api: Api) -> None:
    proposal = proposal_at(api, T0, [need_at(api, T0)["id"]])
    ok(act(api, "transport", "proposals", proposal["id"], "request-info",
           {"question": "設置場所は?", "effective_at": T1}))
    # acknowledgement stopped by the request, decision paused: no running clock
    [item] = queue(api, "transport-planning")
    assert (item["status"], item["clock"], item["due_on"], item["overdue"]) == \
        ("info_requested", None, None, False)


def test_final_proposal_stays_with_the_lead_until_feedback(api: Api) -> None:
    proposal = proposal_at(api, T0, [need_at(api, T0)["id"]])
    # Rejected on Tue 3 June 2025: the feedback clock starts, due 10 business days
    # later = Tue 17 June 2025.
    ok(act(api, "transport", "proposals", proposal["id"], "decide",
           {"decision": "rejected", "reason": "予算の都合", "effective_at": T1}))
    [item] = queue(api, "transport-planning")
    assert (item["proposal"], item["status"], item["role"], item["clock"], item["due_on"],
            item["overdue"]) == (proposal["id"], "rejected", "lead", "feedback",
                                 "2025-06-17", True)
    # The co-division only sees open proposals.
    assert queue(api, "road-maintenance") == []

    ok(act(api, "transport", "proposals", proposal["id"], "feedback",
           {"message": "今回は見送りです", "channel": "letter", "delivered_on": "2025-06-10"}))
    assert queue(api, "transport-planning") == []


def test_a_transfer_moves_the_proposal_to_the_new_lead(api: Api) -> None:
    kept = submitted_proposal(api)
    moved = submitted_proposal(api)
    ok(act(api, "transport", "proposals", moved["id"], "transfer",
           {"to_department": "parks", "reason": "所管は公園課"}))
    items = queue(api, "transport-planning")
    assert [i["proposal"] for i in items] == [kept["id"]]
    assert [(i["proposal"], i["role"]) for i in queue(api, "parks")] == [(moved["id"], "lead")]
    # road-maintenance stays co on the transferred one
    assert {i["proposal"] for i in queue(api, "road-maintenance")} == {kept["id"], moved["id"]}


def test_urgency_follows_needs_joining_and_leaving(api: Api) -> None:
    urgent = need_at(api, urgency="urgent")
    low = need_at(api, urgency="low")
    draft = new_proposal(api, needs=[urgent["id"]])
    ok(act(api, "staff", "proposals", draft["id"], "amend", {"needs": [low["id"]]}))
    ok(act(api, "mayor", "proposals", draft["id"], "submit"))
    without = submitted_proposal(api, needs=[])
    items = {i["proposal"]: i for i in queue(api, "transport-planning")}
    assert items[draft["id"]]["urgency"] == "low"
    assert items[without["id"]]["urgency"] == "normal"
    # the urgent need left the draft: triaged again, can raise another proposal
    other = submitted_proposal(api, needs=[urgent["id"]])
    items = {i["proposal"]: i for i in queue(api, "transport-planning")}
    assert items[other["id"]]["urgency"] == "urgent"
    # urgent first among the same due date
    assert next(iter(items)) == other["id"]


def test_queue_of_an_unknown_department_is_404(api: Api) -> None:
    with api.as_("admin") as client:
        assert_problem(client.get(f"{VIEWS}/department-queue/no-such-division"), 404)
    with api.anonymous() as client:
        assert_problem(client.get(f"{VIEWS}/department-queue/transport-planning"), 401)


# ── ward and office feedback ───────────────────────────────────────────────

def test_ward_and_office_feedback(api: Api) -> None:
    local = need_at(api)
    ok(act(api, "staff", "needs", local["id"], "resolve-locally", {"note": "区で対応"}))
    ok(act(api, "staff", "needs", local["id"], "feedback",
           {"message": "区で街灯を修理しました", "channel": "notice_board",
            "delivered_on": "2026-11-01"}))
    proposed = need_at(api, office="higashi-exchange-room-2")
    proposal = submitted_proposal(api, needs=[proposed["id"]])
    untouched = new_need(api)

    items = get_view(api, "ward-feedback/higashi")["items"]
    assert [i["need"] for i in items] == [untouched["id"], proposed["id"], local["id"]]
    assert items[0] == {"need": untouched["id"], "title": untouched["title"],
                        "status": "recorded", "proposal": None, "proposal_status": None,
                        "latest_feedback": None}
    assert items[1] == {"need": proposed["id"], "title": proposed["title"],
                        "status": "proposed", "proposal": proposal["id"],
                        "proposal_status": "submitted", "latest_feedback": None}
    assert items[2] == {"need": local["id"], "title": local["title"], "status": "closed",
                        "proposal": None, "proposal_status": None,
                        "latest_feedback": {"message": "区で街灯を修理しました",
                                            "delivered_on": "2026-11-01"}}

    # The proposal's decision and feedback reach its needs' rows.
    ok(act(api, "transport", "proposals", proposal["id"], "decide",
           {"decision": "accepted", "reason": "必要性が高い"}))
    ok(act(api, "transport", "proposals", proposal["id"], "feedback",
           {"message": "採択されました", "channel": "council_meeting",
            "delivered_on": "2026-11-10"}))
    ok(act(api, "staff", "proposals", proposal["id"], "feedback",
           {"message": "来年度に設置予定です", "channel": "letter",
            "delivered_on": "2026-11-20"}))
    body = get_view(api, "office-feedback/higashi-exchange-room-2")
    assert body["office"] == "higashi-exchange-room-2"
    assert body["next_cursor"] is None
    assert body["items"] == [{"need": proposed["id"], "title": proposed["title"],
                              "status": "proposed", "proposal": proposal["id"],
                              "proposal_status": "accepted",
                              "latest_feedback": {"message": "来年度に設置予定です",
                                                  "delivered_on": "2026-11-20"}}]
    room1 = get_view(api, "office-feedback/higashi-exchange-room-1")["items"]
    assert [i["need"] for i in room1] == [untouched["id"], local["id"]]

    # Paging, newest first.
    first = get_view(api, "ward-feedback/higashi", limit=2)
    assert first["ward"] == "higashi"
    assert [i["need"] for i in first["items"]] == [untouched["id"], proposed["id"]]
    assert first["next_cursor"]
    rest = get_view(api, "ward-feedback/higashi", limit=2, cursor=first["next_cursor"])
    assert [i["need"] for i in rest["items"]] == [local["id"]]
    assert rest["next_cursor"] is None

    # Another ward, known but quiet.
    assert get_view(api, "ward-feedback/chuo") == {"ward": "chuo", "items": [],
                                                    "next_cursor": None}


def test_feedback_after_final_closes_the_needs(api: Api) -> None:
    need = need_at(api)
    proposal = submitted_proposal(api, needs=[need["id"]])
    ok(act(api, "transport", "proposals", proposal["id"], "decide",
           {"decision": "rejected", "reason": "対象外"}))
    ok(act(api, "transport", "proposals", proposal["id"], "feedback",
           {"message": "不採択となりました", "channel": "letter", "delivered_on": "2026-11-25"}))
    [item] = get_view(api, "ward-feedback/higashi")["items"]
    assert item == {"need": need["id"], "title": need["title"], "status": "closed",
                    "proposal": proposal["id"], "proposal_status": "rejected",
                    "latest_feedback": {"message": "不採択となりました",
                                        "delivered_on": "2026-11-25"}}


def test_feedback_views_404_and_bad_cursor(api: Api) -> None:
    with api.as_("admin") as client:
        assert_problem(client.get(f"{VIEWS}/ward-feedback/atlantis"), 404)
        assert_problem(client.get(f"{VIEWS}/office-feedback/no-such-office"), 404)
        assert_problem(client.get(f"{VIEWS}/ward-feedback/higashi",
                                  params={"cursor": "not-a-cursor"}), 422)
    with api.anonymous() as client:
        assert_problem(client.get(f"{VIEWS}/ward-feedback/higashi"), 401)
