"""Needs over HTTP: record, act, read, search, and keep the reporter's personal data apart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.conftest import NEED, Api, act, new_need, new_proposal, triaged_need

NEEDS = "/api/v1/needs"
FEEDBACK = {"message": "区で対応しました", "channel": "council_meeting",
            "delivered_on": "2026-11-30"}
REPORTER = {"name": "熊本花子テスト", "contact": "hanako-secret@example.jp"}
BODIES: dict[str, dict[str, Any]] = {
    "triage": {"urgency": "high", "note": "確認"},
    "resolve-locally": {"note": "区で解決"},
    "decline": {"reason": "対象外"},
    "feedback": FEEDBACK,
    "amend": {"title": "直した題"},
}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status and body["type"] and body["title"] and body["detail"]
    return body


def get(api: Api, need_id: str, person: str = "admin") -> dict[str, Any]:
    with api.as_(person) as client:
        response = client.get(f"{NEEDS}/{need_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(api: Api, need_id: str) -> list[dict[str, Any]]:
    with api.as_("monitor") as client:
        response = client.get(f"{NEEDS}/{need_id}/history", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def state(api: Api, need_id: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    return api.container.app.position(), get(api, need_id), history(api, need_id)


def listed(api: Api, **params: Any) -> list[str]:
    params = {"limit": 200, "min_position": api.container.app.position(), **params}
    with api.as_("monitor") as client:
        response = client.get(NEEDS, params=params)
    assert response.status_code == 200, response.text
    return [n["id"] for n in response.json()["items"]]


def need_in(api: Api, status: str) -> dict[str, Any]:
    """A need brought to `status` over HTTP."""
    if status == "recorded":
        return new_need(api)
    if status == "triaged":
        return triaged_need(api)
    if status == "proposed":
        need = triaged_need(api)
        new_proposal(api, needs=[need["id"]])
        return get(api, need["id"])
    need = new_need(api)
    if status in ("resolved_locally", "declined", "closed"):
        action = "decline" if status == "declined" else "resolve-locally"
        response = act(api, "staff", "needs", need["id"], action, BODIES[action])
    else:
        other = new_need(api)
        response = act(api, "staff", "needs", need["id"], "merge", {"into": other["id"]})
    assert response.status_code == 200, response.text
    if status == "closed":
        response = act(api, "staff", "needs", need["id"], "feedback", FEEDBACK)
        assert response.status_code == 200, response.text
    assert response.json()["status"] == status
    return dict(response.json())


# ── recording ──────────────────────────────────────────────────────────────

def test_recording_a_need_answers_201_with_location_and_every_field(api: Api) -> None:
    body = {**NEED, "location": {"lat": 32.79, "lon": 130.74, "address": "東区桜木"},
            "plan_goals": ["6-2-1"], "reporter": REPORTER}
    with api.as_("room") as client:
        response = client.post(NEEDS, json=body)
    assert response.status_code == 201, response.text
    need = response.json()
    assert response.headers["location"].endswith(f"/api/v1/needs/{need['id']}")
    assert need["status"] == "recorded" and need["version"] >= 1
    for field, value in body.items():
        if field != "reporter":
            assert need[field] == value, field
    assert need["reporter"] == REPORTER
    assert need["proposal"] is None and need["merged_into"] is None and need["feedback"] == []
    with api.as_("room") as client:
        assert client.get(response.headers["location"]).json()["id"] == need["id"]


@pytest.mark.parametrize("changes", [
    {"ward": "atlantis"}, {"office": "no-such-office"}, {"policy_area": "space"},
    {"school_district": "no-such-district"}, {"office": "chuo-ward-office"},
    {"plan_goals": ["99-9-9"]},
])
def test_unknown_or_mismatched_references_are_422(api: Api, changes: dict[str, Any]) -> None:
    with api.as_("admin") as client:
        assert_problem(client.post(NEEDS, json={**NEED, **changes}), 422)
    assert api.container.app.position() == 0


# ── actions ─────────────────────────────────────────────────────────────────

ALLOWED = [("triage", "recorded", "triaged"),
           ("resolve-locally", "recorded", "resolved_locally"),
           ("resolve-locally", "triaged", "resolved_locally"),
           ("decline", "recorded", "declined"), ("decline", "triaged", "declined"),
           ("merge", "recorded", "merged"), ("merge", "triaged", "merged"),
           ("feedback", "resolved_locally", "closed"), ("feedback", "declined", "closed"),
           ("feedback", "merged", "closed"),
           ("amend", "recorded", "recorded"), ("amend", "triaged", "triaged")]
REFUSED = [("triage", "triaged"), ("triage", "declined"), ("resolve-locally", "declined"),
           ("decline", "resolved_locally"), ("decline", "proposed"), ("merge", "closed"),
           ("feedback", "recorded"), ("feedback", "triaged"), ("amend", "proposed"),
           ("amend", "closed")]


@pytest.mark.parametrize("action, start, end", ALLOWED)
def test_each_need_action_moves_from_an_allowed_status(api: Api, action: str, start: str,
                                                       end: str) -> None:
    need = need_in(api, start)
    body = {"into": new_need(api)["id"]} if action == "merge" else BODIES[action]
    response = act(api, "staff", "needs", need["id"], action, body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["status"] == end and out["version"] == need["version"] + 1
    assert response.headers["etag"] == f'"{out["version"]}"'
    assert isinstance(out["position"], int)


@pytest.mark.parametrize("action, start", REFUSED)
def test_each_need_action_is_409_from_a_disallowed_status(api: Api, action: str,
                                                          start: str) -> None:
    need = need_in(api, start)
    body = {"into": new_need(api)["id"]} if action == "merge" else BODIES[action]
    before = state(api, need["id"])
    problem = assert_problem(act(api, "staff", "needs", need["id"], action, body), 409)
    assert problem["current_status"] == start
    assert isinstance(problem["allowed_actions"], list)
    assert action not in problem["allowed_actions"]
    assert state(api, need["id"]) == before


def test_amend_changes_fields_and_keeps_status(api: Api) -> None:
    need = triaged_need(api)
    changes = {"title": "新しい題", "description": "新しい説明", "urgency": "urgent",
               "residents_affected": 7, "observed_on": "2026-11-21"}
    out = act(api, "room", "needs", need["id"], "amend", changes).json()
    assert out["status"] == "triaged"
    assert {k: out[k] for k in changes} == changes
    assert out["ward"] == need["ward"] and out["office"] == need["office"]


def test_amend_is_refused_once_the_need_is_proposed(api: Api) -> None:
    need = need_in(api, "proposed")
    assert need["status"] == "proposed"
    before = state(api, need["id"])
    problem = assert_problem(act(api, "staff", "needs", need["id"], "amend",
                                 {"title": "x"}), 409)
    assert problem["current_status"] == "proposed"
    assert state(api, need["id"]) == before


@pytest.mark.parametrize("target", ["merged", "closed"])
def test_merge_into_a_merged_or_closed_need_is_409(api: Api, target: str) -> None:
    into = need_in(api, target)
    need = new_need(api)
    before = state(api, need["id"])
    assert_problem(act(api, "staff", "needs", need["id"], "merge", {"into": into["id"]}), 409)
    assert state(api, need["id"]) == before


def test_merge_into_itself_is_refused(api: Api) -> None:
    need = new_need(api)
    before = state(api, need["id"])
    response = act(api, "staff", "needs", need["id"], "merge", {"into": need["id"]})
    assert_problem(response, response.status_code if response.status_code in (409, 422)
                   else 409)
    assert state(api, need["id"]) == before


def test_merge_sets_merged_into_and_feedback_closes(api: Api) -> None:
    into = new_need(api)
    need = new_need(api)
    merged = act(api, "staff", "needs", need["id"], "merge", {"into": into["id"]}).json()
    assert merged["merged_into"] == into["id"]
    closed = act(api, "staff", "needs", need["id"], "feedback", FEEDBACK).json()
    assert closed["status"] == "closed"
    assert closed["feedback"][0]["message"] == FEEDBACK["message"]
    assert closed["feedback"][0]["delivered_on"] == FEEDBACK["delivered_on"]


def test_history_lists_every_event_oldest_first(api: Api) -> None:
    need = new_need(api, person="room")
    act(api, "staff", "needs", need["id"], "amend", {"title": "直し"})
    act(api, "staff", "needs", need["id"], "triage", {"note": "ok"})
    act(api, "mayor", "needs", need["id"], "resolve-locally", {"note": "解決"})
    act(api, "staff", "needs", need["id"], "feedback", FEEDBACK)
    items = history(api, need["id"])
    assert [e["type"] for e in items] == ["NeedRecorded", "NeedAmended", "NeedTriaged",
                                          "NeedResolvedLocally", "NeedFeedbackRecorded"]
    assert [e["version"] for e in items] == sorted(e["version"] for e in items)
    assert len({e["version"] for e in items}) == len(items)
    assert [e["actor"] for e in items] == ["user-room", "user-staff", "user-staff",
                                           "user-mayor", "user-staff"]
    for event in items:
        assert set(event) >= {"type", "version", "effective_at", "recorded_at", "actor", "data"}
        assert isinstance(event["data"], dict)
    assert items[0]["data"]["title"] == NEED["title"]


# ── listing and search ─────────────────────────────────────────────────────

def test_list_filters_by_ward_office_status_and_policy_area(api: Api) -> None:
    a = new_need(api)
    b = triaged_need(api, office="higashi-exchange-room-2", policy_area="welfare")
    c = new_need(api, person="chuo_staff", ward="chuo", office="chuo-ward-office",
                 school_district=None)
    d = need_in(api, "declined")
    assert set(listed(api, ward="chuo")) == {c["id"]}
    assert c["id"] not in listed(api, ward="higashi")
    assert set(listed(api, office="higashi-exchange-room-2")) == {b["id"]}
    assert set(listed(api, status="triaged")) == {b["id"]}
    both = listed(api, status=["triaged", "declined"])
    assert set(both) == {b["id"], d["id"]}
    assert set(listed(api, policy_area="welfare")) == {b["id"]}
    assert a["id"] in listed(api, status="recorded")


def test_observed_date_filters_are_inclusive(api: Api) -> None:
    early = new_need(api, observed_on="2026-11-01")
    mid = new_need(api, observed_on="2026-11-10")
    late = new_need(api, observed_on="2026-11-20")
    assert set(listed(api, observed_from="2026-11-10")) == {mid["id"], late["id"]}
    assert set(listed(api, observed_to="2026-11-10")) == {early["id"], mid["id"]}
    assert set(listed(api, observed_from="2026-11-10", observed_to="2026-11-10")) == \
        {mid["id"]}


def test_q_matches_substrings_after_nfkc_case_insensitively(api: Api) -> None:
    road = new_need(api, title="道路の穴", description="交差点付近")
    bus = new_need(api, title="ﾊﾞｽの本数", description="朝が少ない")
    latin = new_need(api, title="公園", description="ＡＢＣ広場の遊具")
    assert listed(api, q="道路") == [road["id"]]
    assert listed(api, q="交差点") == [road["id"]]
    assert listed(api, q="バス") == [bus["id"]]
    assert listed(api, q="ﾊﾞｽ") == [bus["id"]]
    assert listed(api, q="abc") == [latin["id"]]
    assert listed(api, q="ＡＢＣ") == [latin["id"]]
    assert listed(api, q="AbC広場") == [latin["id"]]
    assert listed(api, q="存在しない") == []


# ── personal data ──────────────────────────────────────────────────────────

def reporter_ref(api: Api, need_id: str) -> str:
    ref = api.container.app.get_need(UUID(need_id)).reporter_ref
    assert ref is not None
    return ref


@pytest.mark.parametrize("person", ["room", "staff", "mayor", "admin"])
def test_the_reporter_is_shown_to_its_office_and_ward_and_the_read_recorded(
        api: Api, person: str) -> None:
    need = new_need(api, reporter=REPORTER)
    ref = reporter_ref(api, need["id"])
    readers_before = [r for r, _ in api.container.vault.reads(ref)]
    assert get(api, need["id"], person)["reporter"] == REPORTER
    readers = [r for r, _ in api.container.vault.reads(ref)]
    assert readers.count(f"user-{person}") == readers_before.count(f"user-{person}") + 1


@pytest.mark.parametrize("person", ["other_room", "chuo_staff", "chuo_mayor", "transport",
                                    "monitor"])
def test_the_reporter_is_hidden_from_everyone_else(api: Api, person: str) -> None:
    need = new_need(api, reporter=REPORTER)
    ref = reporter_ref(api, need["id"])
    assert get(api, need["id"], person)["reporter"] is None
    assert f"user-{person}" not in [r for r, _ in api.container.vault.reads(ref)]
    with api.as_(person) as client:
        items = client.get(NEEDS, params={"min_position": need["position"]}).json()["items"]
    assert all(item.get("reporter") is None for item in items)


def test_erasing_personal_data_removes_it_for_everyone_and_keeps_history(api: Api) -> None:
    need = new_need(api, reporter=REPORTER)
    ref = reporter_ref(api, need["id"])
    events_before = history(api, need["id"])
    with api.as_("staff") as client:
        response = client.delete(f"{NEEDS}/{need['id']}/personal-data")
    assert response.status_code == 204
    for person in ("room", "staff", "mayor", "admin"):
        assert get(api, need["id"], person)["reporter"] is None
    assert api.container.vault.get(ref, reader="audit") is None
    after = history(api, need["id"])
    assert after[:len(events_before)] == events_before
    assert get(api, need["id"])["title"] == NEED["title"]


@pytest.mark.parametrize("person", ["room", "other_room", "chuo_staff", "transport",
                                    "monitor"])
def test_only_the_ward_or_admin_may_erase_personal_data(api: Api, person: str) -> None:
    need = new_need(api, reporter=REPORTER)
    before = state(api, need["id"])
    with api.as_(person) as client:
        assert_problem(client.delete(f"{NEEDS}/{need['id']}/personal-data"), 403)
    assert state(api, need["id"]) == before
    assert get(api, need["id"], "staff")["reporter"] == REPORTER


def stored_text(api: Api, exclude: tuple[str, ...] = ("personal_data",)) -> list[str]:
    """Every cell of every table of the log and views (not the vault itself), as text."""
    settings = api.container.settings
    cells: list[str] = []
    if settings.uses_postgres:
        import psycopg

        with psycopg.connect(settings.database_url) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema='public'").fetchall()]
            assert tables
            for table in tables:
                if table in exclude:
                    continue
                rows = conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
                cells += [r[0] for r in rows]
        return cells
    files = [Path(settings.data_dir) / "events.sqlite", Path(settings.data_dir) / "views.sqlite"]
    for path in files:
        assert path.exists(), path
        with sqlite3.connect(path) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    for cell in row:
                        if isinstance(cell, bytes):
                            cells.append(cell.decode("utf-8", errors="ignore"))
                        elif cell is not None:
                            cells.append(str(cell))
    return cells


def test_the_reporter_never_reaches_the_event_store_or_views(api: Api) -> None:
    need = new_need(api, reporter=REPORTER)
    act(api, "staff", "needs", need["id"], "triage")
    assert get(api, need["id"], "staff")["reporter"] == REPORTER
    listed(api)  # the views have caught up
    cells = stored_text(api)
    title = json.dumps(NEED["title"])[1:-1]
    assert any(NEED["title"] in c or title in c for c in cells)  # the search sees the log
    for secret in REPORTER.values():
        for form in (secret, json.dumps(secret)[1:-1]):
            assert not any(form in c for c in cells), form


def test_erasure_leaves_no_copy_of_the_reporter_even_after_an_idempotent_record(
        api: Api) -> None:
    headers = {"Idempotency-Key": "with-reporter"}
    body = {**NEED, "reporter": REPORTER}
    with api.as_("staff") as client:
        created = client.post(NEEDS, json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert client.delete(f"{NEEDS}/{created.json()['id']}/personal-data").status_code == 204
        replay = client.post(NEEDS, json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json()["reporter"] is None  # erased "for good": not even in a replay
    cells = stored_text(api, exclude=())
    if not api.container.settings.uses_postgres:
        with sqlite3.connect(Path(api.container.settings.data_dir) / "tsunagi.sqlite") as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    cells += [c.decode("utf-8", "ignore") if isinstance(c, bytes) else str(c)
                              for c in row]
    for secret in REPORTER.values():
        for form in (secret, json.dumps(secret)[1:-1]):
            assert not any(form in c for c in cells), form
