"""Races over real HTTP: one winner per state change, retried comments, idempotent creation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import Api, submitted_proposal, triaged_need
from tests.e2e.test_proposals_http import get, history

ROUNDS = 5
DECIDE = {"decision": "accepted", "reason": "必要性が高い"}


def at_once(api: Api, calls: list[tuple[str, Callable[[httpx.Client], httpx.Response]]]
            ) -> list[httpx.Response]:
    """Send each call from its own thread and client, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def run(i: int, person: str, call: Callable[[httpx.Client], httpx.Response]) -> None:
        with api.as_(person) as client:
            client.get("/healthz")  # open the connection before the start line
            barrier.wait(timeout=10)
            try:
                results[i] = call(client)
            except BaseException as exc:  # reported below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, person, call))
               for i, (person, call) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, httpx.Response) for r in results), results
    return [r for r in results if isinstance(r, httpx.Response)]


def post(path: str, body: dict[str, Any], **headers: str) -> Callable[[httpx.Client],
                                                                      httpx.Response]:
    return lambda client: client.post(path, json=body, headers=headers)


def decided_events(api: Api, pid: str) -> int:
    return sum(e["type"] == "ProposalDecided" for e in history(api, "proposals", pid))


def test_two_reviewers_deciding_at_once_one_wins(api: Api) -> None:
    for _ in range(ROUNDS):
        p = submitted_proposal(api)
        path = f"/api/v1/proposals/{p['id']}/decide"
        responses = at_once(api, [
            ("transport", post(path, DECIDE)),
            ("transport2", post(path, {**DECIDE, "decision": "rejected"})),
        ])
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.headers["content-type"].startswith("application/problem+json")
        problem = loser.json()
        if problem["type"].endswith("/action-not-allowed"):  # it came after the winner
            assert problem["current_status"] == winner["status"]
        else:
            assert problem["type"].endswith("/concurrent-change"), problem
        assert decided_events(api, p["id"]) == 1
        after = get(api, "proposals", p["id"])
        assert after["version"] == winner["version"] == p["version"] + 1
        assert after["status"] == winner["status"]


def test_deciding_at_once_with_the_same_if_match_one_wins(api: Api) -> None:
    for _ in range(ROUNDS):
        p = submitted_proposal(api)
        path = f"/api/v1/proposals/{p['id']}/decide"
        etag = f'"{p["version"]}"'
        responses = at_once(api, [
            ("transport", post(path, DECIDE, **{"If-Match": etag})),
            ("transport2", post(path, DECIDE, **{"If-Match": etag})),
        ])
        codes = sorted(r.status_code for r in responses)
        assert codes in ([200, 409], [200, 412]), [r.text for r in responses]
        loser = next(r for r in responses if r.status_code != 200).json()
        if loser["status"] == 412:
            assert loser["type"].endswith("/version-mismatch")
        else:
            assert loser["type"].endswith("/concurrent-change"), loser
        assert decided_events(api, p["id"]) == 1
        assert get(api, "proposals", p["id"])["version"] == p["version"] + 1


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    p = submitted_proposal(api)
    with api.as_("transport") as client:
        response = client.post(f"/api/v1/proposals/{p['id']}/acknowledge", json={},
                               headers={"If-Match": f'"{p["version"] - 1}"'})
        assert response.status_code == 412
        assert response.json()["type"].endswith("/version-mismatch")
        assert get(api, "proposals", p["id"])["version"] == p["version"]
        response = client.post(f"/api/v1/proposals/{p['id']}/acknowledge", json={},
                               headers={"If-Match": f'"{p["version"]}"'})
        assert response.status_code == 200, response.text


def test_concurrent_comments_both_succeed(api: Api) -> None:
    for _ in range(ROUNDS):
        p = submitted_proposal(api)
        path = f"/api/v1/proposals/{p['id']}/comment"
        responses = at_once(api, [
            ("staff", post(path, {"body": "区の意見"})),
            ("roads", post(path, {"body": "道路保全課の意見"})),
        ])
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        after = get(api, "proposals", p["id"])
        assert sorted(c["body"] for c in after["comments"]) == ["区の意見", "道路保全課の意見"]
        assert after["version"] == p["version"] + 2


def proposal_body(api: Api) -> dict[str, Any]:
    return {"ward": "higashi", "title": "冪等な提案", "needs": [triaged_need(api)["id"]],
            "lead_department": "transport-planning", "policy_area": "transport"}


def listed(api: Api) -> list[dict[str, Any]]:
    with api.as_("monitor") as client:
        response = client.get("/api/v1/proposals",
                              params={"min_position": api.container.app.position()})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_retried_creation_with_the_same_key_creates_one_proposal(api: Api) -> None:
    body = proposal_body(api)
    with api.as_("staff") as client:
        first = client.post("/api/v1/proposals", json=body, headers={"Idempotency-Key": "k1"})
        again = client.post("/api/v1/proposals", json=body, headers={"Idempotency-Key": "k1"})
        other = client.post("/api/v1/proposals", json={**body, "title": "別"},
                            headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert [p["id"] for p in listed(api)] == [first.json()["id"]]
    assert len(history(api, "proposals", first.json()["id"])) == 1


def test_concurrent_creations_with_the_same_key_create_one_proposal(api: Api) -> None:
    for round_ in range(ROUNDS):
        body = proposal_body(api)
        key = {"Idempotency-Key": f"same-{round_}"}
        responses = at_once(api, [("staff", post("/api/v1/proposals", body, **key)),
                                  ("staff", post("/api/v1/proposals", body, **key))])
        created = [r for r in responses if r.status_code == 201]
        assert created, [r.text for r in responses]
        for r in responses:  # the twin replays the first answer, or is told it still runs
            assert r.status_code == 201 or (
                r.status_code == 409
                and r.json()["type"].endswith("/idempotency-key-in-use")
                and r.headers["Retry-After"]), r.text
        pid = created[0].json()["id"]
        assert all(r.json()["id"] == pid for r in created)
        # whatever the race, a later retry with that key answers the creation itself
        with api.as_("staff") as client:
            retry = client.post("/api/v1/proposals", json=body, headers=key)
        assert retry.status_code == 201, retry.text
        assert retry.json()["id"] == pid
        assert len(history(api, "proposals", pid)) == 1
        need = get(api, "needs", body["needs"][0])
        assert need["status"] == "proposed" and need["proposal"] == pid
    assert len(listed(api)) == ROUNDS


def test_concurrent_comments_with_the_same_key_are_one_comment(api: Api) -> None:
    proposal = submitted_proposal(api)
    path = f"/api/v1/proposals/{proposal['id']}/comment"
    body = {"body": "同じ意見を二度送ってしまった"}
    for round_ in range(ROUNDS):
        key = {"Idempotency-Key": f"comment-{round_}"}
        responses = at_once(api, [("staff", post(path, body, **key)),
                                  ("staff", post(path, body, **key))])
        assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
        assert any(r.status_code == 200 for r in responses)
    comments = get(api, "proposals", proposal["id"])["comments"]
    assert len(comments) == ROUNDS
