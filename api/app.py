"""The FastAPI application: routers under `/api/v1`, problems for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api import (
    docs,
    indicators,
    metrics,
    needs,
    openapi,
    pages,
    plan_metrics,
    problems,
    proposals,
    reference,
    views,
)
from api.middleware import BodyLimit, HeadAsGet, Idempotency
from api.render import RoundedJSONResponse
from consumers.feeds import view_health
from wiring.bootstrap import Container, build

DESCRIPTION = """\
つなぎ (Tsunagi) connects what ward offices and community exchange rooms hear to
head-office policy, and measures whether the city responds.

Every request but `/healthz` and these pages needs `Authorization: Bearer <token>`
(tokens come from `tsunagi users add`).

Every error is an RFC 9457 problem (`application/problem+json`): a 405 carries `Allow`
(HEAD works wherever GET does), a 500 a `request_id` (also in `X-Request-Id`), a 503
`Retry-After`. Limits: bodies up to 1 MiB, chunked ones too (413); JSON only (415);
nesting up to 32 levels (400); `Idempotency-Key` and `If-Match` up to 200 characters
(422). Limits on fields and query parameters are in each schema.

Rules beyond the schema (they depend on state, so no schema states them): a
`min_position` not yet reached answers 503 after up to 5 s; an `Idempotency-Key` reused
with another body is 422; a stale `If-Match` is 412; a `cursor` is only one the server
gave out; reference ids must be in the city's data (an office in its ward); `effective_at`
may be neither in the future nor before the record's previous event (422).
"""


def create_app(container: Container | None = None, *, follow: bool = True) -> FastAPI:
    """Build the app; the follower that keeps the views runs while the app is served."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        c: Container = app.state.container
        if follow:
            c.view_feed.start()  # with TSUNAGI_VIEW_FEED=kafka: nothing to run here
        try:
            yield
        finally:
            if follow:
                c.view_feed.stop()

    app = FastAPI(title="Tsunagi つなぎ", version="1", description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,  # see api/docs.py
                  default_response_class=RoundedJSONResponse)
    app.state.container = container or build()
    problems.install(app)
    docs.install(app)
    openapi.install(app)
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit)  # refuse what is too large or malformed before any work
    app.add_middleware(HeadAsGet)
    app.add_middleware(problems.CatchAll)  # outermost: every error, even a middleware's

    v1 = APIRouter(prefix="/api/v1")
    v1.include_router(reference.router)
    v1.include_router(needs.router)
    v1.include_router(proposals.router)
    v1.include_router(views.router)
    v1.include_router(metrics.router)
    v1.include_router(plan_metrics.router)
    v1.include_router(indicators.router)
    app.include_router(v1)
    app.include_router(metrics.operations)  # GET /metrics (Prometheus; token required)
    pages.install(app)  # the staff pages (HTML, session cookie) beside the JSON API

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, object]:
        """Liveness, and each view's feed, position, lag and state ("degraded" if one stopped)."""
        c: Container = app.state.container
        head = c.app.position()
        states = c.view_feed.states()
        return {"status": "degraded" if any(s.failure for s in states) else "ok",
                "log_position": head,
                "view_position": min((s.position for s in states), default=0),
                "views": [view_health(s, head) for s in states]}

    return app


def create_app_from_env() -> FastAPI:
    """The app built from `Settings()` (the environment): uvicorn's factory for `--workers`.

    Each worker process calls this, so each has its own container and follower.
    """
    from infra.settings import Settings

    return create_app(build(Settings()))
