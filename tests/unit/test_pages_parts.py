"""The pages' pure parts: one-language messages, Japanese dates, signed sessions, form fields."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.needs import NeedIn
from api.pages import session
from api.pages.commands import fields_of, version_of
from api.pages.errors import error_message, field_errors
from api.pages.render import date_text, datetime_text, fiscal_year_of, fiscal_year_text
from domain.errors import InvalidCommand, VersionMismatch
from infra.city import load_city
from wiring.bootstrap import Container


def _request() -> Any:
    """Enough of a request for the message catalogue: the app's city."""
    city = load_city("kumamoto")
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        container=SimpleNamespace(city=city))))


def test_a_japanese_page_shows_a_domain_error_in_japanese_only() -> None:
    exc = VersionMismatch("need", 1, 2)
    assert error_message(exc, "ja", _request()) == \
        "このニーズは版 1 の後に更新されています（最新は版 2）。読み直してからやり直してください"
    assert error_message(exc, "en", _request()) == \
        "this need changed after version 1 (now 2); reload and retry"


def test_an_english_page_names_fields_in_english() -> None:
    assert error_message(InvalidCommand("reason", "blank"), "en", _request()) == \
        "reason must not be blank"
    assert error_message(InvalidCommand("reason", "blank"), "ja", _request()) == \
        "「理由」を入力してください（空白だけは不可）"


def test_dates_read_in_japanese_style_and_instants_in_jst() -> None:
    assert date_text(date(2026, 11, 20), "ja") == "2026年11月20日"
    assert date_text(date(2026, 11, 20), "en") == "2026-11-20"
    # 23:30 UTC on 31 May is 1 June in Tokyo
    assert datetime_text(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), "ja") == "2026年6月1日 08:30"


def test_fiscal_years_are_named_in_reiwa_and_in_the_western_calendar() -> None:
    assert fiscal_year_text(2026, "ja") == "令和8年度（2026年度）"
    assert fiscal_year_text(2019, "ja") == "令和元年度（2019年度）"
    assert fiscal_year_text(2026, "en") == "FY2026"
    assert fiscal_year_of(date(2027, 3, 31)) == 2026
    assert fiscal_year_of(date(2027, 4, 1)) == 2027


def test_validation_errors_become_japanese_messages_by_field() -> None:
    with pytest.raises(ValidationError) as caught:
        NeedIn.model_validate({"ward": "higashi", "office": "x", "source": "phone",
                               "policy_area": "transport", "description": "d",
                               "observed_on": "2026-13-01", "residents_affected": -1,
                               "reporter": {"name": "あ" * 201}})
    errors = field_errors(caught.value, "ja", _request())
    assert errors["title"] == "入力してください"
    assert "YYYY-MM-DD" in errors["observed_on"]
    assert errors["residents_affected"] == "「関係する住民数」は0以上の値です"
    assert errors["reporter_name"] == "「申出者の氏名」は200文字以内で入力してください"


def test_form_fields_leave_out_blanks_and_the_pages_own_fields() -> None:
    form = FormData([("csrf_token", "t"), ("version", "3"), ("title", " 件名 "),
                     ("school_district", ""), ("needs", "a"), ("needs", "b"), ("needs", "")])
    assert fields_of(form) == {"title": "件名", "needs": ["a", "b"]}
    assert version_of(form) == 3
    with pytest.raises(InvalidCommand):
        version_of(FormData([("version", "三")]))


def _container(tmp_path: Path) -> Container:
    return cast(Container, SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path)))


def test_a_session_cookie_reads_back_only_unaltered_and_unexpired(tmp_path: Path) -> None:
    c = _container(tmp_path)
    value = session.encode(c, session.Session("user-1", "csrf", int(time.time()) + 60))
    found = session.decode(c, value)
    assert found is not None and (found.user_id, found.csrf) == ("user-1", "csrf")
    data, signature = value.rsplit(".", 1)
    forged: Any = session.encode(c, session.Session("admin", "csrf", int(time.time()) + 60))
    assert session.decode(c, forged.rsplit(".", 1)[0] + "." + signature) is None
    assert session.decode(c, data + "." + signature[::-1]) is None
    expired = session.encode(c, session.Session("user-1", "csrf", int(time.time()) - 1))
    assert session.decode(c, expired) is None
    assert session.decode(_container(tmp_path / "elsewhere"), value) is None  # another key


def test_every_event_a_timeline_can_show_has_a_name_in_both_languages() -> None:
    from api.pages.labels import EVENTS
    from domain.need import Need
    from domain.proposal import Proposal

    shown = {cls.__qualname__ + name for cls in (Need, Proposal)
             for name, value in vars(cls).items()
             if isinstance(value, type) and issubclass(value, cls.Event)
             and value is not cls.Event and name != "Created"}  # Created: the library's base
    assert shown - set(EVENTS) == set()


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("http", False)])
def test_the_session_cookie_is_http_only_lax_and_secure_over_https(
        tmp_path: Path, scheme: str, secure: bool) -> None:
    from starlette.requests import Request
    from starlette.responses import Response

    app = SimpleNamespace(state=SimpleNamespace(container=_container(tmp_path)))
    request = Request({"type": "http", "scheme": scheme, "method": "GET", "path": "/login",
                       "headers": [], "query_string": b"", "app": app,
                       "server": ("tsunagi.example", 443), "state": {}})
    session.start(request, "user-1")
    response = Response()
    session.keep(request, response)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=36000" in cookie
    assert ("Secure" in cookie) is secure
