"""The ward meeting agenda of api.md "Views", over HTTP, for May 2026.

The histories are recorded after the fact (`effective_at` in the past); what the
agenda of 1–31 May 2026 must say is worked out here by hand. Default targets
(acknowledgement 5, decision 30, feedback 10 business days) hold for
transport-planning and parks; road-maintenance differs only in its decision
target. Holidays: 29 April, 4–6 May 2026.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import NEED, Api, act, new_need
from tests.e2e.test_conventions import assert_problem

AGENDA = "/api/v1/views/ward-meeting-agenda"
MAY = {"since": "2026-05-01", "until": "2026-05-31"}
CHUO_NEED = {"ward": "chuo", "office": "chuo-ward-office", "school_district": "chuo-keitoku"}

#: long before the period: needs heard, proposals drafted and submitted (Wed 1 April)
HEARD = "2026-03-20T10:00:00+09:00"
SUBMITTED = "2026-04-01T10:00:00+09:00"
ACKNOWLEDGED = "2026-04-02T10:00:00+09:00"
ACCEPTED_EARLY = "2026-04-10T10:00:00+09:00"
BUDGET_ASKED = "2026-04-15T10:00:00+09:00"
#: the edges of the period, in JST (the UTC dates differ from the JST ones)
JUST_BEFORE = "2026-04-30T23:59:00+09:00"   # 30 April, 14:59 UTC
FIRST_INSTANT = "2026-05-01T00:00:00+09:00"  # 1 May JST, still 30 April in UTC
LAST_EVENING = "2026-05-31T23:30:00+09:00"   # 31 May JST
JUST_AFTER = "2026-06-01T00:10:00+09:00"     # 1 June JST, still 31 May in UTC


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def agenda(api: Api, **params: Any) -> dict[str, Any]:
    with api.as_("monitor") as client:
        response = client.get(AGENDA, params={"min_position": api.container.app.position(),
                                              **MAY, **params})
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert set(body) == {"since", "until", "ward", "decisions", "budget_outcomes", "feedback",
                         "overdue", "awaiting_ward", "common_needs"}
    return titles_checked(body)


def titles_checked(body: dict[str, Any]) -> dict[str, Any]:
    """Every item names its proposal (or needs) by title, so a meeting can read it; the
    titles are checked here and taken out, leaving the rest to compare by hand."""
    for key in ("decisions", "budget_outcomes", "feedback"):
        for item in body[key]:
            assert item.pop("title") == f"{item['ward']} の提案"
    for key in ("overdue", "awaiting_ward"):
        for group in body[key]:
            titles = group.pop("titles")
            assert len(titles) == len(group["proposals"])
            assert all(t in ("higashi の提案", "chuo の提案") for t in titles)
    for group in body["common_needs"]:
        assert group.pop("titles") == [NEED["title"]] * len(group["needs"])
    return body


def need(api: Api, when: str, ward: str = "higashi", triage: bool = False,
         **changes: Any) -> str:
    """A need recorded at `when` (and triaged then), returning its id."""
    person = "staff" if ward == "higashi" else "chuo_staff"
    fields = CHUO_NEED if ward == "chuo" else {}
    body = new_need(api, person, effective_at=when, observed_on=when[:10], **fields,
                    **changes)
    if triage:
        ok(act(api, person, "needs", body["id"], "triage", {"effective_at": when}))
    return str(body["id"])


def proposal(api: Api, ward: str = "higashi", lead: str = "transport-planning",
             submitted: str = SUBMITTED) -> str:
    """A proposal of `ward` led by `lead`, drafted and submitted at `submitted`."""
    staff, mayor = ("staff", "mayor") if ward == "higashi" else ("chuo_staff", "chuo_mayor")
    body = {"ward": ward, "title": f"{ward} の提案", "summary": "要約",
            "needs": [need(api, HEARD, ward, triage=True)], "lead_department": lead,
            "co_departments": [], "policy_area": "transport", "plan_goals": [],
            "estimated_cost_jpy": None, "effective_at": submitted}
    with api.as_(staff) as client:
        created = ok(client.post("/api/v1/proposals", json=body))
    ok(act(api, mayor, "proposals", created["id"], "submit", {"effective_at": submitted}))
    return str(created["id"])


def step(api: Api, person: str, proposal_id: str, action: str, when: str,
         **body: Any) -> None:
    ok(act(api, person, "proposals", proposal_id, action, {"effective_at": when, **body}))


def decide(api: Api, proposal_id: str, decision: str, when: str, person: str = "transport",
           **body: Any) -> None:
    step(api, person, proposal_id, "decide", when, decision=decision, reason="審査の結果",
         **body)


def feedback(api: Api, proposal_id: str, when: str, delivered_on: str,
             channel: str = "council_meeting") -> None:
    step(api, "transport", proposal_id, "feedback", when, message="結果をお知らせします",
         channel=channel, delivered_on=delivered_on)


def budget(api: Api, proposal_id: str, outcome: str, when: str) -> None:
    step(api, "transport", proposal_id, "request-budget", BUDGET_ASKED, fiscal_year=2026,
         amount_jpy=4_800_000)
    step(api, "transport", proposal_id, "record-budget", when, outcome=outcome,
         fiscal_year=2026, amount_jpy=4_800_000)


def build_may(api: Api) -> dict[str, str]:
    """The histories behind the May agenda; returns the proposals and needs by name."""
    ids: dict[str, str] = {}
    # a: acknowledged at once, accepted late on 31 May (in), told on 1 June (out).
    ids["a"] = a = proposal(api)
    step(api, "transport", a, "acknowledge", ACKNOWLEDGED)
    decide(api, a, "accepted", LAST_EVENING)
    feedback(api, a, JUST_AFTER, "2026-06-01")
    # b: acknowledged, rejected just after midnight on 1 June (out of the period);
    # its decision clock (due 30 business days after 1 April = 19 May) ran past due
    # until then, so at the end of 31 May it is overdue for transport-planning.
    ids["b"] = b = proposal(api)
    step(api, "transport", b, "acknowledge", ACKNOWLEDGED)
    decide(api, b, "rejected", JUST_AFTER)
    # c: accepted in April, budgeted at the first instant of May (in), feedback on
    # 20 May (in).
    ids["c"] = c = proposal(api)
    step(api, "transport", c, "acknowledge", ACKNOWLEDGED)
    decide(api, c, "accepted", ACCEPTED_EARLY)
    budget(api, c, "budgeted", FIRST_INSTANT)
    feedback(api, c, "2026-05-20T15:00:00+09:00", "2026-05-19")
    # d: accepted in April, not budgeted and told the last minute of April (both out).
    ids["d"] = d = proposal(api)
    step(api, "transport", d, "acknowledge", ACKNOWLEDGED)
    decide(api, d, "accepted", ACCEPTED_EARLY)
    budget(api, d, "not_budgeted", JUST_BEFORE)
    feedback(api, d, "2026-04-30T23:59:30+09:00", "2026-04-30", channel="letter")
    # e: higashi, parks asks a question on 8 May that is still open: awaiting higashi.
    ids["e"] = e = proposal(api, lead="parks", submitted="2026-05-07T10:00:00+09:00")
    step(api, "parks", e, "request-info", "2026-05-08T10:00:00+09:00", question="場所は?")
    # f: chuo, asked on 8 May, answered only on 1 June: awaiting chuo at the end of May.
    ids["f"] = f = proposal(api, ward="chuo", submitted="2026-05-07T10:00:00+09:00")
    step(api, "transport", f, "request-info", "2026-05-08T10:00:00+09:00", question="予算は?")
    step(api, "chuo_staff", f, "provide-info", JUST_AFTER, answer="500万円です")
    # g: higashi, parks never acknowledged it: overdue for parks.
    ids["g"] = proposal(api, lead="parks")
    # h: chuo, road-maintenance never acknowledged it: overdue for road-maintenance.
    ids["h"] = proposal(api, ward="chuo", lead="road-maintenance")
    # i: chuo, deferred on Fri 15 May (in); no feedback within 10 business days
    # (due Fri 29 May), so overdue for transport-planning at the end of May.
    ids["i"] = i = proposal(api, ward="chuo")
    step(api, "transport", i, "acknowledge", ACKNOWLEDGED)
    decide(api, i, "deferred", "2026-05-15T10:00:00+09:00", deferred_to_fiscal_year=2027)
    # Needs heard in May: transport in both wards (common), roads and parks in
    # higashi only (the chuo one came just after the period), safety in chuo in
    # the period and in higashi just before it.
    ids["n_transport_higashi"] = need(api, "2026-05-10T10:00:00+09:00")
    ids["n_transport_chuo"] = need(api, "2026-05-12T10:00:00+09:00", "chuo")
    ids["n_roads_1"] = need(api, "2026-05-11T10:00:00+09:00", policy_area="roads-parks")
    ids["n_roads_2"] = need(api, "2026-05-13T10:00:00+09:00", policy_area="roads-parks")
    need(api, JUST_AFTER, "chuo", policy_area="roads-parks")
    ids["n_safety_chuo"] = need(api, LAST_EVENING, "chuo", policy_area="safety")
    need(api, JUST_BEFORE, policy_area="safety")
    return ids


def test_agenda_of_may_worked_out_by_hand(api: Api) -> None:
    ids = build_may(api)
    a, b, c, e, f, g, h, i = (ids[k] for k in "abcefghi")
    body = agenda(api)
    assert (body["since"], body["until"], body["ward"]) == ("2026-05-01", "2026-05-31", None)
    # Decisions in May JST: i on 15 May, a at 23:30 on 31 May; not b (1 June JST,
    # although 31 May in UTC), nor the April ones.
    assert body["decisions"] == [
        {"proposal": i, "ward": "chuo", "decision": "deferred",
         "decided_at": "2026-05-15T10:00:00+09:00"},
        {"proposal": a, "ward": "higashi", "decision": "accepted",
         "decided_at": "2026-05-31T23:30:00+09:00"},
    ]
    # Budget: c at 00:00 on 1 May (30 April in UTC) is in; d at 23:59 on 30 April is not.
    assert body["budget_outcomes"] == [
        {"proposal": c, "ward": "higashi", "outcome": "budgeted", "amount_jpy": 4_800_000}]
    # Feedback: c on 20 May; not d (30 April) nor a (1 June).
    assert body["feedback"] == [
        {"proposal": c, "ward": "higashi", "delivered_on": "2026-05-19",
         "channel": "council_meeting"}]
    # As of the end of 31 May: by lead division, most overdue first (b's decision
    # was due 19 May, i's feedback 29 May).
    assert body["overdue"] == [
        {"department": "parks", "proposals": [g]},
        {"department": "road-maintenance", "proposals": [h]},
        {"department": "transport-planning", "proposals": [b, i]},
    ]
    assert body["awaiting_ward"] == [{"ward": "chuo", "proposals": [f]},
                                     {"ward": "higashi", "proposals": [e]}]
    assert body["common_needs"] == [
        {"policy_area": "transport", "wards": ["chuo", "higashi"],
         "needs": [ids["n_transport_higashi"], ids["n_transport_chuo"]]}]


def test_ward_filter_and_later_periods(api: Api) -> None:
    ids = build_may(api)
    a, b, c, e, f, g, h, i = (ids[k] for k in "abcefghi")
    higashi = agenda(api, ward="higashi")
    assert higashi["ward"] == "higashi"
    assert [d["proposal"] for d in higashi["decisions"]] == [a]
    assert [d["proposal"] for d in higashi["budget_outcomes"]] == [c]
    assert [d["proposal"] for d in higashi["feedback"]] == [c]
    assert higashi["overdue"] == [{"department": "parks", "proposals": [g]},
                                  {"department": "transport-planning", "proposals": [b]}]
    assert higashi["awaiting_ward"] == [{"ward": "higashi", "proposals": [e]}]
    # the shared transport needs concern higashi: the group is shown whole
    assert [n["policy_area"] for n in higashi["common_needs"]] == ["transport"]

    chuo = agenda(api, ward="chuo")
    assert [d["proposal"] for d in chuo["decisions"]] == [i]
    assert chuo["budget_outcomes"] == [] and chuo["feedback"] == []
    assert chuo["overdue"] == [{"department": "road-maintenance", "proposals": [h]},
                               {"department": "transport-planning", "proposals": [i]}]
    assert chuo["awaiting_ward"] == [{"ward": "chuo", "proposals": [f]}]

    # a ward with nothing in May, and no need shared with another ward
    kita = agenda(api, ward="kita")
    assert all(kita[k] == [] for k in ("decisions", "budget_outcomes", "feedback",
                                       "overdue", "awaiting_ward", "common_needs"))

    # 31 May alone: a's decision; the safety need of chuo has no partner that day
    last_day = agenda(api, since="2026-05-31", until="2026-05-31")
    assert [d["proposal"] for d in last_day["decisions"]] == [a]
    assert last_day["common_needs"] == []

    # 1 June alone: b's rejection, a's feedback, f answered, b decided; the period
    # ends today at the latest, so everything stuck now is as of now.
    june_first = agenda(api, since="2026-06-01", until="2026-06-01")
    assert [(d["proposal"], d["decision"]) for d in june_first["decisions"]] == [
        (b, "rejected")]
    assert [d["proposal"] for d in june_first["feedback"]] == [a]
    assert june_first["awaiting_ward"] == [{"ward": "higashi", "proposals": [e]}]
    overdue = {o["department"]: o["proposals"] for o in june_first["overdue"]}
    assert b not in overdue.get("transport-planning", [])

    # a period far ahead is read as of now
    future = agenda(api, since="2027-01-01", until="2027-01-31")
    assert future["decisions"] == [] and future["common_needs"] == []
    assert future["awaiting_ward"] == [{"ward": "higashi", "proposals": [e]}]


def test_agenda_refuses_bad_periods_and_unknown_wards(api: Api) -> None:
    with api.as_("monitor") as client:
        backwards = client.get(AGENDA, params={"since": "2026-06-01", "until": "2026-05-31"})
        assert_problem(backwards, 422)
        assert backwards.json()["errors"][0]["loc"] == ["query", "since"]
        assert_problem(client.get(AGENDA, params={"since": "2026-05-01"}), 422)
        assert_problem(client.get(AGENDA, params={"until": "2026-05-31"}), 422)
        assert_problem(client.get(AGENDA, params={"since": "May", "until": "2026-05-31"}), 422)
        unknown = assert_problem(client.get(AGENDA, params={**MAY, "ward": "atlantis"}), 422)
        assert unknown["errors"][0]["loc"] == ["query", "ward"]  # like an unknown ward in a body
        # one day is a period
        assert client.get(AGENDA, params={"since": "2026-05-31",
                                          "until": "2026-05-31"}).status_code == 200
    with api.anonymous() as client:
        assert client.get(AGENDA, params=MAY).status_code == 401
