"""A customer on a phone browses the help center; an agent's permalink takes them to an article."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kb_search.articles import load
from tests.conftest import ROOT
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser


def test_home_category_article_and_permalink(phone: Page, live_site: str) -> None:
    center = load(ROOT / "docs")
    phone.goto(live_site + "/")
    expect(phone.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(phone.get_by_role("main").get_by_label("Search the help center")).to_be_visible()
    screenshot(phone, "home-phone")

    phone.locator("a.kb-tile", has_text="Returns & exchanges").click()
    expect(phone.locator("h1")).to_have_text("Returns & exchanges")
    policy = center.by_path("returns/return-policy.md")
    assert policy is not None
    phone.locator(".kb-article-list a", has_text=policy.title).click()
    expect(phone.locator("h1")).to_have_text(policy.title)
    expect(phone.get_by_text("Was this helpful?")).to_be_visible()
    screenshot(phone, "article-phone")

    tracking = center.by_path("orders/track-your-order.md")
    assert tracking is not None
    phone.goto(f"{live_site}/{tracking.permalink}")
    expect(phone).to_have_url(f"{live_site}/{tracking.url}")
    expect(phone.locator("h1")).to_have_text(tracking.title)
