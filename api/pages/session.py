"""Signing in to the pages: a signed session cookie, its CSRF token, and the signed-in actor.

The cookie holds only the user's id, a CSRF token and an expiry, signed with HMAC;
the user is looked up on every request, so a revoked token ends its sessions too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from domain.permissions import Actor
from wiring.bootstrap import Container

COOKIE = "tsunagi_session"
LANG_COOKIE = "tsunagi_lang"
#: a working day and some: staff sign in again each morning
LIFETIME_SECONDS = 10 * 60 * 60
SECRET_ENV = "TSUNAGI_SESSION_SECRET"


class SignInRequired(Exception):
    """The page needs a signed-in user; the browser is sent to `/login`."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token (e.g. from another site)."""


@dataclass(frozen=True)
class Session:
    """What the cookie carries."""

    user_id: str | None
    csrf: str
    expires: int

    @staticmethod
    def fresh(user_id: str | None = None) -> Session:
        """A new session (a new CSRF token) for `user_id`, or anonymous."""
        return Session(user_id, secrets.token_urlsafe(24), int(time.time()) + LIFETIME_SECONDS)


def _secret(c: Container) -> bytes:
    """The signing key: from the environment, else a file in the data directory, so that
    every worker process on the machine signs alike and a restart keeps sessions."""
    given = os.environ.get(SECRET_ENV)
    if given:
        return given.encode()
    cached: bytes | None = getattr(c, "_session_secret", None)
    if cached is not None:
        return cached
    path = Path(c.settings.data_dir) / "session-secret"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    secret = path.read_text().strip().encode()
    object.__setattr__(c, "_session_secret", secret)
    return secret


def _sign(secret: bytes, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, payload, hashlib.sha256).digest()).decode()


def encode(c: Container, session: Session) -> str:
    """The cookie value of a session."""
    payload = json.dumps({"u": session.user_id, "c": session.csrf, "e": session.expires},
                         separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode() + "." + _sign(_secret(c), payload)


def decode(c: Container, value: str | None) -> Session | None:
    """The session in a cookie value, or None if it is missing, forged or expired."""
    if not value or "." not in value or len(value) > 1000:
        return None
    data, signature = value.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(data.encode())
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(_secret(c), payload), signature):
        return None
    try:
        raw = json.loads(payload)
        session = Session(raw["u"], str(raw["c"]), int(raw["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def current(request: Request) -> Session:
    """This request's session; a new anonymous one (set by `keep`) if there is none."""
    found: Session | None = getattr(request.state, "page_session", None)
    if found is None:
        found = decode(request.app.state.container, request.cookies.get(COOKIE))
        if found is None:
            found = Session.fresh()
            request.state.new_session = found
        request.state.page_session = found
    return found


def start(request: Request, user_id: str | None) -> Session:
    """Begin a new session (sign-in or sign-out): a new CSRF token, so none leaks across."""
    session = Session.fresh(user_id)
    request.state.page_session = session
    request.state.new_session = session
    return session


def keep(request: Request, response: Response) -> None:
    """Write a session begun during this request to its cookie."""
    session: Session | None = getattr(request.state, "new_session", None)
    if session is None:
        return
    response.set_cookie(COOKIE, encode(request.app.state.container, session),
                        max_age=LIFETIME_SECONDS, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def actor(request: Request) -> Actor | None:
    """The signed-in user, if any (and not revoked since)."""
    session = current(request)
    if session.user_id is None:
        return None
    c: Container = request.app.state.container
    user = c.users.get(session.user_id)
    if user is None or user.revoked_at is not None:
        return None
    return user.actor()


def require_actor(request: Request) -> Actor:
    """The signed-in user, or `SignInRequired`."""
    found = actor(request)
    if found is None:
        raise SignInRequired
    return found


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's."""
    expected = current(request).csrf
    if not token or not hmac.compare_digest(token, expected):
        raise CsrfRefused
