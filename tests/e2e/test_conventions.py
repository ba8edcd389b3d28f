"""The HTTP conventions of api.md: auth, problems, idempotency, ETags, positions, paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import NEED, Api, act, new_need

NEEDS = "/api/v1/needs"
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def assert_problem(response: httpx.Response, status: int, type_part: str | None = None
                   ) -> dict[str, Any]:
    """The response is an RFC 9457 problem with the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if type_part is not None:
        assert type_part in body["type"]
    return body


def snapshot(api: Api, need_id: str) -> tuple[int, int, list[dict[str, Any]]]:
    """Log position, the need's version and its history: what a refusal must not change."""
    with api.as_("admin") as client:
        version = client.get(f"{NEEDS}/{need_id}").json()["version"]
        history = client.get(f"{NEEDS}/{need_id}/history").json()["items"]
    return api.container.app.position(), version, history


def count_needs(api: Api) -> int:
    with api.as_("admin") as client:
        response = client.get(NEEDS, params={"limit": 200,
                                             "min_position": api.container.app.position()})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


# ── authentication ─────────────────────────────────────────────────────────

def test_requests_without_a_token_are_401_problems(api: Api) -> None:
    with api.anonymous() as client:
        for path in (NEEDS, "/api/v1/wards", "/api/v1/proposals"):
            assert_problem(client.get(path), 401)
        assert_problem(client.post(NEEDS, json=NEED), 401)
    assert api.container.app.position() == 0


def test_a_bad_token_is_401(api: Api) -> None:
    with httpx.Client(base_url=api.base_url,
                      headers={"Authorization": "Bearer not-a-real-token"}) as client:
        assert_problem(client.get(NEEDS), 401)
        assert_problem(client.post(NEEDS, json=NEED), 401)
    assert api.container.app.position() == 0


def test_a_revoked_token_is_401_and_records_nothing(api: Api) -> None:
    with api.as_("staff") as client:
        assert client.get(NEEDS).status_code == 200
        api.container.users.revoke("user-staff")
        assert_problem(client.get(NEEDS), 401)
        assert_problem(client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "k"}), 401)
    assert api.container.app.position() == 0


def test_health_and_openapi_and_docs_are_open_without_a_token(api: Api) -> None:
    with api.anonymous() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "text/html" in docs.headers["content-type"]


def test_openapi_lists_every_needs_and_proposals_endpoint(api: Api) -> None:
    with api.anonymous() as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/needs"])
    assert "get" in paths["/api/v1/needs/{need_id}"]
    assert "get" in paths["/api/v1/needs/{need_id}/history"]
    assert "delete" in paths["/api/v1/needs/{need_id}/personal-data"]
    for action in ("triage", "resolve-locally", "decline", "merge", "feedback", "amend"):
        assert "post" in paths[f"/api/v1/needs/{{need_id}}/{action}"], action
    assert {"get", "post"} <= set(paths["/api/v1/proposals"])
    assert "get" in paths["/api/v1/proposals/{proposal_id}"]
    assert "get" in paths["/api/v1/proposals/{proposal_id}/history"]
    for action in ("amend", "submit", "acknowledge", "request-info", "provide-info",
                   "start-review", "decide", "request-budget", "record-budget",
                   "start-implementation", "complete", "withdraw", "merge", "transfer",
                   "feedback", "evaluate", "comment", "notice"):
        assert "post" in paths[f"/api/v1/proposals/{{proposal_id}}/{action}"], action
    for ref in ("wards", "offices", "school-districts", "departments", "policy-areas",
                "plan-goals"):
        assert "get" in paths[f"/api/v1/{ref}"]


# ── malformed, oversized and invalid bodies ─────────────────────────────────

def test_malformed_json_is_a_400_problem(api: Api) -> None:
    with api.as_("staff") as client:
        response = client.post(NEEDS, content=b'{"ward": "higashi",',
                               headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert api.container.app.position() == 0


def test_a_body_over_one_mebibyte_is_413_and_records_nothing(api: Api) -> None:
    need = new_need(api)
    before = snapshot(api, need["id"])
    big = {**NEED, "description": "あ" * (1024 * 1024)}
    with api.as_("staff") as client:
        assert_problem(client.post(NEEDS, json=big), 413)
        assert_problem(client.post(f"{NEEDS}/{need['id']}/amend",
                                   json={"description": "x" * (1024 * 1024 + 10)}), 413)
    assert snapshot(api, need["id"]) == before
    assert count_needs(api) == 1


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"title": "あ" * 201}, "title"),
    ({"description": "x" * 10_001}, "description"),
    ({"observed_on": None}, "observed_on"),
])
def test_invalid_need_bodies_are_422_with_errors(api: Api, changes: dict[str, Any],
                                                 field: str) -> None:
    body = {**NEED, **changes}
    if changes.get("observed_on", "") is None:
        del body["observed_on"]
    with api.as_("staff") as client:
        problem = assert_problem(client.post(NEEDS, json=body), 422)
    assert problem["errors"]
    for error in problem["errors"]:
        assert set(error) >= {"loc", "msg"}
    assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"])
    assert api.container.app.position() == 0


def test_title_of_200_characters_is_accepted(api: Api) -> None:
    assert new_need(api, title="あ" * 200)["title"] == "あ" * 200


# ── Idempotency-Key ─────────────────────────────────────────────────────────

def test_same_idempotency_key_and_body_replays_the_first_response(api: Api) -> None:
    with api.as_("staff") as client:
        first = client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "abc-1"})
        assert first.status_code == 201
        position = api.container.app.position()
        again = client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "abc-1"})
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["position"] == first.json()["position"]
    assert again.headers["location"] == first.headers["location"]
    assert api.container.app.position() == position
    assert count_needs(api) == 1


def test_same_idempotency_key_with_another_body_is_422(api: Api) -> None:
    with api.as_("staff") as client:
        assert client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "k"}).status_code == 201
        position = api.container.app.position()
        other = client.post(NEEDS, json={**NEED, "title": "別の件"},
                            headers={"Idempotency-Key": "k"})
    assert_problem(other, 422)
    assert api.container.app.position() == position
    assert count_needs(api) == 1


def test_idempotency_keys_are_scoped_to_the_user(api: Api) -> None:
    with api.as_("staff") as client:
        first = client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "shared"})
    with api.as_("mayor") as client:
        second = client.post(NEEDS, json=NEED, headers={"Idempotency-Key": "shared"})
        other_body = client.post(f"{NEEDS}", json={**NEED, "title": "別"},
                                 headers={"Idempotency-Key": "shared"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert_problem(other_body, 422)
    assert count_needs(api) == 2


def test_idempotent_command_replay_changes_nothing(api: Api) -> None:
    need = new_need(api)
    headers = {"Idempotency-Key": "triage-1"}
    first = act(api, "staff", "needs", need["id"], "triage", headers=headers)
    assert first.status_code == 200
    before = snapshot(api, need["id"])
    again = act(api, "staff", "needs", need["id"], "triage", headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert snapshot(api, need["id"]) == before


# ── ETag and If-Match ───────────────────────────────────────────────────────

def test_etag_is_the_quoted_version(api: Api) -> None:
    with api.as_("staff") as client:
        created = client.post(NEEDS, json=NEED)
        assert created.headers["etag"] == f'"{created.json()["version"]}"'
        got = client.get(f"{NEEDS}/{created.json()['id']}")
    assert got.headers["etag"] == f'"{got.json()["version"]}"'


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    need = new_need(api)
    stale = f'"{need["version"]}"'
    assert act(api, "staff", "needs", need["id"], "amend", {"title": "新"}).status_code == 200
    before = snapshot(api, need["id"])
    response = act(api, "staff", "needs", need["id"], "triage", headers={"If-Match": stale})
    assert_problem(response, 412)
    assert snapshot(api, need["id"]) == before


def test_current_if_match_is_200(api: Api) -> None:
    need = new_need(api)
    response = act(api, "staff", "needs", need["id"], "triage",
                   headers={"If-Match": f'"{need["version"]}"'})
    assert response.status_code == 200, response.text
    assert response.json()["version"] > need["version"]
    assert response.headers["etag"] == f'"{response.json()["version"]}"'


# ── positions and min_position ──────────────────────────────────────────────

def test_reads_with_min_position_never_miss_the_write(api: Api) -> None:
    with api.as_("staff") as client:
        for i in range(20):
            created = client.post(NEEDS, json={**NEED, "title": f"件 {i}"})
            assert created.status_code == 201
            position = created.json()["position"]
            assert isinstance(position, int) and position > 0
            listed = client.get(NEEDS, params={"min_position": position, "limit": 200})
            assert listed.status_code == 200, listed.text
            assert created.json()["id"] in [n["id"] for n in listed.json()["items"]], i
            triaged = client.post(f"{NEEDS}/{created.json()['id']}/triage", json={})
            after = client.get(NEEDS, params={"min_position": triaged.json()["position"],
                                              "status": "triaged", "limit": 200})
            assert created.json()["id"] in [n["id"] for n in after.json()["items"]], i


def test_min_position_beyond_the_log_is_503_with_retry_after(api: Api) -> None:
    api.container.settings.min_position_wait = 0.5
    need = new_need(api)
    with api.as_("staff") as client:
        listed = client.get(NEEDS, params={"min_position": 10_000})
        one = client.get(f"{NEEDS}/{need['id']}", params={"min_position": 10_000})
    for response in (listed, one):
        assert_problem(response, 503)
        assert response.headers["retry-after"].isdigit()


# ── effective_at ────────────────────────────────────────────────────────────

def test_effective_at_in_the_future_is_422(api: Api) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with api.as_("staff") as client:
        assert_problem(client.post(NEEDS, json={**NEED, "effective_at": future}), 422)
    assert api.container.app.position() == 0


def test_effective_at_before_the_previous_event_is_422(api: Api) -> None:
    need = new_need(api)
    before = snapshot(api, need["id"])
    earlier = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert_problem(act(api, "staff", "needs", need["id"], "triage",
                       {"effective_at": earlier}), 422)
    assert snapshot(api, need["id"]) == before


def test_a_past_effective_at_is_kept_and_recorded_at_is_now(api: Api) -> None:
    past = datetime.now(UTC) - timedelta(days=3)
    need = new_need(api, effective_at=past.isoformat())
    assert abs(datetime.fromisoformat(need["effective_at"]) - past) < timedelta(seconds=1)
    recorded = datetime.fromisoformat(need["recorded_at"])
    assert abs(recorded - datetime.now(UTC)) < timedelta(minutes=1)
    with api.as_("staff") as client:
        event = client.get(f"{NEEDS}/{need['id']}/history").json()["items"][0]
    assert abs(datetime.fromisoformat(event["effective_at"]) - past) < timedelta(seconds=1)
    assert abs(datetime.fromisoformat(event["recorded_at"]) - datetime.now(UTC)) \
        < timedelta(minutes=1)


# ── pagination ──────────────────────────────────────────────────────────────

@pytest.mark.parametrize("limit", [0, 201, -1])
def test_limit_outside_1_to_200_is_422(api: Api, limit: int) -> None:
    with api.as_("staff") as client:
        for path in (NEEDS, "/api/v1/wards", "/api/v1/proposals"):
            assert_problem(client.get(path, params={"limit": limit}), 422)


def test_next_cursor_walks_every_need_exactly_once(api: Api) -> None:
    ids = {new_need(api, title=f"件 {i}")["id"] for i in range(7)}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3, "min_position": api.container.app.position()}
    with api.as_("monitor") as client:
        for _ in range(10):
            page = client.get(NEEDS, params=params).json()
            seen += [n["id"] for n in page["items"]]
            if page["next_cursor"] is None:
                break
            params = {"limit": 3, "cursor": page["next_cursor"]}
        assert client.get(NEEDS, params={"limit": 200}).json()["next_cursor"] is None
    assert len(seen) == len(ids) and set(seen) == ids


# ── reference data ──────────────────────────────────────────────────────────

def test_reference_data_comes_as_pages(api: Api) -> None:
    with api.as_("monitor") as client:
        def all_of(path: str) -> list[dict[str, Any]]:
            page = client.get(f"/api/v1/{path}", params={"limit": 200})
            assert page.status_code == 200, page.text
            body = page.json()
            assert set(body) >= {"items", "next_cursor"}
            assert body["next_cursor"] is None
            return list(body["items"])

        wards = all_of("wards")
        assert sorted(w["id"] for w in wards) == ["chuo", "higashi", "kita", "minami", "nishi"]
        for kind in ("wards", "offices", "school-districts", "departments", "policy-areas",
                     "plan-goals"):
            for item in all_of(kind):
                assert {"id", "name_ja", "name_en"} <= set(item), (kind, item)
        kinds = {"ward_office", "general_branch", "branch", "exchange_room", "community_centre"}
        for office in all_of("offices"):
            assert office["ward"] in {w["id"] for w in wards} and office["kind"] in kinds
        for district in all_of("school-districts"):
            assert district["ward"] in {w["id"] for w in wards}
        departments = all_of("departments")
        assert "transport-planning" in {d["id"] for d in departments}
        for department in departments:
            assert department["bureau"]
            assert set(department["targets"]) == {"acknowledgement", "decision", "feedback",
                                                  "end_to_end"}
            assert all(isinstance(v, int) for v in department["targets"].values())
        assert "transport" in {p["id"] for p in all_of("policy-areas")}
        assert "6-2-1" in {g["id"] for g in all_of("plan-goals")}
        first = client.get("/api/v1/wards", params={"limit": 2}).json()
        rest = client.get("/api/v1/wards", params={"cursor": first["next_cursor"]}).json()
        assert [w["id"] for w in first["items"] + rest["items"]] == [w["id"] for w in wards]


# ── problems and instants ───────────────────────────────────────────────────

def test_unknown_need_is_a_404_problem(api: Api) -> None:
    with api.as_("staff") as client:
        assert_problem(client.get(f"{NEEDS}/00000000-0000-0000-0000-000000000000"), 404)
        assert_problem(client.post(f"{NEEDS}/00000000-0000-0000-0000-000000000000/triage",
                                   json={}), 404)


def test_instants_in_responses_carry_an_offset(api: Api) -> None:
    need = new_need(api)
    triaged = act(api, "staff", "needs", need["id"], "triage").json()
    for instant in (need["recorded_at"], need["effective_at"], triaged["effective_at"]):
        assert OFFSET.search(instant), instant
    with api.as_("staff") as client:
        history = client.get(f"{NEEDS}/{need['id']}/history").json()["items"]
        listed = client.get(NEEDS, params={"min_position": triaged["position"]}).json()
    for event in history:
        assert OFFSET.search(event["effective_at"]) and OFFSET.search(event["recorded_at"])
    for item in listed["items"]:
        assert OFFSET.search(item["recorded_at"]) and OFFSET.search(item["effective_at"])
