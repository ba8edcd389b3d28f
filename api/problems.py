"""RFC 9457 problem details: every refusal answers `application/problem+json`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import eventsourcing.persistence as es_persistence
import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.messages import REASONS, TITLES, Lang, Messages
from domain import errors

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
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
    return problem(422, "validation-error", title, detail, **extra)


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
    "string_pattern_mismatch": ("blank", None),  # the only pattern on texts is "\\S"
}


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
