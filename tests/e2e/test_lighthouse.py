"""What a page costs a customer on a phone: the requests it makes, with the search service and
without it, and Lighthouse's mobile audit (the median of three runs per page, of five when the
three straddle the target) against the real service."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.conftest import ROOT
from tests.e2e.conftest import LiveService

sys.path.insert(0, str(ROOT / "bench"))
import lighthouse  # bench/lighthouse.py: the bench runs the same audit

pytestmark = pytest.mark.browser

ARTICLE = "/returns/damaged-item/"
OFFLINE_SEARCH = ("search_index.json", "/workers/search.")  # Material's index and its worker
# Lighthouse's figures the issue sets (mobile preset); the transfer of an article page, in KiB.
SCORES = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}
ARTICLE_TRANSFER_KB = 150


def requests_of(phone: Page) -> list[str]:
    """Every URL the page (and its workers) asks for from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url)

    phone.context.on("request", record)
    return seen


def offline_search(urls: list[str]) -> list[str]:
    return [url for url in urls if any(part in url for part in OFFLINE_SEARCH)]


def test_with_the_service_no_page_loads_materials_offline_search(
    phone: Page, live_site: str
) -> None:
    urls = requests_of(phone)
    phone.goto(live_site + ARTICLE)
    phone.locator(".md-header label[for=__search]").first.click()
    phone.keyboard.type("return label", delay=30)
    expect(phone.locator(".md-search-result__list a[data-kb-article-id]").first).to_be_visible()
    assert any("/api/search?" in url for url in urls)
    assert any("/workers/kb-search.js" in url for url in urls)  # ours: 2.6 KB, idle
    assert offline_search(urls) == []


def test_without_the_service_the_offline_search_loads_when_a_customer_searches(
    phone: Page, static_site: str
) -> None:
    urls = requests_of(phone)
    phone.goto(static_site + ARTICLE)
    phone.wait_for_load_state("networkidle")
    assert offline_search(urls) == []  # nothing yet: the customer has not searched
    phone.locator(".md-header label[for=__search]").first.click()
    # Pasted: one query, asked before the index is there; it is answered once it is.
    phone.keyboard.insert_text("return label")
    phone.keyboard.press("End")
    results = phone.locator(".md-search-result__item")
    expect(results.first).to_be_visible()  # lunr's answer
    expect(phone.locator(".md-search-result__list a[data-kb-article-id]")).to_have_count(0)
    assert "label" in results.first.inner_text().lower()
    assert len(offline_search(urls)) == 2  # the index and the worker, once each


@pytest.fixture(scope="module")
def audited(live_service: LiveService, browser: Browser) -> Iterator[dict[str, Any]]:
    why = lighthouse.available()
    if why:
        pytest.fail(why)
    page = browser.new_page()  # for the CPU benchmark: one Playwright per process
    try:
        yield lighthouse.run(live_service.url, page, target=SCORES["performance"])
    finally:
        page.close()


@pytest.mark.parametrize("page", sorted(lighthouse.PAGES))
def test_lighthouse_on_a_phone_meets_the_targets(audited: dict[str, Any], page: str) -> None:
    figures = audited[page]
    low = {name: score for name, score in figures["scores"].items() if score < SCORES[name]}
    assert not low, f"{page}: {low}; failing audits: {figures['failed']}"
    if page == "article":
        assert figures["transfer_kb"] <= ARTICLE_TRANSFER_KB, figures
