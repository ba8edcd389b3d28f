"""Errors on pages: messages in one language, and HTML error pages instead of problem+json."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.messages import Messages
from api.pages import session
from api.pages.render import lang_of, render
from api.problems import STATUS_OF, ServiceUnavailable, schema_reason
from domain.errors import DomainError
from domain.permissions import Actor
from wiring.bootstrap import Container


def error_message(exc: DomainError, lang: str, request: Request) -> str:
    """A domain error for people, in one language, from the same catalogue as the API."""
    city = request.app.state.container.city
    return Messages(city).detail(exc, "en" if lang == "en" else "ja")


def status_of(exc: DomainError) -> int:
    """The HTTP status the JSON API gives the same error."""
    return next(code for cls, code in STATUS_OF if isinstance(exc, cls))


def field_errors(exc: ValidationError, lang: str, request: Request,
                 prefix: str = "") -> dict[str, str]:
    """Messages by form field name, for showing beside each field (the API's catalogue)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        field = prefix + ("reporter_" + loc[1] if loc[:1] == ["reporter"] and len(loc) > 1
                          else loc[0] if loc else "")
        reason, params = schema_reason(error)
        # Beside its field, a message need not name the field again.
        message = _BESIDE.get(reason)
        text = (message[0 if lang == "ja" else 1] if message else
                Messages(request.app.state.container.city).reason(
                    ".".join(loc) or None, reason, params, "en" if lang == "en" else "ja"))
        out.setdefault(field, text)
    return out


#: short messages for a field's own error line
_BESIDE: dict[str, tuple[str, str]] = {
    "required": ("入力してください", "Required"),
    "blank": ("入力してください（空白だけは不可）", "Required (not only spaces)"),
}


def _error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, message=message)


class PageRoute(APIRoute):
    """A page route: errors answer an HTML page in the reader's language; a page that
    needs a signed-in user sends the browser to `/login` and back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            lang = lang_of(request)
            t = (lambda ja, en: ja) if lang == "ja" else (lambda ja, en: en)
            try:
                return await handler(request)
            except session.SignInRequired:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(back)}", status_code=303)
            except session.CsrfRefused:
                return _error_page(request, 403, t(
                    "フォームの有効期限が切れました。ページを読み込み直してから送信してください",
                    "This form has expired; reload the page and send it again"))
            except DomainError as exc:
                return _error_page(request, status_of(exc), error_message(exc, lang, request))
            except RequestValidationError:
                return _error_page(request, 404, t("ページが見つかりません", "Page not found"))
            except ServiceUnavailable:
                return _error_page(request, 503, t(
                    "ただいま表示できません。しばらくしてから読み込み直してください",
                    "Not available right now; reload in a moment"))
            except HTTPException as exc:
                return _error_page(request, exc.status_code, str(exc.detail))

        return page_handler


def post_action(request: Request, record_id: UUID, action: str, form: FormData,
                run: Callable[[Container, Actor, UUID, str, FormData], object],
                page: Callable[[Request, UUID, int, dict[str, Any]], Response],
                location: str) -> Response:
    """An action's form post on a record's page: CSRF, the command, then 303 to the
    record, or the page again with the reason beside the form that caused it."""
    actor = session.require_actor(request)
    session.check_csrf(request, str(form.get("csrf_token", "")))
    c: Container = request.app.state.container
    lang = lang_of(request)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        run(c, actor, record_id, action, form)
    except ValidationError as exc:
        return page(request, record_id, 422, {
            "action": action, "values": values, "errors": field_errors(exc, lang, request),
            "message": "入力内容を確かめてください" if lang == "ja" else "Check the fields below"})
    except DomainError as exc:
        return page(request, record_id, status_of(exc), {
            "action": action, "values": values, "message": error_message(exc, lang, request)})
    return RedirectResponse(location, 303)


def unknown_action(request: Request) -> Response:
    """The 404 page for an action the record does not have."""
    return render(request, "error.html", 404, message="ページが見つかりません"
                  if lang_of(request) == "ja" else "Page not found")
