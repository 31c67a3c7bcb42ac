"""A support agent finds an article for a customer's words and copies a link that lasts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveService, screenshot

pytestmark = pytest.mark.browser


def test_agent_copies_a_permalink_and_a_section_link(
    browser: Browser, live_service: LiveService
) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_service.url)
    page = context.new_page()
    page.goto(live_service.url + "/agents/")
    assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex, nofollow"
    expect(page.get_by_role("link", name="Agent link picker")).to_have_count(0)

    page.get_by_label("Customer's words").fill("my parcel never came")
    first = page.locator(".kb-agents__item").first
    expect(first.locator("> a")).to_have_text("Parcel not received")
    first.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_service.url}/a/126/"
    first.get_by_role("button", name="Copy section link").first.click()
    section_link = page.evaluate("navigator.clipboard.readText()")
    assert section_link.startswith(f"{live_service.url}/a/126/#")
    screenshot(page, "agents")

    page.goto(section_link)
    anchor = section_link.split("#", 1)[1]
    expect(page).to_have_url(f"{live_service.url}/delivery/parcel-not-received/#{anchor}")
    expect(page.locator(f"#{anchor}")).to_be_in_viewport()
    context.close()
