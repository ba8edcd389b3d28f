"""RFC 9457 problem details: every refusal answers `application/problem+json`."""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Mapping, Sequence
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

from api.messages import REASONS, TITLES, Lang, Messages
from domain import errors
from domain import values as limits

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-Id"
TYPE_BASE = "/problems/"

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
    """A problem+json response.

    A title written "日本語 / English" or a detail written "日本語 (English)" is served as
    Japanese `title`/`detail` with the English as `title_en`/`detail_en`, like every
    message rendered from the catalogue, so no member mixes the two languages.
    """
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "status": status}
    body["title"], title_en = _split(title, _TITLE_PAIR)
    body["detail"], detail_en = _split(detail, _DETAIL_PAIR)
    if "title_ja" not in extra:  # not already rendered English first
        extra.setdefault("title_en", title_en)
        extra.setdefault("detail_en", detail_en)
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_TITLE_PAIR = re.compile(r"(?P<ja>.*[^\x00-\x7f].*?) / (?P<en>[\x00-\x7f]+)")
_DETAIL_PAIR = re.compile(
    r"(?P<ja>.*[^\x00-\x7f].*?)\s*\((?P<en>[\x00-\x7f]*[A-Za-z][\x00-\x7f]*)\)", re.S)


def _split(text: str, pair: re.Pattern[str]) -> tuple[str, str | None]:
    """(Japanese, English) of a "日本語 / English" or "日本語 (English)" text."""
    found = pair.fullmatch(text)
    return (found["ja"], found["en"]) if found else (text, None)


def request_lang(request: Request) -> Lang:
    """English when the client's first `Accept-Language` choice is English, else Japanese."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "ja"


def _messages(request: Request) -> Messages:
    return Messages(request.app.state.container.city)


def bilingual(lang: Lang, title: tuple[str, str], detail: tuple[str, str]) -> dict[str, str]:
    """`title`/`detail` in the asked language, the other language beside them."""
    other = "en" if lang == "ja" else "ja"
    index = {"ja": 0, "en": 1}
    return {"title": title[index[lang]], "detail": detail[index[lang]],
            f"title_{other}": title[index[other]], f"detail_{other}": detail[index[other]]}


def domain_problem(exc: errors.DomainError, request: Request) -> JSONResponse:
    """Map a domain error to its problem response, its message rendered from its code."""
    status = next(code for cls, code in STATUS_OF if isinstance(exc, cls))
    lang, m = request_lang(request), _messages(request)
    body = bilingual(lang, (m.title(exc.code, "ja"), m.title(exc.code, "en")),
                     (m.detail(exc, "ja"), m.detail(exc, "en")))
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.ActionNotAllowed):
        extra = {"current_status": exc.current_status, "allowed_actions": exc.allowed_actions}
    if isinstance(exc, errors.InvalidCommand):
        where = "query" if request.method in ("GET", "HEAD") else "body"
        loc: list[str | int] = [where, *(exc.field.split(".") if exc.field else [])]
        extra = {"errors": [{"loc": loc, "msg": body["detail"], "code": exc.reason,
                             **({"msg_en": m.detail(exc, "en")} if lang == "ja" else {})}]}
    title, detail = body.pop("title"), body.pop("detail")
    return problem(status, exc.code, title, detail, **{**body, **extra})


def validation_problem(errs: Sequence[Mapping[str, Any]], request: Request) -> JSONResponse:
    """422 for schema errors, each message in plain words naming the field."""
    lang, m = request_lang(request), _messages(request)
    items = []
    for e in errs:
        loc = list(e.get("loc", ()))
        field, reason, params = _field_reason(e)
        items.append({"loc": loc, "msg": m.reason(field, reason, params, lang),
                      "code": reason,
                      **({"msg_en": m.reason(field, reason, params, "en")} if lang == "ja"
                         else {})})
    ja = "。".join(m.reason(*_field_reason(e), "ja") for e in errs)
    en = "; ".join(m.reason(*_field_reason(e), "en") for e in errs)
    body = bilingual(lang, (TITLES["validation-error"][0], TITLES["validation-error"][1]),
                     (ja, en))
    title, detail = body.pop("title"), body.pop("detail")
    extra: dict[str, Any] = {**body, "errors": items}
    # A value the schema allows but a rule beyond it refuses (a date past the calendar's
    # years) is answered with that rule's own type, as the domain would answer it.
    rules = {errors.BUSINESS_RULES.get(str(i["code"])) for i in items}
    slug = rules.pop() if len(rules) == 1 and None not in rules else "validation-error"
    return problem(422, str(slug), title, detail, **extra)


def _field_reason(e: Mapping[str, Any]) -> tuple[str | None, str, dict[str, Any]]:
    loc = e.get("loc", ())
    field = ".".join(str(p) for p in loc[1:] if not isinstance(p, int)) or None
    reason, params = schema_reason(e)
    return field, reason, params


#: pydantic error type → (reason, what is expected) for `Messages.reason`
_SCHEMA_TYPES: dict[str, tuple[str, str | None]] = {
    "missing": ("required", None), "string_type": ("wrong_type", "text"),
    "int_type": ("wrong_type", "integer"), "int_parsing": ("wrong_type", "integer"),
    "int_from_float": ("wrong_type", "integer"), "bool_type": ("wrong_type", "boolean"),
    "bool_parsing": ("wrong_type", "boolean"), "float_type": ("wrong_type", "number"),
    "float_parsing": ("wrong_type", "number"), "finite_number": ("not_finite", None),
    "date_type": ("wrong_type", "date"), "date_parsing": ("wrong_type", "date"),
    "date_from_datetime_parsing": ("wrong_type", "date"),
    "date_from_datetime_inexact": ("wrong_type", "date"),
    "datetime_type": ("wrong_type", "instant"), "datetime_parsing": ("wrong_type", "instant"),
    "datetime_from_date_parsing": ("wrong_type", "instant"),
    "timezone_aware": ("naive_instant", None), "uuid_type": ("wrong_type", "uuid"),
    "uuid_parsing": ("wrong_type", "uuid"), "list_type": ("wrong_type", "list"),
    "dict_type": ("wrong_type", "object"), "model_type": ("wrong_type", "object"),
    "model_attributes_type": ("wrong_type", "object"),
    "dataclass_type": ("wrong_type", "object"), "extra_forbidden": ("unknown_field", None),
}


#: the patterns of api/schemas.py, each with the rule it states
_PATTERN_REASONS = {limits.TEXT_PATTERN: "blank_or_control", limits.REF_PATTERN: "not_an_id",
                    limits.OPTIONAL_TEXT_PATTERN: "control_character"}


def schema_reason(e: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The domain's reason (and its parameters) for one pydantic error."""
    kind, ctx = str(e.get("type", "")), dict(e.get("ctx") or {})
    if "input" in e and e["input"] is None and kind.endswith("_type"):
        return "required", {}  # an explicit null where a value is needed
    if kind in REASONS:  # raised by our own validators with the domain's reason
        return kind, ctx
    if kind in _SCHEMA_TYPES:
        reason, expected = _SCHEMA_TYPES[kind]
        return reason, ({"expected": expected} if expected else {})
    if kind == "string_pattern_mismatch":
        return _PATTERN_REASONS.get(str(ctx.get("pattern")), "invalid"), {}
    if kind == "string_too_short":
        return "blank", {}
    if kind == "string_too_long":
        return "too_long", {"max": ctx.get("max_length")}
    if kind == "too_long":
        return "too_many", {"max": ctx.get("max_length")}
    if kind == "too_short":
        return "too_short", {"min": ctx.get("min_length")}
    if kind in ("greater_than_equal", "greater_than"):
        return "at_least", {"min": ctx.get("ge", ctx.get("gt", ""))}
    if kind in ("less_than_equal", "less_than"):
        return "at_most", {"max": ctx.get("le", ctx.get("lt", ""))}
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",")
                   if c.strip()]
        return "choice", {"choices": choices}
    return "invalid", {}


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
    async def on_domain_error(request: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_problem(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(400, "malformed-json", "JSON の形式が正しくありません",
                           "リクエスト本文を JSON として読めません",
                           title_en="Malformed JSON", detail_en="the body is not valid JSON")
        return validation_problem(errs, request)

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
