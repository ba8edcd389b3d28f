"""Bad input over HTTP: every field of every command, every query parameter.

Each bad value is refused with a 4xx problem whose message names the field in
Japanese, and the event log does not move. Store-independent, so SQLite only.
The bodies are walked from the served OpenAPI document, so a new field is covered
the day it is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import NEED, Api, new_proposal, triaged_need

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)

#: a schema-valid body per creation; actions start from `{}` plus their required fields
CREATION_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/needs": dict(NEED),
    "/api/v1/proposals": {"ward": "higashi", "title": "提案", "needs": [],
                          "lead_department": "transport-planning",
                          "policy_area": "transport"},
}
SAMPLE: dict[str, Any] = {"string": "x", "integer": 1, "boolean": False, "array": [],
                          "object": {}, "number": 1.0}


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The schema with `$ref` followed (one level of nullable `anyOf` unwrapped)."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def non_null(schema: dict[str, Any], spec: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The field's schema without its null alternative, and whether null is allowed."""
    schema = resolve(schema, spec)
    options = schema.get("anyOf")
    if options:
        real = [resolve(o, spec) for o in options if o.get("type") != "null"]
        return real[0], len(real) < len(options)
    return schema, False


def valid_value(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date":
        return "2026-11-20"
    if schema.get("format") == "date-time":
        return "2026-11-20T10:00:00+09:00"
    if schema.get("format") == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    return SAMPLE.get(schema.get("type", "string"), "x")


def bad_values(schema: dict[str, Any], nullable: bool) -> Iterator[tuple[str, Any]]:
    """(what is wrong, the value) for one field."""
    kind = schema.get("type")
    if not nullable:
        yield "null", None
    if schema.get("format") in ("date", "date-time"):
        yield "number as a date", 1764000000
        yield "not a date", "2026-13-45"
        yield "date far outside the calendar", "9999-12-31"
    elif kind == "string" or "enum" in schema:
        yield "number as text", 12345
        if "enum" in schema:
            yield "unknown choice", "no-such-choice"
        if schema.get("pattern") == "\\S":
            yield "blank", "   "
            yield "invisible", "\u200b\u200b"
        if "maxLength" in schema:
            yield "too long", "あ" * (schema["maxLength"] + 1)
    elif kind == "integer":
        yield "boolean as integer", True
        yield "text as integer", "12"
        yield "fraction", 1.5
        if "maximum" in schema:
            yield "above maximum", schema["maximum"] + 1
        if "minimum" in schema:
            yield "below minimum", schema["minimum"] - 1
        yield "huge", 10**30
    elif kind == "boolean":
        yield "integer as boolean", 1
    elif kind == "array":
        yield "text as list", "x"
        if "maxItems" in schema:
            yield "too many", ["x"] * (schema["maxItems"] + 1)
    elif kind == "object":
        yield "text as object", "x"


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every POST with a JSON body: (path, its body schema)."""
    for path, item in spec["paths"].items():
        post = item.get("post")
        if post and "requestBody" in post:
            body = post["requestBody"]["content"]["application/json"]["schema"]
            options = body.get("anyOf", [body])
            yield path, resolve(next(o for o in options if o.get("type") != "null"), spec)


def base_body(path: str, schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    if path in CREATION_BODIES:
        return dict(CREATION_BODIES[path])
    body: dict[str, Any] = {}
    for name in schema.get("required", []):
        field, _ = non_null(schema["properties"][name], spec)
        body[name] = valid_value(field)
    if "amend" in path:
        body["title"] = "新しい件名"
    return body


def test_every_field_of_every_command_refuses_bad_values_and_changes_nothing(api: Api) -> None:
    need = triaged_need(api)
    proposal = new_proposal(api, needs=[])
    with api.as_("admin") as client:
        spec = client.get("/openapi.json").json()
        checked = 0
        for path, schema in operations(spec):
            url = path.replace("{need_id}", need["id"]).replace("{proposal_id}", proposal["id"])
            for name, field_schema in schema.get("properties", {}).items():
                field, nullable = non_null(field_schema, spec)
                for what, value in bad_values(field, nullable):
                    before = api.container.app.position()
                    response = client.post(url, json={**base_body(path, schema, spec),
                                                      name: value})
                    where = f"POST {path} {name}: {what}"
                    assert response.status_code in (400, 422), (where, response.text)
                    assert response.headers["content-type"] == "application/problem+json", where
                    problem = response.json()
                    assert problem["detail"] and problem["detail_en"], where
                    assert api.container.app.position() == before, where
                    checked += 1
    assert checked > 300  # every command's fields were walked, not a handful


def test_a_schema_error_names_the_field_in_plain_japanese(api: Api) -> None:
    with api.as_("staff") as client:
        response = client.post("/api/v1/needs", json={**NEED, "observed_on": "2026/11/20",
                                                      "title": None})
    problem = response.json()
    messages = {tuple(e["loc"]): e["msg"] for e in problem["errors"]}
    assert messages[("body", "title")] == "「件名」は必須です"
    assert "把握した日" in messages[("body", "observed_on")]
    assert "YYYY-MM-DD" in messages[("body", "observed_on")]
    assert all(e["msg_en"] for e in problem["errors"])


def test_english_is_served_first_when_asked(api: Api) -> None:
    with api.as_("staff") as client:
        response = client.post("/api/v1/needs", json={**NEED, "title": "  "},
                               headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})
    problem = response.json()
    assert problem["detail"] == "title must show something and hold no control characters"
    assert problem["detail_ja"].startswith("「件名」")


def test_a_refusal_for_scope_names_the_ward(api: Api) -> None:
    need = triaged_need(api)
    with api.as_("chuo_staff") as client:
        response = client.post(f"/api/v1/needs/{need['id']}/decline", json={"reason": "重複"})
    assert response.status_code == 403
    assert "東区の職員・区長" in response.json()["detail"]


def test_a_refused_transition_speaks_of_statuses_and_actions_in_japanese(api: Api) -> None:
    proposal = new_proposal(api)
    with api.as_("transport") as client:
        response = client.post(f"/api/v1/proposals/{proposal['id']}/acknowledge")
    assert response.status_code == 409
    assert "「下書き」のため「受理」はできません" in response.json()["detail"]
    assert "draft" not in response.json()["detail"]


def test_actions_without_required_fields_take_an_empty_body(api: Api) -> None:
    need = new_need_id(api)
    with api.as_("staff") as client:
        assert client.post(f"/api/v1/needs/{need}/triage").status_code == 200


def new_need_id(api: Api) -> str:
    with api.as_("staff") as client:
        return str(client.post("/api/v1/needs", json=NEED).json()["id"])


def test_allowed_actions_are_what_the_caller_may_do(api: Api) -> None:
    proposal = new_proposal(api)
    with api.as_("staff") as staff, api.as_("mayor") as mayor, api.as_("monitor") as monitor:
        assert "submit" not in staff.get(f"/api/v1/proposals/{proposal['id']}").json()[
            "allowed_actions"]
        assert "submit" in mayor.get(f"/api/v1/proposals/{proposal['id']}").json()[
            "allowed_actions"]
        assert monitor.get(f"/api/v1/proposals/{proposal['id']}").json()[
            "allowed_actions"] == []


QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/needs", {"limit": "0"}), ("/api/v1/needs", {"limit": "201"}),
    ("/api/v1/needs", {"limit": "abc"}), ("/api/v1/needs", {"limit": "true"}),
    ("/api/v1/needs", {"cursor": "²³"}), ("/api/v1/needs", {"cursor": "W1tbW1tbXV1dXV1d"}),
    ("/api/v1/needs", {"observed_from": "1764000000"}),
    ("/api/v1/needs", {"observed_to": "9999-12-31"}),
    ("/api/v1/needs", {"q": "あ" * 201}), ("/api/v1/needs", {"min_position": "-1"}),
    ("/api/v1/needs", {"min_position": "1" * 40}),
    ("/api/v1/proposals", {"fiscal_year": "99999999999999999999"}),
    ("/api/v1/proposals", {"fiscal_year": "1.5"}), ("/api/v1/proposals", {"limit": "-3"}),
    ("/api/v1/views/ward-meeting-agenda", {"since": "0001-01-01", "until": "9999-12-31"}),
    ("/api/v1/views/ward-meeting-agenda", {"since": "2026-05-01", "until": "2026-04-01"}),
    ("/api/v1/views/ward-meeting-agenda", {"since": "1764000000", "until": "2026-05-31"}),
    ("/api/v1/metrics/response", {"group_by": "ward", "as_of": "0.5"}),
    ("/api/v1/metrics/response", {"group_by": "ward", "as_of": "2026-01-01T00:00:00+99:00"}),
    ("/api/v1/metrics/response", {"group_by": "ward", "as_of": "2026-01-01T00:00:00"}),
    ("/api/v1/metrics/response", {"group_by": "ward", "from": "2026-05-01",
                                  "to": "2025-01-01"}),
    ("/api/v1/metrics/response", {"group_by": "nope"}),
    ("/api/v1/metrics/uniformity", {"metric": "nope"}),
    ("/api/v1/metrics/backlog", {"as_of": "1900-01-01T00:00:00Z"}),
    ("/api/v1/views/ward-feedback/higashi", {"limit": "1000"}),
]


@pytest.mark.parametrize(("path", "params"), QUERIES, ids=[f"{p}?{q}" for p, q in QUERIES])
def test_bad_query_parameters_are_422_problems(api: Api, path: str,
                                               params: dict[str, Any]) -> None:
    with api.as_("monitor") as client:
        response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["msg"]


def test_history_cursor_that_is_not_ours_is_refused(api: Api) -> None:
    need = new_need_id(api)
    with api.as_("staff") as client:
        for cursor in ("²", "-1", "x", "9" * 30):
            response = client.get(f"/api/v1/needs/{need}/history", params={"cursor": cursor})
            assert response.status_code == 422, (cursor, response.text)
