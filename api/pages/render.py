"""Rendering pages: the Jinja2 environment, the language, Japanese dates and the layout context."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.pages import labels, session
from domain.calendar import JST
from domain.permissions import Actor
from domain.reference import CityData
from wiring.bootstrap import Container

LANGS = ("ja", "en")
#: the first year of Reiwa (令和元年) is 2019
REIWA_START = 2018

env = Environment(loader=PackageLoader("api", "templates"),
                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def lang_of(request: Request) -> str:
    """`?lang=` if given (and then remembered), else the remembered one, else Japanese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(session.LANG_COOKIE)
    return kept if kept in LANGS else "ja"


def date_text(value: date | datetime | str | None, lang: str) -> str:
    """2026年11月20日 (Japanese) or 2026-11-20; instants are read in JST."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(JST).date()
    if lang == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def datetime_text(value: datetime | None, lang: str) -> str:
    """2026年11月20日 14:05 in JST."""
    if value is None:
        return ""
    local = value.astimezone(JST)
    return f"{date_text(local.date(), lang)} {local:%H:%M}"


def fiscal_year_text(year: int | None, lang: str) -> str:
    """令和8年度（2026年度） or FY2026."""
    if year is None:
        return ""
    if lang != "ja":
        return f"FY{year}"
    era = year - REIWA_START
    era_text = "元" if era == 1 else str(era)
    return f"令和{era_text}年度（{year}年度）" if era >= 1 else f"{year}年度"


def fiscal_year_of(value: date | datetime) -> int:
    """The fiscal year (1 April – 31 March, JST) of a date or instant."""
    day = value.astimezone(JST).date() if isinstance(value, datetime) else value
    return day.year if day.month >= 4 else day.year - 1


def names(city: CityData, lang: str) -> dict[str, Any]:
    """Functions the templates use to show reference data by name."""

    def name(kind: str, ref: str | None) -> str:
        if ref is None:
            return ""
        found = getattr(city, kind)(ref)
        if found is None:
            return ref
        return str(found.name_ja if lang == "ja" else found.name_en)

    return {"name": name}


def scope_text(actor: Actor, city: CityData, lang: str) -> str:
    """The signed-in user's scope by name (ward, office or division)."""
    name = names(city, lang)["name"]
    if actor.office:
        return str(name("office", actor.office))
    if actor.ward and actor.role.value in ("ward_staff", "ward_mayor"):
        return str(name("ward", actor.ward))
    if actor.department:
        return str(name("department", actor.department))
    return "全体" if lang == "ja" else "all"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the request's language, with the layout's context and the session cookie."""
    c: Container = request.app.state.container
    lang = lang_of(request)
    actor: Actor | None = context.pop("actor", None)
    if actor is None:
        actor = session.actor(request)

    def t(ja: str, en: str) -> str:
        return ja if lang == "ja" else en

    def lab(table: str, code: str | None) -> str:
        return labels.label(getattr(labels, table.upper()), code, lang)

    other = "en" if lang == "ja" else "ja"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
                      + [("lang", other)])
    html = env.get_template(template).render(
        switch_url=f"{request.url.path}?{query}",
        request=request, lang=lang, t=t, label=lab, labels=labels, actor=actor, city=c.city,
        csrf=session.current(request).csrf, path=request.url.path,
        scope=scope_text(actor, c.city, lang) if actor else "",
        date=lambda v: date_text(v, lang), datetime=lambda v: datetime_text(v, lang),
        fiscal_year=lambda y: fiscal_year_text(y, lang), fiscal_year_of=fiscal_year_of,
        **names(c.city, lang), **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(session.LANG_COOKIE, lang, max_age=365 * 24 * 3600,
                            samesite="lax", httponly=True, path="/")
    session.keep(request, response)
    return response
