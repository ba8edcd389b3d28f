"""The whole way of one need, through the pages only: heard at a council, triaged by the
ward, proposed, submitted by the mayor, decided by the division, and fed back to the office."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.harness import Site

TITLE = "桜木校区のバス停に屋根とベンチを"
PROPOSAL = "東区のバス停待合環境の改善（桜木）"
TRANSPORT_GOAL = "6-5-1 公共交通の充実と交通ネットワークの整備"


def test_a_need_heard_by_the_office_is_decided_and_its_feedback_reaches_the_office(
        signed_in: Callable[[str], Page], site: Site) -> None:
    room = signed_in("room")
    room.goto("/needs/new")
    expect(room.get_by_label("聞いた日")).to_have_value(re.compile(r"\d{4}-\d{2}-\d{2}"))
    room.get_by_label("校区").select_option("higashi-sakuragi")
    room.get_by_label("聞いた場").select_option("council_meeting")
    room.get_by_label("施策分野").select_option("transport")
    room.get_by_label("聞いた日").fill("2026-11-20")
    room.get_by_label("件名").fill(TITLE)
    room.get_by_label("内容").fill("自治協議会で、高齢者がバスを待つ間に座れないとの声が出た。")
    room.get_by_label("関係する住民の数").fill("120")
    room.get_by_text("総合計画の施策").click()  # opens the plan goals
    room.get_by_label(re.compile("^6-5-1 ")).check()
    room.get_by_label(re.compile("^6-2-3 ")).check()
    room.get_by_label("氏名").fill("熊本 はな")
    room.get_by_label("連絡先").fill("096-000-0000")
    room.get_by_role("button", name="記録する").click()
    room.wait_for_url(re.compile(r"/needs/[0-9a-f-]{36}$"))
    expect(room.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(room.locator("section.personal")).to_contain_text("熊本 はな")
    expect(room.locator(".timeline")).to_contain_text("記録")
    expect(room.locator("dl.facts").first).to_contain_text(TRANSPORT_GOAL)
    expect(room.locator("dl.facts").first).to_contain_text("6-2-3 住民自治活動の活性化")
    need_url = room.url

    staff = signed_in("staff")
    staff.goto("/desk/higashi")
    card = staff.get_by_role("article", name=TITLE)
    card.get_by_text("受付・対応").click()
    card.locator("form[data-action=triage]").get_by_role("button", name="受け付ける").click()
    staff.wait_for_url(need_url)
    expect(staff.locator(".status").first).to_have_text("受付済み")

    staff.goto("/desk/higashi")
    staff.get_by_label(re.compile(TITLE)).check()
    staff.get_by_role("button", name="選んだニーズで事業提案を作る").click()
    staff.wait_for_url(re.compile(r"/proposals/new\?"))
    expect(staff.get_by_label(re.compile(TITLE))).to_be_checked()
    staff.get_by_label("件名").fill(PROPOSAL)
    staff.get_by_label("概要").fill("桜木校区のバス停3か所にベンチと屋根を設置する。")
    staff.get_by_label("主務課").select_option("transport-planning")
    staff.get_by_label("施策分野").select_option("transport")
    staff.get_by_label("概算費用").fill("4800000")
    staff.get_by_text("総合計画の施策").click()
    staff.get_by_label(re.compile("^6-5-1 ")).check()
    staff.get_by_role("button", name="下書きを保存する").click()
    staff.wait_for_url(re.compile(r"/proposals/[0-9a-f-]{36}$"))
    expect(staff.locator(".status").first).to_have_text("下書き")
    expect(staff.locator("dl.facts").first).to_contain_text(TRANSPORT_GOAL)
    proposal_url = staff.url

    mayor = signed_in("mayor")
    mayor.goto(proposal_url)
    mayor.locator("form[data-action=submit]").get_by_role("button").click()
    mayor.wait_for_url(proposal_url)
    expect(mayor.locator(".status").first).to_have_text("提出済み")

    division = signed_in("transport")
    division.goto("/queue/transport-planning")
    division.get_by_role("link", name=PROPOSAL).click()
    division.wait_for_url(proposal_url)
    decide = division.locator("form[data-action=decide]")
    decide.get_by_label("決定").select_option("accepted")
    decide.get_by_label("理由").fill("安全上の効果が高く、来年度予算で対応する。")
    decide.get_by_role("button", name="決定する").click()
    division.wait_for_url(proposal_url)
    expect(division.locator(".status").first).to_have_text("採択")
    feedback = division.locator("form[data-action=feedback]")
    feedback.get_by_label("伝えた内容").fill("採択されました。来年度にベンチと屋根を設置します。")
    feedback.get_by_label("伝え方").select_option("council_meeting")
    feedback.get_by_label("伝えた日").fill("2026-11-25")
    feedback.get_by_role("button").click()
    division.wait_for_url(proposal_url)
    expect(division.locator(".timeline")).to_contain_text("フィードバック")

    room.goto("/feedback/office/higashi-exchange-room-1")
    item = room.get_by_role("article", name=TITLE)
    expect(item.locator(".latest")).to_contain_text("採択されました。来年度にベンチと屋根を設置します。")
    expect(item.locator(".status").last).to_have_text("採択")
