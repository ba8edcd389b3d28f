"""A real Tsunagi server and the system's Chromium, for the browser tests and the screenshots.

Playwright drives the Chromium that the system's packages installed (`chromium`), by its
path: no browser is downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from api.app import create_app
from tests.e2e.serving import serving
from wiring.bootstrap import Container

#: who the browser tests act as: name → (role, ward, office, department)
PEOPLE: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "room": ("exchange_room_staff", None, "higashi-exchange-room-1", None),
    "staff": ("ward_staff", "higashi", None, None),
    "mayor": ("ward_mayor", "higashi", None, None),
    "transport": ("department_reviewer", None, None, "transport-planning"),
    "monitor": ("monitor", None, None, None),
}
NAMES = {"room": "桜木 みどり", "staff": "東 太郎", "mayor": "東区 区長",
         "transport": "交通 計画", "monitor": "分析 担当", "reviewer": "本庁 担当者"}


def chromium_path() -> str:
    """The system's Chromium (`TSUNAGI_CHROMIUM` overrides)."""
    for candidate in (os.environ.get("TSUNAGI_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("Chromium not found: apt-get install chromium (scripts/test does)")


@dataclass
class Site:
    """A running server, its container and a token per person."""

    container: Container
    base_url: str
    tokens: dict[str, str]

    def api(self, person: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A JSON API call as `person` (to set the scene, not to test the pages)."""
        with httpx.Client(base_url=self.base_url, timeout=30, headers={
                "Authorization": f"Bearer {self.tokens[person]}"}) as client:
            return client.request(method, f"/api/v1{path}", **kwargs)


@contextmanager
def serve(container: Container, people: dict[str, tuple[str, str | None, str | None,
                                                        str | None]] = PEOPLE) -> Iterator[Site]:
    """Tsunagi served by uvicorn on a free loopback port, with a user per person."""
    tokens = {}
    for name, (role, ward, office, department) in people.items():
        _, tokens[name] = container.users.add(NAMES.get(name, name), role, ward, office,
                                              department, user_id=f"user-{name}")
    with serving(create_app(container)) as base_url:
        yield Site(container, base_url, tokens)


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    """The system's Chromium, headless."""
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=["--no-sandbox", "--lang=ja-JP"])
        try:
            yield playwright, browser
        finally:
            browser.close()


def sign_in(page: Page, site: Site, person: str) -> None:
    """Sign in through the login form."""
    page.goto(f"{site.base_url}/login")
    page.get_by_label("トークン").fill(site.tokens[person])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()


NEED: dict[str, Any] = {
    "ward": "higashi", "office": "higashi-exchange-room-1",
    "school_district": "higashi-sakuragi", "source": "council_meeting",
    "policy_area": "transport", "title": "バス停にベンチがほしい",
    "description": "桜木校区の自治協議会で、高齢者がバスを待つ間に座れる場所がないとの声。",
    "observed_on": "2026-11-20", "residents_affected": 120, "urgency": "normal",
}


def need_via_api(site: Site, person: str = "staff", **changes: Any) -> dict[str, Any]:
    """A need recorded through the JSON API (setting the scene for a page test)."""
    response = site.api(person, "POST", "/needs", json={**NEED, **changes})
    assert response.status_code == 201, response.text
    return dict(response.json())


def proposal_via_api(site: Site, title: str, submit: bool = False) -> dict[str, Any]:
    """A draft (or submitted) proposal of higashi led by transport-planning."""
    need = need_via_api(site, title=f"{title}のもとになった声")
    assert site.api("staff", "POST", f"/needs/{need['id']}/triage", json={}).status_code == 200
    response = site.api("staff", "POST", "/proposals", json={
        "ward": "higashi", "title": title, "summary": "ベンチと屋根の設置",
        "needs": [need["id"]], "lead_department": "transport-planning",
        "policy_area": "transport"})
    assert response.status_code == 201, response.text
    proposal = dict(response.json())
    if submit:
        submitted = site.api("mayor", "POST", f"/proposals/{proposal['id']}/submit", json={})
        assert submitted.status_code == 200, submitted.text
        proposal = dict(submitted.json())
    return proposal
