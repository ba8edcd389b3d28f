"""Screenshots of every page at 768 and 1366 px, on the Kumamoto demo history.

Run by `scripts/screenshots` (it writes `docs/screenshots/`); not a test.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page

from api import queries
from domain.errors import ProposalNotFound
from domain.proposal import Proposal
from domain.states import AFTER_DECISION
from infra.demo import demo_proposal_id, load_demo
from infra.settings import Settings
from tests.browser.harness import Site, chromium, serve, sign_in
from wiring.bootstrap import build

WIDTHS = (768, 1366)


def _pick(site: Site) -> tuple[Proposal, Proposal | None]:
    """A decided demo proposal (for its timeline and clocks) and a draft, if there is one."""
    app = site.container.app
    decided = draft = None
    for i in range(500):
        try:
            p = app.get_proposal(demo_proposal_id(i))
        except ProposalNotFound:  # past the demo's last proposal
            break
        if decided is None and p.status in AFTER_DECISION and p.feedback:
            decided = p
        if draft is None and p.status == "draft":
            draft = p
    assert decided is not None, "the demo has no decided proposal with feedback"
    return decided, draft


def _pages(site: Site, proposal: Proposal, draft: Proposal | None) -> list[tuple[str, str, str]]:
    need = site.container.app.get_need(proposal.needs[0])
    pages = [
        ("login", "", "/login"),
        ("need-new", "room", "/needs/new"),
        ("need", "staff", f"/needs/{need.id}"),
        ("desk", "staff", f"/desk/{proposal.ward}"),
        ("proposal", "reviewer", f"/proposals/{proposal.id}"),
        ("queue", "reviewer", f"/queue/{proposal.lead_department}"),
        ("feedback-office", "room", f"/feedback/office/{need.office}"),
        ("feedback-ward", "staff", f"/feedback/ward/{proposal.ward}"),
        ("agenda", "mayor", "/agenda?since=2026-05-01&until=2026-05-31"),
        ("dashboard", "monitor", "/dashboard"),
        ("dashboard-en", "monitor", "/dashboard?lang=en"),
        ("plan-progress", "monitor", "/dashboard/plan-progress?lang=ja"),
        ("school-districts", "monitor",
         f"/dashboard/school-districts?ward={proposal.ward}&lang=ja"),
    ]
    if draft is not None and draft.ward == proposal.ward:
        pages.append(("proposal-draft", "mayor", f"/proposals/{draft.id}"))
    triaged = queries.triaged_needs(site.container, proposal.ward)
    if triaged:
        pages.append(("proposal-new", "staff", f"/proposals/new?needs={triaged[0].id}"))
    return pages


def take(out: Path) -> list[Path]:
    """Write every page at each width into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        container = build(Settings(data_dir=Path(data), poll_interval=0.05))
        load_demo(container.app, datetime.now(UTC))
        seed = Site(container, "", {})
        proposal, draft = _pick(seed)
        need = container.app.get_need(proposal.needs[0])
        people = {"room": ("exchange_room_staff", None, need.office, None),
                  "staff": ("ward_staff", proposal.ward, None, None),
                  "mayor": ("ward_mayor", proposal.ward, None, None),
                  "reviewer": ("department_reviewer", None, None, proposal.lead_department),
                  "monitor": ("monitor", None, None, None)}
        written: list[Path] = []
        try:
            with serve(container, people) as site, chromium() as (_, browser):
                container.follower.wait_for(container.app.position(), 60)
                for width in WIDTHS:
                    written += _at_width(browser, site, _pages(site, proposal, draft), width,
                                         out)
        finally:
            container.close()
    return written


def _at_width(browser: Browser, site: Site, pages: list[tuple[str, str, str]], width: int,
              out: Path) -> list[Path]:
    tabs: dict[str, Page] = {}
    written = []
    for name, person, path in pages:
        if person not in tabs:
            ctx = browser.new_context(base_url=site.base_url, locale="ja-JP",
                                      viewport={"width": width, "height": 1000})
            tabs[person] = ctx.new_page()
            if person:
                sign_in(tabs[person], site, person)
        tab = tabs[person]
        tab.goto(path)
        target = out / f"{name}-{width}.png"
        tab.screenshot(path=str(target), full_page=True)
        written.append(target)
    refused = tabs["room"]
    refused.goto("/needs/new")
    refused.get_by_role("button", name="記録する").click()
    refused.locator("#title-error").wait_for()
    target = out / f"need-new-refused-{width}.png"
    refused.screenshot(path=str(target), full_page=True)
    written.append(target)
    for tab in tabs.values():
        tab.context.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
