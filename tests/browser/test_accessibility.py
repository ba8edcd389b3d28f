"""axe-core on every page, as each page's user sees it: no serious or critical violation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.harness import Site, need_via_api, proposal_via_api

#: (who, page): `{need}`, `{draft}` and `{decided}` are filled in from the scene
PAGES = [
    (None, "/login"),
    ("room", "/needs/new"),
    ("staff", "/needs/{need}"),
    ("staff", "/desk/higashi"),
    ("staff", "/proposals/new?needs={triaged}"),
    ("mayor", "/proposals/{draft}"),
    ("transport", "/proposals/{decided}"),
    ("transport", "/queue/transport-planning"),
    ("room", "/feedback/office/higashi-exchange-room-1"),
    ("staff", "/feedback/ward/higashi"),
    ("monitor", "/agenda"),
    ("monitor", "/dashboard"),
    ("monitor", "/proposals/{missing}"),
    ("staff", "/desk/higashi?lang=en"),
    ("monitor", "/dashboard?lang=en"),
    ("monitor", "/dashboard/plan-progress"),
    ("monitor", "/dashboard/school-districts"),
    ("staff", "/dashboard/plan-progress?lang=en"),
]


@pytest.fixture(scope="module")
def scene(site: Site) -> Iterator[dict[str, str]]:
    """A need of each kind and a proposal in draft and one decided, with feedback."""
    need = need_via_api(site, title="アクセシビリティ確認用のニーズ")
    triaged = need_via_api(site, title="提案待ちのニーズ")
    assert site.api("staff", "POST", f"/needs/{triaged['id']}/triage", json={}).is_success
    draft = proposal_via_api(site, "確認用の下書き提案")
    decided = proposal_via_api(site, "確認用の決定済み提案", submit=True)
    assert site.api("transport", "POST", f"/proposals/{decided['id']}/decide", json={
        "decision": "accepted", "reason": "効果が高い"}).is_success
    assert site.api("transport", "POST", f"/proposals/{decided['id']}/feedback", json={
        "message": "採択されました", "channel": "letter", "delivered_on": "2026-11-25"}).is_success
    yield {"need": need["id"], "triaged": triaged["id"], "draft": draft["id"],
           "decided": decided["id"], "missing": str(uuid.uuid4())}


def serious(axe: Axe, page: Page) -> list[str]:
    """The serious and critical violations on the page, with where they are."""
    results = axe.run(page)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(("person", "path"), PAGES)
def test_page_has_no_serious_accessibility_violations(
        person: str | None, path: str, scene: dict[str, str], axe: Axe, page: Page,
        signed_in: Callable[[str], Page]) -> None:
    tab = signed_in(person) if person else page
    tab.goto(path.format(**scene))
    assert tab.locator("html").get_attribute("lang") in ("ja", "en")
    assert serious(axe, tab) == []


def test_a_refused_form_with_its_messages_has_no_serious_violations(
        axe: Axe, signed_in: Callable[[str], Page]) -> None:
    room = signed_in("room")
    room.goto("/needs/new")
    room.get_by_role("button", name="記録する").click()
    room.locator("#title-error").wait_for()
    assert serious(axe, room) == []
