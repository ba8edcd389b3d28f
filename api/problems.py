"""RFC 9457 problem details: every refusal answers `application/problem+json`."""

from __future__ import annotations

import logging
import traceback
import uuid
from http import HTTPStatus
from typing import Any

import eventsourcing.persistence as es_persistence
import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import errors

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-Id"
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
    """True if `exc`, or an error it was raised from or groups, says the database is down.

    Walked with one `seen` set over causes, contexts and groups alike: a group whose member
    names the group as its context must not send the walk round forever.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DATABASE_UNAVAILABLE):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)  # raised inside a middleware's task group
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
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
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: details for the errors the router raises with only an English reason phrase
_DEFAULT_DETAILS = {
    404: "この URL はありません。パスを確かめてください (no such path)",
    405: "この URL はこのメソッドを受け付けません。Allow ヘッダーのメソッドを使ってください"
         " (method not allowed here; see the Allow header)",
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
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_TITLES.get(exc.status_code, ("http-error", "エラー / Error"))
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path only.
            headers["Allow"] = ", ".join(allowed_methods(request))
        if exc.status_code in _DEFAULT_DETAILS and detail == HTTPStatus(exc.status_code).phrase:
            detail = _DEFAULT_DETAILS[exc.status_code]  # Starlette's own, English only
        return problem(exc.status_code, slug, title, detail, headers=headers)

    @app.exception_handler(ServiceUnavailable)
    async def on_unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return unavailable_problem(exc.detail, exc.retry_after)

    async def on_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return unavailable_problem(DATABASE_DETAIL, retry_after=2)

    for cls in DATABASE_UNAVAILABLE:
        app.add_exception_handler(cls, on_database_unavailable)
    # Anything else reaches `CatchAll`, outside every middleware, rather than Starlette's
    # ServerErrorMiddleware (plain text, and a full traceback in the log).


class CatchAll:
    """Outermost: every answer carries `X-Request-Id`; an unhandled error is a 500 problem.

    One short log line names the request id, the error and where it was raised.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("database unavailable (request %s): %s", request_id, _one_line(exc))
                response = unavailable_problem(DATABASE_DETAIL, retry_after=2)
            else:
                log.error("500 %s %s request_id=%s: %s", scope["method"], scope["path"],
                          request_id, _one_line(exc))
                log.debug("traceback of request %s", request_id, exc_info=exc)
                response = internal_problem(request_id)
            if not started:  # else the answer is under way and the connection just closes
                await response(scope, receive, send_with_id)


def internal_problem(request_id: str) -> JSONResponse:
    """500: the request id to quote to an operator, and nothing of the error itself."""
    return problem(500, "internal-error", "システムエラー / Internal error",
                   f"予期しないエラーが起きました。問い合わせの際は要求 ID {request_id} を"
                   f" お伝えください (an unexpected error occurred; request id {request_id})",
                   request_id=request_id)


def _one_line(exc: BaseException) -> str:
    """`Type: message at file:line in function`, the message cut to 200 characters."""
    innermost = exc
    while isinstance(innermost, BaseExceptionGroup) and innermost.exceptions:
        innermost = innermost.exceptions[0]
    message = " ".join(str(innermost).split())[:200]
    frames = traceback.extract_tb(innermost.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames \
        else ""
    return f"{type(innermost).__name__}: {message}{where}"



def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path (HEAD wherever GET is)."""
    # Asked method by method: FastAPI's included routers expose no flat list of routes.
    methods = {method for method in _METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL
        for route in request.app.router.routes)}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
