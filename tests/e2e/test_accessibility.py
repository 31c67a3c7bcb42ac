"""What axe-core finds on the pages customers see most, on a phone and on a desktop; and a few
things that looked broken.

The target is WCAG 2.1 AA plus axe's best practices: no serious or critical violation, and none of
the landmark findings once fixed. The phone run also saves a full-page screenshot of each page:
to test-results/, or to the folder in KB_SCREENSHOTS (`KB_SCREENSHOTS=guides/images` refreshes
the writers' guide's set; see guides/writers.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ROOT
from tests.e2e.conftest import SCREENSHOTS

sys.path.insert(0, str(ROOT / "bench"))
import accessibility  # bench/accessibility.py: the bench runs the same checks

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=list(accessibility.VIEWPORTS))
def viewport_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    """One browser context per viewport, shared by every page of this module."""
    page = accessibility.new_context_page(browser, request.param)
    yield request.param, page
    page.context.close()


def save_screenshot(page: Page, name: str, full_page: bool) -> None:
    folder = Path(os.environ.get("KB_SCREENSHOTS") or SCREENSHOTS)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"phone-{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")


@pytest.mark.parametrize("name", list(accessibility.PAGES))
def test_axe_finds_nothing_serious(
    viewport_page: tuple[str, Page], live_site: str, name: str
) -> None:
    viewport, page = viewport_page
    visit = accessibility.PAGES[name]
    accessibility.open_page(page, live_site, visit)
    violations = accessibility.findings(page)
    if viewport == "phone":
        # The open search is a fixed overlay: the screen, not the page under it.
        save_screenshot(page, name, full_page=not visit.typed)
    assert not violations, (
        f"axe on {visit.path} ({viewport}):\n{accessibility.readable(violations)}"
    )


# Things that looked broken.


def test_every_desktop_tab_is_fully_visible(desktop: Page, live_site: str) -> None:
    """At 1366 px every category's tab shows its whole title ("Customer service", not "Custo")."""
    desktop.goto(live_site + "/returns/")
    tabs = desktop.locator(".md-tabs__link")
    expect(tabs.first).to_be_visible()
    strip = desktop.locator(".md-tabs__list").bounding_box()
    assert strip is not None
    cut = []
    for tab in tabs.all():
        box = tab.bounding_box()
        fits = tab.evaluate("link => link.scrollWidth <= link.clientWidth")
        assert box is not None
        right = box["x"] + box["width"]
        if not fits or right > min(strip["x"] + strip["width"], 1366) + 0.5 or box["x"] < 0:
            cut.append(f"{tab.inner_text().strip()!r} ends at {right:.0f}px")
    assert not cut, f"tabs cut off at 1366x768: {cut}"


def test_category_cards_line_up_with_the_text(phone: Page, live_site: str) -> None:
    phone.goto(live_site + "/returns/")
    heading = phone.locator("article h1").bounding_box()
    card = phone.locator(".kb-article-list li").first.bounding_box()
    assert heading is not None and card is not None
    assert abs(card["x"] - heading["x"]) <= 1, f"cards start at {card['x']}, text at {heading['x']}"
