"""The FastAPI application: routers under `/api/v1`, problems for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api import metrics, needs, problems, proposals, reference, views
from api.middleware import BodyLimit, Idempotency
from consumers.feeds import view_health
from wiring.bootstrap import Container, build

DESCRIPTION = """\
つなぎ (Tsunagi) connects what ward offices and community exchange rooms hear to
head-office policy, and measures whether the city responds.

Every request but `/healthz` and these pages needs `Authorization: Bearer <token>`
(tokens come from `tsunagi users add`). Errors are RFC 9457 problems.
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
                  lifespan=lifespan)
    app.state.container = container or build()
    problems.install(app)
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit)  # outermost: refuse oversize bodies first

    v1 = APIRouter(prefix="/api/v1")
    v1.include_router(reference.router)
    v1.include_router(needs.router)
    v1.include_router(proposals.router)
    v1.include_router(views.router)
    v1.include_router(metrics.router)
    app.include_router(v1)
    app.include_router(metrics.operations)  # GET /metrics (Prometheus; token required)

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
