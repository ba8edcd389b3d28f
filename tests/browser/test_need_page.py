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
