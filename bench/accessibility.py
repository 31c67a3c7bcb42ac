"""What axe-core finds on the pages customers see most, on a phone and on a desktop.

The target is WCAG 2.1 AA plus axe's best practices: no serious or critical violation, and none
of the landmark findings once fixed. Used by tests/e2e/test_accessibility.py and by the bench
(run.py's `axe` part).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Moderate findings we fixed once and keep fixed, on top of everything serious or critical.
KEPT_FIXED = {"landmark-unique", "region"}
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1366, "height": 768},
}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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
    # The Swedish edition: its own templates' words, its own 404, the same checks.
    "home-sv": Visit("/sv/", ".kb-hero"),
    "category-sv": Visit("/sv/returns/", ".kb-article-list"),
    "article-sv": Visit("/sv/returns/how-to-return/", ".kb-article-footer"),
    "search-sv": Visit("/sv/search/?q=retur", ".kb-search-page__results > li"),
    "404-sv": Visit("/sv/finns-inte/", "h1"),
}


def available() -> str | None:
    """Why axe cannot run here, or None."""
    if not AXE.exists():
        return "axe-core is missing: run `make node_modules/.installed`"
    if not Path(CHROMIUM).exists():
        return "Chromium is missing: run `make browser`"
    return None


def open_page(page: Page, base_url: str, visit: Visit) -> None:
    """Open the page and wait for what a customer waits for (the dropdown's results, say)."""
    page.goto(base_url + visit.path)
    if visit.typed:
        page.keyboard.press("/")  # Material's shortcut opens the search box at any width
        page.keyboard.type(visit.typed, delay=20)
    page.locator(visit.ready).first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")


def findings(page: Page) -> list[dict[str, Any]]:
    """The violations that count: serious or critical, or one of KEPT_FIXED."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        v
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in KEPT_FIXED
    ]


def readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)


def new_context_page(browser: Browser, viewport: str) -> Page:
    """A page at `viewport`. The site's Content-Security-Policy forbids inline scripts, which is
    how Playwright injects axe: this context alone lets the checker's own script in."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], device_scale_factor=1, bypass_csp=True
    )
    return context.new_page()


def run(base_url: str) -> dict[str, dict[str, list[str]]]:
    """For each viewport and page, the ids of the violations that count (none, we hope)."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, list[str]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for viewport in VIEWPORTS:
            page = new_context_page(browser, viewport)
            results[viewport] = {}
            for name, visit in PAGES.items():
                open_page(page, base_url, visit)
                results[viewport][name] = sorted({v["id"] for v in findings(page)})
            page.context.close()
        browser.close()
    return results


def ratios(results: dict[str, dict[str, list[str]]]) -> dict[str, float]:
    """The figure with a target: violations that count, over every page and viewport."""
    return {"axe_violations": sum(len(ids) for pages in results.values() for ids in pages.values())}
