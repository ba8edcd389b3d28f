"""The OpenAPI document as the server really answers: problem+json and every edge status.

The routers declare what their own code refuses; the edge (middleware, `CatchAll`) answers
more on every route, so those statuses are added here, where the edge is known.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.middleware import MAX_BODY, MAX_HEADER_CHARS, MAX_JSON_DEPTH
from api.problems import PROBLEM_JSON, REQUEST_ID_HEADER

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_SAYS = {
    400: f"Malformed JSON, JSON nested over {MAX_JSON_DEPTH} levels, or an unparsable request",
    401: "No token or a bad one",
    404: "Not found: the record, a reference named in the request, or the path",
    409: "Not allowed in the current status, lost a race, or the same Idempotency-Key"
         " is still running",
    412: "If-Match names a stale version",
    413: f"Body over {MAX_BODY // (1024 * 1024)} MiB (also when sent chunked)",
    415: "Body not sent as application/json",
    422: "Invalid input (validation, reference, effective_at, Idempotency-Key reuse,"
         f" a header over {MAX_HEADER_CHARS} characters)",
    500: "Unexpected error; quote the request id (also in X-Request-Id) to an operator",
    503: "The store or a view is not ready; retry after Retry-After seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    500: {REQUEST_ID_HEADER: {"description": "The request's id, also in the log",
                              "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying",
                          "schema": {"type": "integer"}}},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Retry safely: the same key and body replay the first response (scoped"
                   " to the user, method and path)",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_HEADER_CHARS},
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the corrected document (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = corrected(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the edge's statuses, content types and headers on every operation."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            _correct(path, method, operation)
    return document


def _correct(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    for parameter in parameters:
        if "schema" in parameter:
            parameter["schema"] = _without_null(parameter["schema"])
    headers = {p["name"].lower() for p in parameters if p.get("in") == "header"}
    edge = {500, 503}
    if operation.get("security"):
        edge.add(401)
    if path.startswith("/api/"):
        edge |= {404, 422}
    if method == "post":
        edge |= {400, 409, 413, 415, 422}
        if "idempotency-key" not in headers:
            parameters.append(dict(IDEMPOTENCY_KEY))
    if "if-match" in headers:
        edge.add(412)
    for code in edge:
        responses.setdefault(str(code), {"description": _SAYS[code]})
    for status, response in responses.items():
        if status[0] not in "45":
            continue
        response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
        if int(status) in _HEADERS:
            response["headers"] = {**response.get("headers", {}), **_HEADERS[int(status)]}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter's schema without `null`: a query or header is absent, not null.

    FastAPI writes `str | None` as `anyOf: [string, null]`, and a client reading it sends the
    text "null", which the server then refuses as a value of the string.
    """
    variants = schema.get("anyOf")
    if not isinstance(variants, list) or {"type": "null"} not in variants:
        return schema
    rest = [v for v in variants if v != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest[0], **outer} if len(rest) == 1 else {**outer, "anyOf": rest}
