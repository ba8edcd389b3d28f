"""The staff pages: server-rendered HTML, Japanese first, signed in with a session cookie."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import agenda, auth, dashboard, desks, needs, plan_dashboard, proposals

STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI) -> None:
    """Serve the pages and their own static files (nothing comes from a CDN)."""
    for module in (auth, needs, proposals, desks, agenda, dashboard, plan_dashboard):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
