"""Signing in with a token, the session cookie, the header, the language switch."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.harness import Site, sign_in


def test_signing_in_shows_who_their_role_and_scope_in_the_header(page: Page, site: Site) -> None:
    sign_in(page, site, "staff")
    expect(page.get_by_test_id("signed-in")).to_have_text("東 太郎（区役所職員・東区）")
    assert page.url.endswith("/desk/higashi")


def test_session_cookie_is_http_only_lax_and_expiring(page: Page, site: Site,
                                                       context: BrowserContext) -> None:
    sign_in(page, site, "room")
    cookie = next(c for c in context.cookies() if c["name"] == "tsunagi_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["expires"] > 0  # not a browser-lifetime cookie: it expires


def test_a_wrong_token_is_refused_in_japanese_beside_the_field(page: Page, site: Site) -> None:
    page.goto("/login")
    page.get_by_label("トークン").fill("not-a-token")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("トークンが正しくありません")
    assert "(" not in (page.get_by_role("alert").text_content() or "")
    page.goto("/desk/higashi")
    assert "/login" in page.url  # still signed out


def test_a_page_without_sign_in_sends_to_login_and_back(page: Page, site: Site) -> None:
    page.goto("/queue/transport-planning")
    assert "/login?next=" in page.url
    page.get_by_label("トークン").fill(site.tokens["transport"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/queue/transport-planning")


def test_signing_out_ends_the_session(page: Page, site: Site) -> None:
    sign_in(page, site, "staff")
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")
    page.goto("/desk/higashi")
    assert "/login" in page.url


def test_a_login_post_without_the_csrf_token_signs_nobody_in(page: Page, site: Site,
                                                             context: BrowserContext) -> None:
    page.goto("/login")
    response = page.request.post("/login", form={"token": site.tokens["staff"]},
                                 max_redirects=0)
    assert response.status == 403
    page.goto("/desk/higashi")
    assert "/login" in page.url


def test_english_is_switched_on_with_lang_and_remembered(page: Page, site: Site) -> None:
    sign_in(page, site, "staff")
    page.goto("/desk/higashi?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/agenda")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ward mayors' meeting agenda")
    page.goto("/agenda?since=2026-05-01&until=2026-05-31")
    page.get_by_role("link", name="日本語").click()
    page.wait_for_url("**/agenda?since=2026-05-01&until=2026-05-31&lang=ja")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("区長会議の議題")
