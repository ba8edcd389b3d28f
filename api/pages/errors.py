"""Errors on pages: messages in one language, and HTML error pages instead of problem+json."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.pages import session
from api.pages.render import lang_of, render
from api.problems import STATUS_OF, ServiceUnavailable
from domain.errors import DomainError


def error_message(exc: DomainError, lang: str) -> str:
    """A domain error for people, in one language.

    Today `detail` reads "日本語 (English)"; the message catalogue (issue 7) will render
    it from the error's code and parameters, and this is the one place to wire it.
    """
    detail = exc.detail
    head, sep, tail = detail.partition(" (")
    if not sep:
        return detail
    return head if lang == "ja" else tail.rstrip(")")


def status_of(exc: DomainError) -> int:
    """The HTTP status the JSON API gives the same error."""
    return next(code for cls, code in STATUS_OF if isinstance(exc, cls))


#: pydantic error type → (Japanese, English) message; `{…}` takes the error's context
_FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("入力してください", "Required"),
    "string_too_short": ("入力してください", "Required"),
    "string_too_long": ("{max_length}文字以内で入力してください",
                        "At most {max_length} characters"),
    "date_from_datetime_parsing": ("日付を選んでください（例: 2026-11-20）",
                                   "Enter a date (e.g. 2026-11-20)"),
    "date_parsing": ("日付を選んでください（例: 2026-11-20）", "Enter a date (e.g. 2026-11-20)"),
    "int_parsing": ("半角数字（整数）で入力してください", "Enter a whole number"),
    "int_from_float": ("半角数字（整数）で入力してください", "Enter a whole number"),
    "greater_than_equal": ("{ge}以上の数を入力してください", "At least {ge}"),
    "less_than_equal": ("{le}以下の数を入力してください", "At most {le}"),
    "literal_error": ("一覧から選んでください", "Choose one of the options"),
    "uuid_parsing": ("一覧から選んでください", "Choose one of the options"),
    "too_short": ("一つ以上選んでください", "Choose at least one"),
    "bool_parsing": ("はい・いいえで答えてください", "Answer yes or no"),
}


def field_errors(exc: ValidationError, lang: str, prefix: str = "") -> dict[str, str]:
    """Messages by form field name, for showing beside each field."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        field = prefix + ("reporter_" + loc[1] if loc[:1] == ["reporter"] and len(loc) > 1
                          else loc[0] if loc else "")
        ja, en = _FIELD_MESSAGES.get(error["type"], ("入力内容を確かめてください",
                                                      "Check this value"))
        try:
            message = (ja if lang == "ja" else en).format(**error.get("ctx", {}))
        except (KeyError, IndexError):
            message = ja if lang == "ja" else en
        out.setdefault(field, message)
    return out


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
                return _error_page(request, status_of(exc), error_message(exc, lang))
            except RequestValidationError:
                return _error_page(request, 404, t("ページが見つかりません", "Page not found"))
            except ServiceUnavailable:
                return _error_page(request, 503, t(
                    "ただいま表示できません。しばらくしてから読み込み直してください",
                    "Not available right now; reload in a moment"))
            except HTTPException as exc:
                return _error_page(request, exc.status_code, str(exc.detail))

        return page_handler
