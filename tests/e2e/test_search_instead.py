"""A corrected search says so, and "Search instead for" searches the customer's own words:
on the results page and from the header's dropdown. Real service, real Chromium."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveService, screenshot

pytestmark = pytest.mark.browser

TYPED = "retrun policy"


def searches_of(phone: Page, live: LiveService, count: int) -> list[tuple[Any, ...]]:
    """This tab's logged searches (query, corrected), waiting for `count` of them."""
    session = phone.evaluate("sessionStorage.getItem('kb-session')")
    deadline = time.monotonic() + 10
    while True:
        live.log.flush(5)
        with sqlite3.connect(live.log_db) as db:
            rows = db.execute(
                "SELECT query, corrected FROM searches WHERE session = ? ORDER BY rowid",
                (session,),
            ).fetchall()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_search_instead_on_the_results_page(phone: Page, live_service: LiveService) -> None:
    phone.goto(live_service.url + "/search/?q=retrun%20policy")
    meta = phone.locator(".kb-search-page__meta")
    expect(meta).to_contain_text("Showing results for return policy")
    instead = meta.get_by_role("link", name=TYPED)
    expect(meta).to_contain_text(f"Search instead for {TYPED}")
    expect(instead).to_have_attribute("href", re.compile(r"/search/\?q=retrun\+policy&exact=1$"))
    # A link by its underline too, not by its colour alone.
    decoration = instead.evaluate("el => getComputedStyle(el).textDecorationLine")
    assert decoration == "underline"
    screenshot(phone, "search-instead-phone")

    instead.click()
    expect(phone).to_have_url(re.compile(r"/search/\?q=retrun\+policy&exact=1$"))
    expect(meta).to_contain_text(f"for {TYPED}")
    expect(meta).not_to_contain_text("Showing results for")
    expect(phone.locator(".kb-search-form input")).to_have_value(TYPED)
    expect(phone.locator(".kb-result").first).to_be_visible()
    # Both are the customer's searches: the corrected one, and the words as typed.
    assert searches_of(phone, live_service, 2) == [(TYPED, "return policy"), (TYPED, None)]

    # Back and forward show both again without searching again; so does loading the exact
    # search's address afresh (the search this tab logged last).
    phone.go_back()
    expect(meta).to_contain_text("Showing results for return policy")
    phone.go_forward()
    expect(phone).to_have_url(re.compile(r"exact=1$"))
    expect(meta).not_to_contain_text("Showing results for")
    phone.reload()
    expect(phone.locator(".kb-result").first).to_be_visible()
    assert len(searches_of(phone, live_service, 3)) == 2


def test_search_instead_from_the_header(phone: Page, live_service: LiveService) -> None:
    phone.goto(live_service.url + "/")
    phone.locator(".md-header label[for=__search]").first.click()
    phone.keyboard.type(TYPED, delay=30)
    meta = phone.locator(".md-search-result__meta")
    expect(meta).to_contain_text("Showing results for return policy")
    instead = meta.get_by_role("link", name=TYPED)
    expect(instead).to_have_attribute("href", re.compile(r"/search/\?q=retrun\+policy&exact=1$"))
    screenshot(phone, "search-instead-dropdown-phone")

    instead.click()
    expect(phone).to_have_url(re.compile(r"/search/\?q=retrun\+policy&exact=1$"))
    expect(phone.locator(".md-search__output")).to_be_hidden()
    page_meta = phone.locator(".kb-search-page__meta")
    expect(page_meta).to_contain_text(f"for {TYPED}")
    expect(page_meta).not_to_contain_text("Showing results for")
    assert (TYPED, None) in searches_of(phone, live_service, 1)
