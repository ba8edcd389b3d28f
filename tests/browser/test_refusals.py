"""A refused form says why in Japanese, beside what caused it, and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.harness import Site, need_via_api, proposal_via_api


def test_a_need_without_a_title_is_refused_beside_the_field_and_nothing_is_recorded(
        signed_in: Callable[[str], Page], site: Site) -> None:
    room = signed_in("room")
    room.goto("/needs/new")
    before = site.container.app.position()
    room.get_by_label("聞いた場").select_option("counter")
    room.get_by_label("施策分野").select_option("transport")
    room.get_by_label("内容").fill("題のない記録")
    room.get_by_label("関係する住民の数").fill("-3")
    room.get_by_text("総合計画の施策").click()
    room.get_by_label(re.compile("^6-5-1 ")).check()
    room.get_by_role("button", name="記録する").click()
    expect(room.locator("#title-error")).to_have_text("入力してください")
    expect(room.locator("#residents_affected-error")).to_have_text("「関係する住民数」は0以上の値です")
    expect(room.get_by_label("件名")).to_have_attribute("aria-invalid", "true")
    expect(room.get_by_role("alert")).to_contain_text("入力内容を確かめてください")
    expect(room.get_by_label("内容")).to_have_value("題のない記録")  # what was typed stays
    expect(room.get_by_label(re.compile("^6-5-1 "))).to_be_checked()  # and what was ticked
    assert site.container.app.position() == before


def test_a_stale_form_is_refused_in_japanese_beside_it_and_changes_nothing(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need = need_via_api(site, title="古い画面から操作されるニーズ")
    staff = signed_in("staff")
    staff.goto(f"/needs/{need['id']}")
    # Meanwhile a colleague triages it.
    assert site.api("staff", "POST", f"/needs/{need['id']}/triage", json={}).status_code == 200
    decline = staff.locator("form[data-action=decline]")
    decline.get_by_label("見送る理由").fill("区の所管外のため")
    decline.get_by_role("button").click()
    alert = staff.locator("form[data-action=decline] [role=alert]")
    expect(alert).to_contain_text("更新されています")
    assert "(" not in (alert.text_content() or "")  # Japanese only on a Japanese page
    after = site.api("staff", "GET", f"/needs/{need['id']}").json()
    assert (after["status"], after["version"]) == ("triaged", 2)


def test_a_decision_without_a_reason_is_refused_beside_the_reason(
        signed_in: Callable[[str], Page], site: Site) -> None:
    proposal = proposal_via_api(site, "理由なしで決めようとする提案", submit=True)
    division = signed_in("transport")
    division.goto(f"/proposals/{proposal['id']}")
    decide = division.locator("form[data-action=decide]")
    decide.get_by_label("決定").select_option("rejected")
    decide.get_by_role("button", name="決定する").click()
    decide = division.locator("form[data-action=decide]")
    expect(decide.locator("#decide-reason-error")).to_have_text("入力してください")
    expect(decide.get_by_role("alert")).to_be_visible()
    after = site.api("transport", "GET", f"/proposals/{proposal['id']}").json()
    assert (after["status"], after["version"]) == (proposal["status"], proposal["version"])


def test_the_proposal_page_offers_one_form_per_action_this_user_may_take_now(
        signed_in: Callable[[str], Page], site: Site) -> None:
    proposal = proposal_via_api(site, "誰が何をできるかを見る提案")
    staff = signed_in("staff")
    staff.goto(f"/proposals/{proposal['id']}")
    offered = staff.locator("section.actions form").evaluate_all(
        "forms => forms.map(f => f.dataset.action)")
    assert offered == ["amend", "withdraw", "comment"]  # not submit: that is the mayor's
    mayor = signed_in("mayor")
    mayor.goto(f"/proposals/{proposal['id']}")
    assert "submit" in mayor.locator("section.actions form").evaluate_all(
        "forms => forms.map(f => f.dataset.action)")
    monitor = signed_in("monitor")
    monitor.goto(f"/proposals/{proposal['id']}")
    expect(monitor.locator("section.actions form")).to_have_count(0)


def test_a_double_submitted_need_form_records_one_need(
        signed_in: Callable[[str], Page], site: Site) -> None:
    room = signed_in("room")
    room.goto("/needs/new")
    form = {name: room.locator(f"main [name={name}]").input_value()
            for name in ("csrf_token", "idempotency_key", "ward", "office", "observed_on")}
    form.update(source="phone", policy_area="transport", title="二度押しされた記録",
                description="送信ボタンが二度押された")
    first = room.request.post("/needs/new", form=form, max_redirects=0)
    second = room.request.post("/needs/new", form=form, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    found = site.api("staff", "GET", "/needs", params={
        "q": "二度押しされた記録", "min_position": site.container.app.position()}).json()
    assert len(found["items"]) == 1


def test_a_form_posted_without_its_csrf_token_changes_nothing(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need = need_via_api(site, title="よそのサイトから狙われるニーズ")
    staff = signed_in("staff")
    response = staff.request.post(f"/needs/{need['id']}/triage",
                                  form={"version": str(need["version"])}, max_redirects=0)
    assert response.status == 403
    assert site.api("staff", "GET", f"/needs/{need['id']}").json()["status"] == "recorded"


def test_an_english_page_gives_the_reason_in_english_only(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need = need_via_api(site, title="英語の画面で古くなったニーズ")
    staff = signed_in("staff")
    staff.goto(f"/needs/{need['id']}?lang=en")
    assert site.api("staff", "POST", f"/needs/{need['id']}/triage", json={}).status_code == 200
    decline = staff.locator("form[data-action=decline]")
    decline.get_by_label("Reason").fill("Not the ward's to handle")
    decline.get_by_role("button").click()
    alert = staff.locator("form[data-action=decline] [role=alert]")
    expect(alert).to_have_text("this need changed after version 1 (now 2); reload and retry")


def test_an_unknown_ward_answers_an_html_page_saying_so(
        signed_in: Callable[[str], Page]) -> None:
    staff = signed_in("staff")
    response = staff.goto("/desk/atlantis")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(staff.get_by_role("alert")).to_have_text("区「atlantis」は見つかりません")
