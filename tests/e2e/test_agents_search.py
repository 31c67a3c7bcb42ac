"""The agents' picker searches like customers do (typos, synonyms), without entering their
query log; on a static host its own filter answers. Real service, real Chromium."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveService

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """An agent's desktop browser."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    yield context.new_page()
    context.close()


def logged_searches(live: LiveService) -> int:
    live.log.flush(5)
    with sqlite3.connect(live.log_db) as db:
        count: int = db.execute("SELECT count(*) FROM searches").fetchone()[0]
        return count


def titles(page: Page) -> list[str]:
    return page.locator(".kb-agents__item > a").all_inner_texts()


def test_a_typo_in_the_picker_finds_the_returns_article(
    desk: Page, live_service: LiveService
) -> None:
    sent: list[str] = []
    desk.on("request", lambda r: sent.append(r.url) if "/api/search" in r.url else None)
    before = logged_searches(live_service)
    desk.goto(live_service.url + "/agents/")
    desk.get_by_label("Customer's words").fill("retrun")
    first = desk.locator(".kb-agents__item").first
    expect(first.locator("> a")).to_have_text("How to return an item")
    expect(desk.locator(".kb-agents__status")).to_contain_text(
        "Showing results for \u201creturn\u201d"
    )
    assert "Return policy" in titles(desk)
    expect(first.get_by_role("button", name="Copy link")).to_be_visible()

    desk.get_by_label("Customer's words").fill("fogot pasword")
    expect(desk.locator(".kb-agents__item > a").first).to_have_text("Reset your password")
    assert sent and all("source=agents" in url for url in sent)
    assert logged_searches(live_service) == before


def test_without_the_service_the_picker_filters_on_its_own(desk: Page, static_site: str) -> None:
    desk.goto(static_site + "/agents/")
    desk.get_by_label("Customer's words").fill("my parcel never came")
    expect(desk.locator(".kb-agents__item > a").first).to_have_text("Parcel not received")
    copy_reply = desk.locator(".kb-agents__item").first.get_by_role("button", name="Copy reply")
    expect(copy_reply).to_be_visible()
    expect(desk.locator(".kb-agents__status")).not_to_contain_text("Showing results for")
