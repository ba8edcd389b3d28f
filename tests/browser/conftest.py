"""Browser fixtures: one server and one Chromium for the whole session, a fresh browser
context (its own cookies) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

from infra.settings import Settings
from tests.browser.harness import Site, chromium, serve, sign_in
from wiring.bootstrap import build


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives a real browser: `-m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Tsunagi on SQLite, served once for every browser test."""
    data: Path = tmp_path_factory.mktemp("browser-site")
    container = build(Settings(data_dir=data, poll_interval=0.05))
    try:
        with serve(container) as running:
            yield running
    finally:
        container.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session."""
    with chromium() as (_, launched):
        yield launched


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, a tablet-sized window, Japanese locale."""
    ctx = browser.new_context(base_url=site.base_url, locale="ja-JP",
                              viewport={"width": 1024, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the fresh profile."""
    return context.new_page()


@pytest.fixture
def signed_in(browser: Browser, site: Site) -> Iterator[Callable[[str], Page]]:
    """`signed_in(person)`: a tab of that person's own browser profile, signed in."""
    contexts: list[BrowserContext] = []

    def open_as(person: str) -> Page:
        ctx = browser.new_context(base_url=site.base_url, locale="ja-JP",
                                  viewport={"width": 1024, "height": 900})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        tab = ctx.new_page()
        sign_in(tab, site, person)
        return tab

    try:
        yield open_as
    finally:
        for ctx in contexts:
            ctx.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core as shipped inside axe-playwright-python (no download)."""
    return Axe()
