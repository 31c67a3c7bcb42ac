"""What axe-core finds on the pages customers see most, on a phone and on a desktop; and a few
things that looked broken.

The target is WCAG 2.1 AA plus axe's best practices: no serious or critical violation, and none of
the landmark findings once fixed. The phone run also saves a full-page screenshot of each page:
to test-results/, or to the folder in KB_SCREENSHOTS (`KB_SCREENSHOTS=guides/images` refreshes
the writers' guide's set; see guides/writers.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.conftest import ROOT
from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Moderate findings we fixed once and keep fixed, on top of everything serious or critical.
KEPT_FIXED = {"landmark-unique", "region"}
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1366, "height": 768},
}


@dataclass(frozen=True)
class Visit:
    path: str
    ready: str  # a selector that shows the page has finished what a customer waits for
    typed: str = ""  # words typed into the header's search box, to check its dropdown


PAGES = {
    "home": Visit("/", ".kb-hero"),
    "category": Visit("/returns/", ".kb-article-list"),
    "article": Visit("/returns/return-policy/", ".kb-article-footer"),
    "search": Visit("/search/?q=return", ".kb-search-page__results > li"),
    "zero-results": Visit("/search/?q=zxqvbnm", ".kb-search-page__none"),
    "contact": Visit("/contact/contact-us/", ".kb-contact"),
    "404": Visit("/no-such-page/", "h1"),
    "agents": Visit("/agents/", ".kb-agents"),
    "search-dropdown": Visit("/", ".md-search-result__list a[data-kb-article-id]", "return"),
}


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def viewport_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    """One browser context per viewport, shared by every page of this module.

    The site's Content-Security-Policy forbids inline scripts, which is how Playwright injects
    axe: this context alone lets the test's own script in."""
    context: BrowserContext = browser.new_context(
        viewport=VIEWPORTS[request.param], device_scale_factor=1, bypass_csp=True
    )
    yield request.param, context.new_page()
    context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)


def save_screenshot(page: Page, name: str, full_page: bool) -> None:
    folder = Path(os.environ.get("KB_SCREENSHOTS") or SCREENSHOTS)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"phone-{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_nothing_serious(
    viewport_page: tuple[str, Page], live_site: str, name: str
) -> None:
    viewport, page = viewport_page
    visit = PAGES[name]
    page.goto(live_site + visit.path)
    if visit.typed:
        page.keyboard.press("/")  # Material's shortcut opens the search box at any width
        page.keyboard.type(visit.typed, delay=20)
    expect(page.locator(visit.ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    violations = [
        v
        for v in axe_violations(page)
        if v["impact"] in ("serious", "critical") or v["id"] in KEPT_FIXED
    ]
    if viewport == "phone":
        # The open search is a fixed overlay: the screen, not the page under it.
        save_screenshot(page, name, full_page=not visit.typed)
    assert not violations, f"axe on {visit.path} ({viewport}):\n{readable(violations)}"


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
