"""The plan progress page and needs per school district: a chart beside each table,
counts that move when a need is heard, silent districts marked, CSV for Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.harness import Site, need_via_api

#: the harness's needs are observed on 2026-11-20, in fiscal year 2026
PLAN = "/dashboard/plan-progress?fiscal_year=2026"


def needs_heard(page: Page) -> dict[str, int]:
    """The needs-heard column by row name."""
    rows = page.locator("table.plan-progress tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent.replace('└ ', '').trim(),"
        " r.cells[1].textContent])")
    return {name: int(n) for name, n in rows}


def test_a_need_under_two_measures_adds_one_to_each_and_one_to_the_chapter(
        signed_in: Callable[[str], Page], site: Site) -> None:
    monitor = signed_in("monitor")
    monitor.goto(PLAN)
    expect(monitor.locator("section[aria-labelledby=m-plan-chart] svg[role=img]")).to_have_count(1)
    before = needs_heard(monitor)
    need_via_api(site, title="公民館の講座を増やしてほしい", plan_goals=["6-3-1", "6-3-2"])
    monitor.goto(f"{PLAN}&min_position=0")
    after = needs_heard(monitor)
    chapter = "第3章 学び育つ教育・文化のまち"
    school = "子どもの学びを支える教育環境の充実"
    lifelong = "生涯学習・文化・スポーツの振興"
    assert after[school] == before[school] + 1
    assert after[lifelong] == before[lifelong] + 1
    assert after[chapter] == before[chapter] + 1  # the union: the need once
    with monitor.expect_download() as download:
        monitor.locator("a.csv").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["施策 goal", "名称 name", "把握ニーズ needs heard"]
    assert [r[2] for r in rows if r[0] == "6-3"] == [str(after[chapter])]


def test_needs_per_school_district_mark_the_silent_and_count_the_heard(
        signed_in: Callable[[str], Page], site: Site) -> None:
    need_via_api(site, title="通学路に街灯を")  # 桜木校区
    monitor = signed_in("monitor")
    monitor.goto("/dashboard/school-districts?since=2026-04-01&until=2026-11-30&ward=higashi")
    block = monitor.locator("section[aria-labelledby=m-districts]")
    expect(block.locator("svg[role=img]")).to_have_count(1)
    sakuragi = block.locator("tbody tr", has_text="桜木校区")
    expect(sakuragi).not_to_have_class("flagged")
    assert int(sakuragi.locator("td").nth(1).inner_text()) >= 1
    expect(block.locator("tbody tr", has_text="託麻北校区")).to_have_class("flagged")
    expect(monitor.locator("p.meta")).to_contain_text("デモ用の仮の数値")
    response = monitor.goto("/dashboard/school-districts?since=2026-06-01&until=2026-05-01")
    assert response is not None and response.status == 422
    expect(monitor.get_by_role("alert")).to_have_text(
        "期間の始め（2026-06-01）が終わり（2026-05-01）より後になっています")
