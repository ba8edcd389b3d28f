"""The Permissions table of api.md for needs, row by row over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import NEED, PEOPLE, Api, act, new_need

NEEDS = "/api/v1/needs"
EVERYONE = list(PEOPLE)
FEEDBACK = {"message": "区で対応しました", "channel": "letter", "delivered_on": "2026-11-30"}


def assert_forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 403 and body["type"] and body["title"] and body["detail"]


def state(api: Api, need_id: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    with api.as_("admin") as client:
        need = client.get(f"{NEEDS}/{need_id}").json()
        events = client.get(f"{NEEDS}/{need_id}/history").json()["items"]
    return api.container.app.position(), need, events


def expect(person: str, allowed: set[str]) -> bool:
    return person in allowed or person == "admin"


WARD = {"staff", "mayor"}
OFFICE_OR_WARD = {"room", "staff", "mayor"}


@pytest.mark.parametrize("person", EVERYONE)
def test_recording_a_need_is_for_its_office_and_ward(api: Api, person: str) -> None:
    with api.as_(person) as client:
        response = client.post(NEEDS, json=NEED)
    if expect(person, OFFICE_OR_WARD):
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "recorded"
    else:
        assert_forbidden(response)
        assert api.container.app.position() == 0


def test_the_other_rooms_own_office_may_record_there(api: Api) -> None:
    need = new_need(api, person="other_room", office="higashi-exchange-room-2")
    assert need["office"] == "higashi-exchange-room-2"
    before = api.container.app.position()
    with api.as_("room") as client:
        assert_forbidden(client.post(NEEDS, json={**NEED, "office": "higashi-exchange-room-2"}))
    assert api.container.app.position() == before


@pytest.mark.parametrize("person", EVERYONE)
def test_amending_a_need_is_for_its_office_and_ward(api: Api, person: str) -> None:
    need = new_need(api)
    before = state(api, need["id"])
    response = act(api, person, "needs", need["id"], "amend", {"title": "直した題"})
    if expect(person, OFFICE_OR_WARD):
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "直した題"
    else:
        assert_forbidden(response)
        assert state(api, need["id"]) == before


def _prepared(api: Api, action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A need from which `action` is allowed, and the action's body."""
    need = new_need(api)
    if action == "triage":
        return need, {}
    if action == "resolve-locally":
        return need, {"note": "区で解決"}
    if action == "decline":
        return need, {"reason": "対象外"}
    if action == "merge":
        return need, {"into": new_need(api)["id"]}
    declined = act(api, "staff", "needs", need["id"], "decline", {"reason": "対象外"})
    assert declined.status_code == 200, declined.text
    return declined.json(), FEEDBACK


@pytest.mark.parametrize("action", ["triage", "resolve-locally", "decline", "merge",
                                    "feedback"])
@pytest.mark.parametrize("person", EVERYONE)
def test_ward_actions_on_a_need_are_for_its_ward(api: Api, person: str, action: str) -> None:
    need, body = _prepared(api, action)
    before = state(api, need["id"])
    response = act(api, person, "needs", need["id"], action, body)
    if expect(person, WARD):
        assert response.status_code == 200, response.text
        assert response.json()["version"] == need["version"] + 1
    else:
        assert_forbidden(response)
        assert state(api, need["id"]) == before


@pytest.mark.parametrize("person", EVERYONE)
def test_erasing_personal_data_is_for_the_ward(api: Api, person: str) -> None:
    reporter = {"name": "熊本太郎", "contact": "096-000-0000"}
    need = new_need(api, reporter=reporter)
    before = state(api, need["id"])
    with api.as_(person) as client:
        response = client.delete(f"{NEEDS}/{need['id']}/personal-data")
    with api.as_("staff") as client:
        shown = client.get(f"{NEEDS}/{need['id']}").json()["reporter"]
    if expect(person, WARD):
        assert response.status_code == 204, response.text
        assert shown is None
    else:
        assert_forbidden(response)
        assert shown == reporter
        assert state(api, need["id"]) == before


def test_a_chuo_need_is_not_writable_by_higashi(api: Api) -> None:
    need = new_need(api, person="chuo_mayor", ward="chuo", office="chuo-ward-office",
                    school_district=None)
    before = state(api, need["id"])
    for person in ("staff", "mayor", "room"):
        assert_forbidden(act(api, person, "needs", need["id"], "triage"))
        assert_forbidden(act(api, person, "needs", need["id"], "amend", {"title": "x"}))
    assert state(api, need["id"]) == before
    assert act(api, "chuo_staff", "needs", need["id"], "triage").status_code == 200


@pytest.mark.parametrize("person", EVERYONE)
def test_reading_needs_is_open_to_every_role_across_wards(api: Api, person: str) -> None:
    need = new_need(api)
    act(api, "staff", "needs", need["id"], "triage")
    with api.as_(person) as client:
        listed = client.get(NEEDS, params={"ward": "higashi",
                                           "min_position": api.container.app.position()})
        one = client.get(f"{NEEDS}/{need['id']}")
        events = client.get(f"{NEEDS}/{need['id']}/history")
    assert listed.status_code == one.status_code == events.status_code == 200
    assert need["id"] in [n["id"] for n in listed.json()["items"]]
    assert one.json()["status"] == "triaged"
    assert [e["type"] for e in events.json()["items"]] == ["NeedRecorded", "NeedTriaged"]
