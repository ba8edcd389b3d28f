"""A need's own page: who sees the reporter, and correcting what was recorded."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.harness import Site, need_via_api


def test_the_reporter_is_shown_to_the_office_and_ward_but_never_to_a_division(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need = need_via_api(site, title="通報者つきのニーズ",
                        reporter={"name": "熊本 一郎", "contact": "090-1111-2222"})
    for person in ("room", "staff"):
        tab = signed_in(person)
        tab.goto(f"/needs/{need['id']}")
        expect(tab.locator("section.personal")).to_contain_text("熊本 一郎")
    division = signed_in("transport")
    division.goto(f"/needs/{need['id']}")
    expect(division.get_by_role("heading", level=1)).to_have_text("通報者つきのニーズ")
    expect(division.locator("body")).not_to_contain_text("熊本 一郎")
    expect(division.locator("body")).not_to_contain_text("090-1111-2222")


def test_the_office_corrects_a_need_on_its_page_and_the_timeline_shows_it(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need = need_via_api(site, "room", title="バス亭にベンチ")
    room = signed_in("room")
    room.goto(f"/needs/{need['id']}")
    amend = room.locator("form[data-action=amend]")
    amend.get_by_label("件名").fill("バス停にベンチ")
    amend.get_by_role("button").click()
    room.wait_for_url(f"**/needs/{need['id']}")
    expect(room.get_by_role("heading", level=1)).to_have_text("バス停にベンチ")
    expect(room.locator(".timeline")).to_contain_text("修正")
    after = site.api("room", "GET", f"/needs/{need['id']}").json()
    assert (after["title"], after["description"]) == ("バス停にベンチ", need["description"])


def test_the_ward_page_filters_by_status_and_by_whether_feedback_was_given(
        signed_in: Callable[[str], Page], site: Site) -> None:
    declined = need_via_api(site, title="見送られて伝えられたニーズ")
    site.api("staff", "POST", f"/needs/{declined['id']}/decline", json={"reason": "所管外"})
    assert site.api("staff", "POST", f"/needs/{declined['id']}/feedback", json={
        "message": "所管外のため県へお伝えしました", "channel": "letter",
        "delivered_on": "2026-11-26"}).is_success
    waiting = need_via_api(site, title="まだ返事のないニーズ")
    staff = signed_in("staff")
    staff.goto("/feedback/ward/higashi")
    staff.get_by_label("フィードバック").select_option("no")
    staff.get_by_role("button", name="表示").click()
    expect(staff.get_by_role("article", name=waiting["title"])).to_be_visible()
    expect(staff.get_by_role("article", name=declined["title"])).to_have_count(0)
    staff.get_by_label("状態で絞り込む").select_option("closed")
    staff.get_by_label("フィードバック").select_option("yes")
    staff.get_by_role("button", name="表示").click()
    item = staff.get_by_role("article", name=declined["title"])
    expect(item.locator(".latest")).to_contain_text("所管外のため県へお伝えしました")
    expect(staff.get_by_role("article", name=waiting["title"])).to_have_count(0)
    item.get_by_text("経過を見る").click()
    expect(item.locator(".timeline")).to_contain_text("見送り")
