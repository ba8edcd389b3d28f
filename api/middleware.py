"""Request-level rules: the 1 MiB body limit and `Idempotency-Key` replay."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from api.problems import DATABASE_DETAIL, database_unavailable, problem, unavailable_problem
from infra.idempotency import StoredResponse, body_digest

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
_REPLAYED_HEADERS = ("content-type", "etag", "location")


class BodyLimit(BaseHTTPMiddleware):
    """Refuse bodies over 1 MiB with 413 before any work is done."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        declared = request.headers.get("content-length")
        too_big = declared is not None and declared.isdigit() and int(declared) > MAX_BODY
        if not too_big and request.method in ("POST", "PUT", "PATCH"):
            too_big = len(await request.body()) > MAX_BODY
        if too_big:
            return problem(413, "body-too-large",
                           "送信内容が大きすぎます / Request body too large",
                           "本文は 1 MiB までです (the body may be at most 1 MiB)")
        return await call_next(request)


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
