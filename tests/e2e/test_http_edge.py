"""The HTTP edge: limits enforced while reading, and every error a problem (issue 7 §4, §5).

On SQLite only: none of this depends on the store.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.protocol import ProblemH11Protocol
from infra.settings import Settings
from tests.e2e.conftest import NEED, PEOPLE, Api, new_need, triaged_need
from tests.e2e.serving import serving
from tests.e2e.test_conventions import assert_problem
from wiring.bootstrap import build

NEEDS = "/api/v1/needs"
MIB = 1024 * 1024
FAILING = "/api/v1/test-only/failure"


def _fail() -> None:
    raise RuntimeError("a test-only failure " * 500)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """Tsunagi on SQLite as `tsunagi serve` runs it, plus one test-only route that fails."""
    container = build(Settings(data_dir=tmp_path, poll_interval=0.05))
    tokens = {}
    for name, (role, ward, office, department) in PEOPLE.items():
        _, tokens[name] = container.users.add(name, role, ward, office, department,
                                              user_id=f"user-{name}")
    app = create_app(container)
    app.add_api_route(FAILING, _fail, methods=["GET"], include_in_schema=False)
    try:
        with serving(app, http=ProblemH11Protocol) as base_url:
            yield Api(container, base_url, tokens)
    finally:
        container.close()


def _raw(api: Api, request: bytes) -> bytes:
    """Send raw bytes on one connection and read until the server closes it."""
    host, port = api.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def _complete(raw: bytes) -> bool:
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _status_and_body(raw: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


# ── the body limit while reading ───────────────────────────────────────────

def test_a_chunked_body_is_refused_at_one_mebibyte_before_the_rest_is_sent(api: Api) -> None:
    # 1 MiB + 64 KiB is sent and the body left unfinished: the answer must come now, so the
    # server cannot have waited for (or buffered) the rest of the body.
    chunk = b"x" * 65536
    head = (f"POST {NEEDS} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
            f"{api.tokens['staff']}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17))
    status, headers, body = _status_and_body(_raw(api, head + chunks))
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")
    assert body["status"] == 413
    assert api.container.app.position() == 0


def test_a_large_chunked_upload_without_content_length_gets_a_413_problem(api: Api) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(8 * 16):  # 8 MiB in 64 KiB chunks, with no Content-Length
            yield b" " * 65536

    with api.as_("staff") as client:
        response = client.post(NEEDS, content=body(),
                               headers={"Content-Type": "application/json"})
        assert "content-length" not in response.request.headers
        assert_problem(response, 413, "body-too-large")
    assert api.container.app.position() == 0


def test_a_chunked_body_under_the_limit_is_read_whole(api: Api) -> None:
    payload = json.dumps(NEED).encode()
    with api.as_("staff") as client:
        response = client.post(NEEDS, content=iter([payload[:10], payload[10:]]),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["title"] == NEED["title"]


def test_a_body_cut_short_by_the_client_leaving_records_nothing(api: Api) -> None:
    body = json.dumps(NEED).encode()  # valid JSON on its own, but shorter than declared
    head = (f"POST {NEEDS} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
            f"{api.tokens['staff']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) + 10}\r\n\r\n").encode()
    host, port = api.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head + body)
        conn.shutdown(socket.SHUT_WR)
        assert conn.recv(65536) == b""  # closed without an answer: there was no request
    with api.as_("staff") as client:
        assert client.post(NEEDS, json=NEED).status_code == 201  # the server goes on
    assert api.container.app.position() == 1


def test_a_content_length_of_absurd_size_is_413_not_an_error(api: Api) -> None:
    request = (f"POST {NEEDS} HTTP/1.1\r\nHost: test\r\nContent-Length: {'9' * 5000}\r\n"
               "Content-Type: application/json\r\n\r\n").encode()
    status, headers, _ = _status_and_body(_raw(api, request))
    assert status in (400, 413)
    assert headers["content-type"].startswith("application/problem+json")


# ── JSON depth, content type ────────────────────────────────────────────────

@pytest.mark.parametrize("depth", [33, 100_000])
def test_json_nested_deeper_than_32_levels_is_a_400_problem(api: Api, depth: int) -> None:
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    with api.as_("staff") as client:
        response = client.post(NEEDS, content=body,
                               headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "json-too-deep")
    assert api.container.app.position() == 0


def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    need = new_need(api, title="[[[[" * 40, description='{"[' * 100 + '\\"' + "]]" * 50)
    assert need["title"] == "[[[[" * 40


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml"])
def test_a_body_that_is_not_json_is_a_415_problem(api: Api, content_type: str) -> None:
    with api.as_("staff") as client:
        response = client.post(NEEDS, content=json.dumps(NEED),
                               headers={"Content-Type": content_type})
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]
    assert api.container.app.position() == 0


# ── headers the server reads ───────────────────────────────────────────────

def test_an_idempotency_key_over_200_characters_is_refused_on_every_post(api: Api) -> None:
    need = triaged_need(api)
    before = api.container.app.position()
    with api.as_("staff") as client:
        for path, body in ((NEEDS, NEED), (f"{NEEDS}/{need['id']}/amend", {"title": "別"})):
            response = client.post(path, json=body, headers={"Idempotency-Key": "k" * 201})
            problem = assert_problem(response, 422, "header-too-long")
            assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert client.post(NEEDS, json=NEED,
                           headers={"Idempotency-Key": "k" * 200}).status_code == 201
    assert api.container.app.position() == before + 1


@pytest.mark.parametrize("if_match, problem_type", [
    (f'"{"9" * 150}"', "validation-error"), ("#", "validation-error"), ("", "validation-error"),
    (f'"{"9" * 5000}"', "header-too-long")])
def test_an_if_match_that_is_not_a_version_is_422_and_changes_nothing(
        api: Api, if_match: str, problem_type: str) -> None:
    need = new_need(api)
    before = api.container.app.position()
    with api.as_("staff") as client:
        response = client.post(f"{NEEDS}/{need['id']}/amend", json={"title": "別"},
                               headers={"If-Match": if_match})
    assert_problem(response, 422, problem_type)
    assert api.container.app.position() == before


def test_a_weak_or_star_if_match_is_read(api: Api) -> None:
    need = new_need(api)
    with api.as_("staff") as client:
        path = f"{NEEDS}/{need['id']}/amend"
        first = client.post(path, json={"title": "一"}, headers={"If-Match": "*"})
        assert first.status_code == 200, first.text
        weak = f'W/"{first.json()["version"]}"'
        assert client.post(path, json={"title": "二"}, headers={"If-Match": weak}
                           ).status_code == 200
        assert_problem(client.post(path, json={"title": "三"}, headers={"If-Match": weak}), 412)


def test_one_idempotency_key_on_needs_then_proposals_creates_both(api: Api) -> None:
    need = triaged_need(api)
    key = {"Idempotency-Key": "same-key-everywhere"}
    with api.as_("staff") as client:
        first = client.post(NEEDS, json=NEED, headers=key)
        proposal = {"ward": "higashi", "title": "提案", "summary": "概要",
                    "needs": [need["id"]], "lead_department": "transport-planning",
                    "policy_area": "transport"}
        second = client.post("/api/v1/proposals", json=proposal, headers=key)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["id"] != second.json()["id"]


def test_unencoded_japanese_in_a_query_string_is_a_400_problem(api: Api) -> None:
    request = ("GET /api/v1/needs?q=道路 HTTP/1.1\r\nHost: test\r\n\r\n").encode()
    status, headers, body = _status_and_body(_raw(api, request))
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert "--data-urlencode" in str(body["detail"])


# ── every error a problem ──────────────────────────────────────────────────

def test_an_unexpected_error_is_a_500_problem_with_a_request_id_and_one_log_line(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), api.as_("staff") as client:
        response = client.get(FAILING)
    body = assert_problem(response, 500, "internal-error")
    request_id = response.headers["x-request-id"]
    assert body["request_id"] == request_id
    assert request_id in str(body["detail"])
    assert "Traceback" not in response.text and "test-only failure" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage()[:200] for r in errors]
    line = errors[0].getMessage()
    assert request_id in line and "RuntimeError" in line and "_fail" in line
    assert "\n" not in line and len(line) < 600 and errors[0].exc_info is None


def test_every_answer_carries_a_request_id(api: Api) -> None:
    with api.as_("staff") as client:
        ids = {client.get(NEEDS).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_an_unknown_path_is_a_404_problem_in_japanese(api: Api) -> None:
    with api.as_("staff") as client:
        body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert "パス" in str(body["detail"])


def test_a_405_names_every_method_of_the_path_in_allow(api: Api) -> None:
    with api.as_("staff") as client:
        response = client.delete(NEEDS)
        assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD, POST"
        need = new_need(api)
        response = client.get(f"{NEEDS}/{need['id']}/amend")
        assert_problem(response, 405)
        assert response.headers["allow"] == "POST"


def test_head_answers_wherever_get_does_without_a_body(api: Api) -> None:
    need = new_need(api)
    with api.as_("staff") as client:
        for path in (NEEDS, f"{NEEDS}/{need['id']}", "/api/v1/wards", "/healthz"):
            got, head = client.get(path), client.head(path)
            assert head.status_code == 200, (path, head.status_code)
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
        assert client.head(f"{NEEDS}/{need['id']}").headers["etag"] == f'"{need["version"]}"'


def test_openapi_states_problem_json_for_every_error_it_declares(api: Api) -> None:
    with httpx.Client(base_url=api.base_url) as client:
        document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        path, method, status)
            if path.startswith("/api/"):
                assert {"401", "404", "422", "500", "503"} <= set(responses), (path, method)
            if method == "post":
                assert {"409", "413", "415"} <= set(responses), (path, method)
            if "503" in responses:
                assert "Retry-After" in responses["503"]["headers"]


# ── the API's own pages ────────────────────────────────────────────────────

@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_pages_load_every_asset_from_tsunagi_itself(api: Api, page: str) -> None:
    with httpx.Client(base_url=api.base_url) as client:
        html = client.get(page)
        assert html.status_code == 200
        assert "http://" not in html.text and "https://" not in html.text
        assert "//" not in re.sub(r"<!--.*?-->", "", html.text, flags=re.DOTALL)
        urls = re.findall(r"""(?:src|href|spec-url|url:)\s*=?\s*["']([^"']+)["']""",
                          html.text)
        assert "/openapi.json" in urls
        assert len(urls) >= 3, urls
        for url in urls:
            assert url.startswith("/"), url
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url
        assert '"validatorUrl": null' in html.text or page == "/redoc"


@pytest.mark.parametrize("cursor", ["¹", "9" * 5000])
def test_a_reference_cursor_of_odd_digits_is_not_a_server_error(api: Api, cursor: str) -> None:
    with api.as_("staff") as client:
        response = client.get("/api/v1/departments", params={"cursor": cursor})
    assert response.status_code == 200, response.text
    assert response.json()["items"]


def test_openapi_never_offers_null_for_a_query_or_header_parameter(api: Api) -> None:
    with httpx.Client(base_url=api.base_url) as client:
        document = client.get("/openapi.json").json()
    parameters = [p for item in document["paths"].values() for op in item.values()
                  for p in op.get("parameters", [])]
    assert any(p["name"] == "if-match" for p in parameters)
    assert not [p["name"] for p in parameters if '"null"' in json.dumps(p["schema"])]
