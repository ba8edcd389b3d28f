"""Request-level rules: limits enforced while reading, and `Idempotency-Key` replay."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import DATABASE_DETAIL, database_unavailable, problem, unavailable_problem
from infra.idempotency import StoredResponse, body_digest

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
#: deeper JSON than this is refused before it is parsed (the parser recurses per level)
MAX_JSON_DEPTH = 32
#: the longest `Idempotency-Key` and `If-Match` read; longer ones are refused, not cut
MAX_HEADER_CHARS = 200
_REPLAYED_HEADERS = ("content-type", "etag", "location")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_DIGITS = re.compile(r"[0-9]+")


class HeadAsGet:
    """HEAD is answered wherever GET is: the GET route runs and its body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}  # Content-Length stays the GET's
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class BodyLimit:
    """Limits enforced while reading: body size (chunked too), JSON depth, header lengths.

    The body is read here, at most 1 MiB + 1 byte of it, and handed on whole to the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = _header_refusal(headers)
        declared = headers.get("content-length", "")
        if refusal is None and _DIGITS.fullmatch(declared) and (
                len(declared) > 9 or int(declared) > MAX_BODY):  # int() of 5,000 digits raises
            refusal = _too_large()
        if refusal is None and scope["method"] in _BODY_METHODS:
            try:
                body = await _read_at_most(receive, MAX_BODY)
            except _ClientLeft:
                return  # half a body is not a request: nobody is left to answer
            if body is None:
                refusal = _too_large()
            else:
                refusal = _body_refusal(scope, headers, body)
                receive = _replay(body, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _too_large() -> Response:
    return problem(413, "body-too-large", "送信内容が大きすぎます / Request body too large",
                   "本文は 1 MiB までです (the body may be at most 1 MiB)")


class _ClientLeft(Exception):
    """The client disconnected before its body was complete."""


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes (the rest is not read)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the body already read, then the client's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _header_refusal(headers: Headers) -> Response | None:
    for name in ("Idempotency-Key", "If-Match"):
        value = headers.get(name)
        if value is not None and len(value) > MAX_HEADER_CHARS:
            msg = f"{name} は {MAX_HEADER_CHARS} 文字までです (at most {MAX_HEADER_CHARS}" \
                  " characters)"
            return problem(422, "header-too-long", "ヘッダーが長すぎます / Header too long",
                           msg, errors=[{"loc": ["header", name], "msg": msg}])
    return None


def _body_refusal(scope: Scope, headers: Headers, body: bytes) -> Response | None:
    """415 for a body that is not JSON on the JSON API, 400 for JSON nested too deep."""
    if not body:
        return None
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json"))
    if not is_json:
        if not scope["path"].startswith("/api/"):
            return None  # the staff pages take forms
        return problem(415, "unsupported-media-type", "JSON で送ってください / Send JSON",
                       f"本文は Content-Type: application/json で送ってください"
                       f" (got {media!r}; send application/json)")
    if json_depth(body) > MAX_JSON_DEPTH:
        return problem(400, "json-too-deep",
                       "JSON の入れ子が深すぎます / JSON nested too deeply",
                       f"JSON の入れ子は {MAX_JSON_DEPTH} 段までです"
                       f" (nesting may be at most {MAX_JSON_DEPTH} levels)")
    return None


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in `body`, counted without parsing it."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep: not worth scanning
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b"", body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class Idempotency(BaseHTTPMiddleware):
    """A POST retried with the same key and body gets the first response again."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("idempotency-key")
        auth = request.headers.get("authorization", "")
        if request.method != "POST" or not key or not auth.lower().startswith("bearer "):
            return await call_next(request)
        c = request.app.state.container
        try:
            user = await to_thread.run_sync(c.users.authenticate, auth[7:].strip())
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            return unavailable_problem(DATABASE_DETAIL, retry_after=2)
        if user is None:
            return await call_next(request)  # the endpoint answers 401
        body = await request.body()
        digest = body_digest(body)
        scope = (user.id, request.method, request.url.path, key)
        store = c.idempotency
        try:
            stored = await to_thread.run_sync(store.begin, *scope, digest)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            return unavailable_problem(DATABASE_DETAIL, retry_after=2)  # nothing was done
        if stored is not None:
            if stored.body_hash != digest:
                return problem(422, "idempotency-key-reused",
                               "Idempotency-Key が別の内容で再利用されました"
                               " / Idempotency-Key reused",
                               "同じキーで異なる内容が送られました。新しいキーを使ってください"
                               " (this key was used with a different body)")
            if stored.status == 0:
                return problem(409, "idempotency-key-in-use",
                               "同じキーの要求を処理中です / A request with this key is running",
                               "同じ Idempotency-Key の最初の要求がまだ処理中です。少し待って"
                               "再送してください (the first request with this key is still"
                               " running; retry shortly)", headers={"Retry-After": "1"})
            return Response(stored.body, status_code=stored.status, headers=stored.headers)
        try:
            response = await call_next(request)
        except BaseException:
            await _quietly(store.abandon, *scope)
            raise
        if response.status_code >= 500 or response.status_code in (409, 412):
            # Transient answers (a lost race, a stale version) are not replayed.
            await _quietly(store.abandon, *scope)
            return response
        chunks = [part async for part in response.body_iterator]  # type: ignore[attr-defined]
        content = b"".join(p if isinstance(p, bytes) else p.encode() for p in chunks)
        headers = {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS}
        # The act is done: if the store cannot remember it now, the client still gets the
        # answer (a retry then waits for the claim to expire rather than acting twice at once).
        await _quietly(store.finish, *scope,
                       StoredResponse(digest, response.status_code, headers,
                                      without_personal_data(content)))
        return Response(content, status_code=response.status_code,
                        headers=dict(response.headers))


async def _quietly(func: Callable[..., None], *args: Any) -> None:
    """Run a bookkeeping call; a database outage is logged, not turned into a failure."""
    try:
        await to_thread.run_sync(func, *args)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        log.warning("idempotency record not kept: %s", exc)


def without_personal_data(content: bytes) -> bytes:
    """The response as kept for replay: personal data lives only in the vault.

    A replay shows `reporter: null`; a client allowed to see it reads the need again.
    """
    try:
        parsed = json.loads(content)
    except ValueError:
        return content
    if isinstance(parsed, dict) and parsed.get("reporter") is not None:
        parsed["reporter"] = None
        return json.dumps(parsed, ensure_ascii=False).encode()
    return content
