"""The mayors' agenda (printable) and the metrics dashboard (charts, tables, CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from domain.calendar import JST
from tests.browser.harness import Site, proposal_via_api


def test_the_agenda_lists_a_decision_by_title_ward_and_division_and_prints_without_navigation(
        signed_in: Callable[[str], Page], site: Site) -> None:
    proposal = proposal_via_api(site, "議題に載る決定済みの提案", submit=True)
    assert site.api("transport", "POST", f"/proposals/{proposal['id']}/decide", json={
        "decision": "deferred", "reason": "来年度に再検討",
        "deferred_to_fiscal_year": 2027}).is_success
    today = datetime.now(JST).date()
    mayor = signed_in("mayor")
    mayor.goto(f"/agenda?since={today.replace(day=1)}&until={today}&ward=higashi")
    row = mayor.locator("#a-decisions + .table-wrap tr", has_text="議題に載る決定済みの提案")
    expect(row).to_contain_text("東区")
    expect(row).to_contain_text("交通企画課")
    expect(row).to_contain_text("保留")
    expect(mayor.locator(".period")).to_contain_text(f"{today.year}年{today.month}月1日")
    mayor.emulate_media(media="print")
    expect(mayor.get_by_role("navigation")).to_be_hidden()
    expect(mayor.locator("form.filters")).to_be_hidden()
    expect(mayor.locator(".printed")).to_be_visible()
    breaks = mayor.locator(".agenda-section").evaluate_all(
        "s => s.map(e => getComputedStyle(e).breakBefore)")
    assert breaks[0] != "page" and set(breaks[1:]) == {"page"}


def test_an_agenda_period_backwards_is_refused_in_japanese(
        signed_in: Callable[[str], Page]) -> None:
    monitor = signed_in("monitor")
    response = monitor.goto("/agenda?since=2026-06-01&until=2026-05-01")
    assert response is not None and response.status == 422
    expect(monitor.get_by_role("alert")).to_have_text(
        "期間の始め（2026-06-01）が終わり（2026-05-01）より後になっています")


def test_the_dashboard_draws_a_chart_beside_each_table_and_marks_small_wards(
        signed_in: Callable[[str], Page], site: Site) -> None:
    proposal_via_api(site, "指標に数えられる提案", submit=True)
    monitor = signed_in("monitor")
    monitor.goto("/dashboard")
    for section in ("m-ward", "m-department", "m-month", "m-uniformity", "m-backlog"):
        block = monitor.locator(f"section[aria-labelledby={section}]")
        expect(block.locator("svg[role=img]")).to_have_count(1)
        expect(block.locator("table")).to_have_count(1)
    backlog = monitor.locator("section[aria-labelledby=m-backlog] tbody")
    expect(backlog).to_contain_text("交通企画課")
    # A ward with fewer than five items behind its value is shown, and flagged with ※.
    rows = monitor.locator("section[aria-labelledby=m-uniformity] tbody tr").evaluate_all(
        "rows => rows.map(r => [r.className, r.cells[2].textContent, r.cells[3].textContent])")
    assert len(rows) == 5
    assert all((cls == "flagged") == (int(n) < 5) == (mark == "※") for cls, n, mark in rows)
    assert any(cls == "flagged" for cls, _, _ in rows)


def test_each_dashboard_table_downloads_as_csv_that_excel_reads_as_utf8(
        signed_in: Callable[[str], Page]) -> None:
    monitor = signed_in("monitor")
    monitor.goto("/dashboard")
    with monitor.expect_download() as download:
        monitor.locator("section[aria-labelledby=m-ward] a.csv").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["区 / Ward", "提案数 / proposals"]
    assert "東区" in [r[0] for r in rows[1:]]
    assert download.value.suggested_filename.startswith("tsunagi-ward-")


def test_a_future_as_of_is_refused_and_a_past_one_is_shown(
        signed_in: Callable[[str], Page]) -> None:
    monitor = signed_in("monitor")
    response = monitor.goto("/dashboard?as_of=2999-01-01")
    assert response is not None and response.status == 422
    expect(monitor.get_by_role("alert")).to_have_text("「基準日時」（2999-01-01）は未来の日時です")
    monitor.goto("/dashboard?as_of=2026-05-31")
    expect(monitor.locator("p.meta")).to_contain_text("2026年5月31日 23:59")
