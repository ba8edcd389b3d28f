"""The ward desk's forms, and the pages used with the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.harness import Site, need_via_api


def test_a_duplicate_is_merged_from_the_desk_into_the_need_it_repeats(
        signed_in: Callable[[str], Page], site: Site) -> None:
    kept = need_via_api(site, title="公園の照明が切れている（最初の声）")
    duplicate = need_via_api(site, title="公園の照明が切れている（同じ声）")
    staff = signed_in("staff")
    staff.goto("/desk/higashi")
    card = staff.get_by_role("article", name="公園の照明が切れている（同じ声）")
    card.get_by_text("受付・対応").click()
    merge = card.locator("form[data-action=merge]")
    merge.get_by_label("統合先のニーズ").select_option(kept["id"])
    merge.get_by_role("button").click()
    staff.wait_for_url(f"**/needs/{duplicate['id']}")
    expect(staff.locator(".status").first).to_have_text("統合済み")
    expect(staff.get_by_role("link", name="統合先のニーズ")).to_have_attribute(
        "href", f"/needs/{kept['id']}")


def test_the_need_form_can_be_filled_and_sent_with_the_keyboard_alone(
        signed_in: Callable[[str], Page], site: Site) -> None:
    room = signed_in("room")
    room.goto("/needs/new")
    room.keyboard.press("Tab")
    expect(room.get_by_role("link", name="本文へ移動")).to_be_focused()
    outline = room.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    room.get_by_label("件名").focus()
    room.keyboard.type("キーボードだけで記録したニーズ")
    room.keyboard.press("Tab")
    room.keyboard.type("マウスを使わずに入力した。")
    room.get_by_label("聞いた場").focus()
    room.keyboard.press("ArrowDown")  # the first place in the list
    room.get_by_label("施策分野").focus()
    room.keyboard.press("ArrowDown")
    room.get_by_role("button", name="記録する").focus()
    room.keyboard.press("Enter")
    room.wait_for_url("**/needs/*-*")
    expect(room.get_by_role("heading", level=1)).to_have_text("キーボードだけで記録したニーズ")
