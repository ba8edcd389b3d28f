"""RFC 9457 problem details: every refusal answers `application/problem+json`."""

from __future__ import annotations

import logging
from typing import Any

import eventsourcing.persistence as es_persistence
import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"
#: fields of a domain error that come from the query string rather than the body
QUERY_FIELDS = frozenset({"cursor"})

#: domain error class → HTTP status (the most specific class wins)
STATUS_OF: list[tuple[type[errors.DomainError], int]] = [
    (errors.NotPermitted, 403),
    (errors.NotFound, 404),
    (errors.VersionMismatch, 412),
    (errors.ConcurrentChange, 409),
    (errors.ActionNotAllowed, 409),
    (errors.NeedNotProposable, 409),
    (errors.MergeTargetInvalid, 409),
    (errors.InvalidCommand, 422),
    (errors.DomainError, 422),
]


class ServiceUnavailable(Exception):
    """The store or a view cannot answer now; the client should retry later."""

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


#: errors that mean the database cannot be reached now (a restart, a dropped connection,
#: an exhausted pool), not that the request is wrong: 503, and the client retries
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # includes AdminShutdown, CannotConnectNow, ConnectionTimeout
    psycopg.InterfaceError,  # "the connection is closed"
    psycopg_pool.PoolTimeout,
    es_persistence.OperationalError,  # the event store wraps psycopg's errors in its own
    es_persistence.InterfaceError,
)


def database_unavailable(exc: BaseException) -> bool:
    """True if `exc`, or an error it was raised from, says the database is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_UNAVAILABLE):
            return True
        if isinstance(current, BaseExceptionGroup) and any(
                database_unavailable(inner) for inner in current.exceptions):
            return True  # raised inside a middleware's task group
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def unavailable_problem(detail: str, retry_after: int = 1) -> JSONResponse:
    """503 with `Retry-After`."""
    return problem(503, "service-unavailable",
                   "ただいま応答できません / Service temporarily unavailable",
                   detail, headers={"Retry-After": str(retry_after)})


DATABASE_DETAIL = ("データベースに接続できません。しばらくしてから再試行してください"
                   " (the database is unavailable; retry shortly)")


def problem(status: int, slug: str, title: str, detail: str,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail,
            **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_problem(exc: errors.DomainError) -> JSONResponse:
    """Map a domain error to its problem response."""
    status = next(code for cls, code in STATUS_OF if isinstance(exc, cls))
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.ActionNotAllowed):
        extra = {"current_status": exc.current_status, "allowed_actions": exc.allowed_actions}
    if isinstance(exc, errors.InvalidCommand):
        where = "query" if exc.field in QUERY_FIELDS else "body"
        extra = {"errors": [{"loc": [where, exc.field] if exc.field else [where],
                             "msg": exc.detail}]}
    return problem(status, exc.slug, exc.title, exc.detail, **extra)


_STATUS_TITLES = {
    400: ("bad-request", "リクエストの形式が正しくありません / Bad request"),
    401: ("unauthenticated", "ログインが必要です / Authentication required"),
    403: ("not-permitted", "この操作の権限がありません / Not permitted"),
    404: ("not-found", "見つかりません / Not found"),
    405: ("method-not-allowed", "この操作は使えません / Method not allowed"),
    413: ("body-too-large", "送信内容が大きすぎます / Request body too large"),
    415: ("unsupported-media-type", "JSON で送ってください / Send JSON"),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(errors.DomainError)
    async def on_domain_error(_: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(400, "malformed-json", "JSON の形式が正しくありません / Malformed JSON",
                           "リクエスト本文を JSON として読めません (the body is not valid JSON)")
        items = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in errs]
        detail = "; ".join(f"{'.'.join(str(p) for p in i['loc'])}: {i['msg']}" for i in items)
        return problem(422, "validation-error", "入力内容に誤りがあります / Invalid input",
                       detail, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_TITLES.get(exc.status_code, ("http-error", "Error"))
        return problem(exc.status_code, slug, title, str(exc.detail),
                       headers=dict(exc.headers or {}))

    @app.exception_handler(ServiceUnavailable)
    async def on_unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return unavailable_problem(exc.detail, exc.retry_after)

    async def on_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return unavailable_problem(DATABASE_DETAIL, retry_after=2)

    for cls in DATABASE_UNAVAILABLE:
        app.add_exception_handler(cls, on_database_unavailable)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Errors raised in middleware (e.g. the idempotency store) arrive here, not above.
        if database_unavailable(exc):
            return await on_database_unavailable(request, exc)
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal-error", "システムエラー / Internal error",
                       "予期しないエラーが起きました"
                       " (an unexpected error occurred)")
