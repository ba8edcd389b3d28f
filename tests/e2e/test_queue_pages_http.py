"""The department queue is a list like every other (api.md "Lists"): `limit` 1–200, default
50, and `cursor`, answered as `{items, next_cursor}`; a cursor it did not hand out is 422
`invalid-cursor`. Over HTTP, on SQLite and PostgreSQL; and the page /queue/{department}
shows one page with a link to the next.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from api.pages import desks
from tests.e2e.conftest import Api, act, new_need, submitted_proposal
from tests.e2e.test_conventions import assert_problem

QUEUE = "/api/v1/views/department-queue/transport-planning"
#: urgencies of the proposals submitted in `five`, in order of submission
URGENCIES = ("low", "urgent", "normal", "urgent", "high")


def five(api: Api) -> list[str]:
    """Five proposals submitted one after the other today (one due date): their ids in
    queue order, urgent first, then by submission."""
    ids = []
    for urgency in URGENCIES:
        need = new_need(api, urgency=urgency)
        assert act(api, "staff", "needs", need["id"], "triage", {}).status_code == 200
        ids.append(submitted_proposal(api, needs=[need["id"]])["id"])
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    return [i for _, _, i in sorted((rank[u], n, i)
                                    for n, (u, i) in enumerate(zip(URGENCIES, ids, strict=True)))]


def get(api: Api, **params: Any) -> httpx.Response:
    with api.as_("transport") as client:
        return client.get(QUEUE, params={"min_position": api.container.app.position(),
                                         **params})


def body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_pages_follow_the_queue_order_and_the_last_has_no_cursor(api: Api) -> None:
    order = five(api)
    whole = body(get(api))  # default limit 50: all of them
    assert [i["proposal"] for i in whole["items"]] == order
    assert whole["next_cursor"] is None
    assert [i["urgency"] for i in whole["items"]] == ["urgent", "urgent", "high", "normal",
                                                      "low"]

    for limit in (1, 2, 3):
        items, cursor, pages = [], None, 0
        while True:
            page = body(get(api, limit=limit, **({"cursor": cursor} if cursor else {})))
            pages += 1
            assert len(page["items"]) <= limit
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert len(page["items"]) == limit
        assert items == whole["items"], limit
        assert pages == -(-len(order) // limit)  # no empty page after a full last one

    # the page that takes the last item hands out no cursor, even when it is full
    assert body(get(api, limit=5))["next_cursor"] is None


def test_limit_is_one_to_two_hundred(api: Api) -> None:
    five(api)
    assert len(body(get(api, limit=1))["items"]) == 1
    assert len(body(get(api, limit=200))["items"]) == 5
    for bad in (0, -1, 201, 10**6, "ten"):
        assert_problem(get(api, limit=bad), 422)


def test_a_cursor_not_handed_out_by_the_queue_is_422_invalid_cursor(api: Api) -> None:
    five(api)
    # a cursor of another list: the ward feedback pages by (recorded_at, id)
    with api.as_("admin") as client:
        feedback = body(client.get("/api/v1/views/ward-feedback/higashi",
                                   params={"limit": 1}))
    assert feedback["next_cursor"]

    def cursor(*values: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()

    good = body(get(api, limit=1))["next_cursor"]
    due, order, submitted, proposal = json.loads(base64.urlsafe_b64decode(good))
    bad = [
        "not-a-cursor", "", "%%%", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        feedback["next_cursor"], cursor(), cursor(due, order, submitted),
        cursor(due, order, submitted, proposal, "extra"),
        cursor(due, str(order), submitted, proposal), cursor(due, True, submitted, proposal),
        cursor(due, 10**30, submitted, proposal), cursor(due, -1, submitted, proposal),
        cursor("tomorrow", order, submitted, proposal),
        cursor(due, order, "2026-11-26T03:00:00+09:00", proposal),
        cursor(due, order, submitted, "not-a-uuid"), cursor(due, order, submitted, None),
        cursor(due + "\x00", order, submitted, proposal),
        base64.urlsafe_b64encode(json.dumps({"due": due}).encode()).decode(),
    ]
    for value in bad:
        if value == "":
            continue  # an empty cursor is no cursor: the first page
        problem = assert_problem(get(api, cursor=value), 422, "invalid-cursor")
        assert problem["errors"][0]["loc"] == ["query", "cursor"], value
    assert body(get(api, cursor=""))["items"]
    assert_problem(get(api, cursor="x" * 501), 422)  # longer than any cursor handed out


def sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post("/login", data={"token": token, "csrf_token": csrf.group(1)})
    assert response.status_code in (200, 303), response.text


def test_the_queue_page_shows_one_page_and_links_to_the_next(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desks, "QUEUE_PAGE", 2)
    order = five(api)
    titles: list[str] = []
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        sign_in(client, api.tokens["transport"])
        client.get(QUEUE, params={"min_position": api.container.app.position()},
                   headers={"Authorization": f"Bearer {api.tokens['transport']}"})
        path, pages = "/queue/transport-planning", 0
        while True:
            page = client.get(path)
            assert page.status_code == 200, page.text
            pages += 1
            titles += re.findall(r'<a href="/proposals/([0-9a-f-]+)">', page.text)
            found = re.search(r'<a href="(/queue/transport-planning\?cursor=[^"]+)"'
                              r' rel="next">次へ</a>', page.text)
            if found is None:
                break
            path = found.group(1)
            assert "最初へ" not in page.text or pages > 1
        assert pages == 3
        assert titles == order
        refused = client.get("/queue/transport-planning", params={"cursor": "not-a-cursor"})
        assert refused.status_code == 422
