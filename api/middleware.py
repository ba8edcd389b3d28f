"""Request-level rules: limits enforced while reading, and `Idempotency-Key` replay."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.datastructures import URL, Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import DATABASE_DETAIL, database_unavailable, problem, unavailable_problem
from infra.idempotency import IdempotencyStore, StoredResponse, body_digest
from infra.users import User
from wiring.bootstrap import Container

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
T = TypeVar("T")
#: threads for the blocking calls of a request (database, event store): as many as anyio's
#: default limiter allows, so that one slow call does not hold up the rest
_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="tsunagi-request")


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a worker thread, awaited; a cancelled caller still waits for it.

    `loop.run_in_executor` under `asyncio.shield`, rather than anyio's `to_thread`: the same
    hop in about a quarter of the time when other threads want the GIL (anyio's limiter,
    cancel scopes and task lookups run on every call). As with `to_thread`, the call is not
    abandoned half-way: a cancellation is raised once it has returned.
    """
    call = functools.partial(contextvars.copy_context().run, func, *args)
    future = asyncio.get_running_loop().run_in_executor(_THREADS, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.shield(future)
            except asyncio.CancelledError:
                continue
        raise


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


class Idempotency:
    """A POST retried with the same key and body gets the first response again.

    Plain ASGI: the answer is held until it is remembered, then sent as the app wrote it.
    The user it authenticates is left in the scope (`KNOWN_USER`), so the endpoint's
    `current_actor` does not look the token up a second time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        auth = headers.get("authorization", "")
        if not key or not auth.lower().startswith("bearer "):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_at_most(receive, MAX_BODY)  # already read by `BodyLimit`
        except _ClientLeft:
            return
        if body is None:
            await _too_large()(scope, receive, send)
            return
        receive = _replay(body, receive)
        token = auth[7:].strip()
        claim = (scope["method"], URL(scope=scope).path, key)
        c: Container = scope["app"].state.container
        try:
            user, digest, stored = await in_thread(_claim, c, token, claim, body)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            await unavailable_problem(DATABASE_DETAIL, retry_after=2)(scope, receive, send)
            return  # nothing was done
        scope.setdefault("state", {})[KNOWN_USER] = (token, user)
        if user is None:
            await self.app(scope, receive, send)  # the endpoint answers 401
            return
        if stored is not None:
            await _answer_stored(stored, digest)(scope, receive, send)
            return
        await _Remembered(c.idempotency, (user.id, *claim), digest, send).run(
            self.app, scope, receive)


#: the scope's state key under which `Idempotency` leaves (token, user or None)
KNOWN_USER = "tsunagi.known_user"


def _claim(c: Container, token: str, claim: tuple[str, str, str],
           body: bytes) -> tuple[User | None, str, StoredResponse | None]:
    """In one worker thread: the token's user, the body's digest and the key's claim."""
    user = c.users.authenticate(token)
    if user is None:
        return None, "", None
    digest = body_digest(body)
    return user, digest, c.idempotency.begin(user.id, *claim, digest)


def _answer_stored(stored: StoredResponse, digest: str) -> Response:
    if stored.body_hash != digest:
        return problem(422, "idempotency-key-reused",
                       "Idempotency-Key が別の内容で再利用されました / Idempotency-Key reused",
                       "同じキーで異なる内容が送られました。新しいキーを使ってください"
                       " (this key was used with a different body)")
    if stored.status == 0:
        return problem(409, "idempotency-key-in-use",
                       "同じキーの要求を処理中です / A request with this key is running",
                       "同じ Idempotency-Key の最初の要求がまだ処理中です。少し待って"
                       "再送してください (the first request with this key is still"
                       " running; retry shortly)", headers={"Retry-After": "1"})
    return Response(stored.body, status_code=stored.status, headers=stored.headers)


class _Remembered:
    """Runs the app for a claimed key: its answer is kept (or the claim released), then sent."""

    def __init__(self, store: IdempotencyStore, claim: tuple[str, str, str, str], digest: str,
                 send: Send) -> None:
        self.store, self.claim, self.digest, self.send = store, claim, digest, send
        self.start: Message | None = None
        self.body = bytearray()
        self.passing = False  # a transient answer: released, and passed on as it comes
        self.settled = False  # finished or abandoned

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        try:
            await app(scope, receive, self.hold)
        except BaseException:
            if not self.settled:
                self.settled = True
                await _quietly(self.store.abandon, *self.claim)
            raise
        if not self.settled:  # the app ended without a whole answer
            self.settled = True
            await _quietly(self.store.abandon, *self.claim)

    async def hold(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        if message["type"] == "http.response.start":
            self.start = message
            status = message["status"]
            if status >= 500 or status in (409, 412):
                # Transient answers (a lost race, a stale version) are not replayed.
                self.passing = self.settled = True
                await _quietly(self.store.abandon, *self.claim)
                await self.send(message)
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.body += message.get("body", b"")
        if message.get("more_body", False):
            return
        status = self.start["status"]
        content = bytes(self.body)
        kept = {k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in self.start.get("headers", ())}
        replayed = {k: v for k, v in kept.items() if k in _REPLAYED_HEADERS}
        # The act is done: if the store cannot remember it now, the client still gets the
        # answer (a retry then waits for the claim to expire rather than acting twice at once).
        self.settled = True
        await _quietly(self.store.finish, *self.claim,
                       StoredResponse(self.digest, status, replayed,
                                      without_personal_data(content)))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": content, "more_body": False})


async def _quietly(func: Callable[..., None], *args: Any) -> None:
    """Run a bookkeeping call; a database outage is logged, not turned into a failure."""
    try:
        await in_thread(func, *args)
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
