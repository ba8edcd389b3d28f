"""What the agenda and the department queue keep in their own tables follows the records.

Both views keep titles, leads and the instants their clocks need instead of reading
the log at each request; these tests change each of those after the fact (a title
amended in draft, a transfer, a need moving to another proposal, time passing
without any event) and read the views again. Default targets: acknowledgement 5,
decision 30, feedback 10 business days; holidays 29 April, 4–6 May 2026.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from tests.e2e.conftest import NEED, Api, act

AGENDA = "/api/v1/views/ward-meeting-agenda"
QUEUE = "/api/v1/views/department-queue/"
SUBMITTED = "2026-04-01T10:00:00+09:00"  # Wed; acknowledgement due Wed 8 April


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def read(api: Api, path: str, **params: Any) -> dict[str, Any]:
    with api.as_("monitor") as client:
        return ok(client.get(path, params={"min_position": api.container.app.position(),
                                           **params}))


def need(api: Api, when: str, ward: str = "higashi", **changes: Any) -> str:
    """A need recorded and triaged at `when`."""
    person = "staff" if ward == "higashi" else "chuo_staff"
    places = {"ward": "chuo", "office": "chuo-ward-office",
              "school_district": "chuo-keitoku"} if ward == "chuo" else {}
    with api.as_(person) as client:
        body = ok(client.post("/api/v1/needs", json={**NEED, **places, "effective_at": when,
                                                     "observed_on": when[:10], **changes}))
    ok(act(api, person, "needs", body["id"], "triage", {"effective_at": when}))
    return str(body["id"])


def draft(api: Api, title: str = "最初の件名", lead: str = "transport-planning",
          needs: list[str] | None = None, when: str = SUBMITTED) -> str:
    body = {"ward": "higashi", "title": title, "summary": "要約",
            "needs": needs or [need(api, when)], "lead_department": lead,
            "co_departments": ["road-maintenance"], "policy_area": "transport",
            "plan_goals": [], "estimated_cost_jpy": None, "effective_at": when}
    with api.as_("staff") as client:
        return str(ok(client.post("/api/v1/proposals", json=body))["id"])


def step(api: Api, person: str, proposal_id: str, action: str, when: str,
         **body: Any) -> None:
    ok(act(api, person, "proposals", proposal_id, action, {"effective_at": when, **body}))


def queue_items(api: Api, department: str) -> dict[str, dict[str, Any]]:
    return {i["proposal"]: i for i in read(api, QUEUE + department)["items"]}


def overdue_by_division(body: dict[str, Any]) -> dict[str, list[str]]:
    return {o["department"]: o["proposals"] for o in body["overdue"]}


def test_titles_amended_in_draft_are_the_ones_the_agenda_and_queue_show(api: Api) -> None:
    p = draft(api)
    step(api, "staff", p, "amend", SUBMITTED, title="改めた件名")
    step(api, "mayor", p, "submit", SUBMITTED)
    step(api, "transport", p, "acknowledge", "2026-04-02T10:00:00+09:00")
    step(api, "transport", p, "decide", "2026-05-20T10:00:00+09:00", decision="accepted",
         reason="審査の結果")
    higashi = need(api, "2026-05-11T10:00:00+09:00")
    chuo = need(api, "2026-05-12T10:00:00+09:00", "chuo")
    ok(act(api, "staff", "needs", higashi, "amend",
           {"title": "ベンチと屋根がほしい", "effective_at": "2026-05-13T10:00:00+09:00"}))

    may = read(api, AGENDA, since="2026-05-01", until="2026-05-31")
    assert [(d["proposal"], d["title"]) for d in may["decisions"]] == [(p, "改めた件名")]
    [common] = may["common_needs"]
    assert common["needs"] == [higashi, chuo]
    assert common["titles"] == ["ベンチと屋根がほしい", NEED["title"]]
    assert queue_items(api, "transport-planning")[p]["title"] == "改めた件名"


def test_a_transfer_moves_the_proposal_to_the_new_leads_queue_and_overdue_list(
        api: Api) -> None:
    p = draft(api)
    step(api, "mayor", p, "submit", SUBMITTED)  # never acknowledged: overdue from 9 April
    step(api, "transport", p, "transfer", "2026-05-20T10:00:00+09:00",
         to_department="parks", reason="公園の案件")

    assert p not in queue_items(api, "transport-planning")
    assert queue_items(api, "parks")[p]["role"] == "lead"
    assert queue_items(api, "road-maintenance")[p]["role"] == "co"
    # overdue as of the end of April under the lead of the time, of May under the new one
    april = read(api, AGENDA, since="2026-04-01", until="2026-04-30")
    assert overdue_by_division(april) == {"transport-planning": [p]}
    may = read(api, AGENDA, since="2026-05-01", until="2026-05-31")
    assert overdue_by_division(may) == {"parks": [p]}


def test_a_need_moved_to_another_proposal_carries_its_urgency_to_that_queue_item(
        api: Api) -> None:
    urgent = draft(api, needs=[need(api, SUBMITTED, urgency="urgent")])
    calm = draft(api, needs=[need(api, SUBMITTED, urgency="low")])
    for p in (urgent, calm):
        step(api, "mayor", p, "submit", SUBMITTED)
    before = queue_items(api, "transport-planning")
    assert (before[urgent]["urgency"], before[calm]["urgency"]) == ("urgent", "low")

    step(api, "transport", urgent, "merge", "2026-04-03T10:00:00+09:00", into=calm,
         reason="同じ場所の案件")

    after = queue_items(api, "transport-planning")
    assert after[calm]["urgency"] == "urgent"
    assert after[urgent]["status"] == "merged"  # owes feedback: still on the lead's desk
    assert after[urgent]["urgency"] == "normal"  # no need of its own left
    assert after[urgent]["clock"] is None  # merge cancels every clock


def test_time_passing_makes_an_item_overdue_without_any_event(api: Api) -> None:
    c = api.container
    now = c.now()
    submitted = now - timedelta(hours=1)
    p = draft(api, when=submitted.isoformat())
    step(api, "mayor", p, "submit", submitted.isoformat())
    read(api, QUEUE + "transport-planning")  # the views have caught up

    def queue_at(instant: datetime) -> Any:
        items, _ = c.department_queue.queue("transport-planning", c.calendar, instant, 200)
        [item] = [i for i in items if str(i.proposal.id) == p]
        return item

    def overdue_at(instant: datetime) -> dict[str, list[str]]:
        day = instant.date()
        agenda = c.ward_agenda.agenda(day - timedelta(days=30), day, None, c.city,
                                      c.calendar, instant)
        return {o["department"]: o["proposals"] for o in agenda.overdue}

    fresh = queue_at(now)
    assert (fresh.clock, fresh.overdue) == ("acknowledgement", False)
    assert p not in overdue_at(now).get("transport-planning", [])
    due: date = fresh.due_on
    later = datetime.combine(due + timedelta(days=1), now.timetz())
    stale = queue_at(later)
    assert (stale.clock, stale.due_on, stale.overdue) == ("acknowledgement", due, True)
    assert stale.business_days_open > fresh.business_days_open
    assert p in overdue_at(later)["transport-planning"]
