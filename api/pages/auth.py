"""Signing in and out, the language switch, and the home page of each role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from api.pages import session
from api.pages.errors import PageRoute
from api.pages.render import lang_of, render
from domain.permissions import Actor, Role
from wiring.bootstrap import Container

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (`//evil`, `https://…`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def home_of(actor: Actor) -> str:
    """Where each role starts its day."""
    if actor.role == Role.EXCHANGE_ROOM_STAFF and actor.office:
        return f"/feedback/office/{actor.office}"
    if actor.role in (Role.WARD_STAFF, Role.WARD_MAYOR) and actor.ward:
        return f"/desk/{actor.ward}"
    if actor.role == Role.DEPARTMENT_REVIEWER and actor.department:
        return f"/queue/{actor.department}"
    return "/dashboard"


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The sign-in form (a token from `tsunagi users add`)."""
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def login(request: Request, token: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/") -> Response:
    """Sign in: a new session bound to the token's user."""
    session.check_csrf(request, csrf_token)
    c: Container = request.app.state.container
    user = await run_in_threadpool(c.users.authenticate, token.strip()) if token.strip() else None
    if user is None:
        message = ("トークンが正しくありません。管理者から受け取ったトークンを貼り付けてください"
                   if lang_of(request) == "ja" else
                   "That token is not valid; paste the token your administrator gave you")
        return await run_in_threadpool(lambda: render(request, "login.html", status=401,
                                                      next=safe_next(next), error=message))
    session.start(request, user.id)
    target = safe_next(next)
    response = RedirectResponse(home_of(user.actor()) if target == "/" else target, 303)
    session.keep(request, response)
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    """Sign out: the session is replaced by an anonymous one."""
    session.start(request, None)
    response = RedirectResponse("/login", 303)
    session.keep(request, response)
    return response


@router.get("/")
def home(request: Request) -> Response:
    """Each role's own start page."""
    actor = session.require_actor(request)
    return RedirectResponse(home_of(actor), 303)
