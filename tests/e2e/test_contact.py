"""The contact block tells the truth on holidays, opens only channels that work, and an email
carries what the customer searched for and read; the 404 page and the footer lead on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from kb_search.articles import load
from tests.conftest import ROOT
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser

STORE: dict[str, Any] = yaml.safe_load((ROOT / "docs" / "store.yml").read_text(encoding="utf-8"))
SHOP_TIME = ZoneInfo(STORE["timezone"])


def next_date(month: int, day: int) -> dt.date:
    """The next such date from today: the built pages know the coming year's holidays."""
    today = dt.date.today()
    date = dt.date(today.year, month, day)
    return date if date > today else date.replace(year=today.year + 1)


def phone_at(browser: Browser, when: dt.datetime) -> Page:
    """A phone whose clock says `when` (shop time)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.clock.set_fixed_time(when)
    return page


def status_on(page: Page, url: str) -> str:
    page.goto(url)
    status = page.locator(".kb-contact__status")
    expect(status).to_be_visible()
    return status.inner_text()


def test_on_christmas_eve_we_say_closed_and_when_we_open_and_hide_the_chat(
    browser: Browser, live_site: str
) -> None:
    eve = next_date(12, 24)
    page = phone_at(browser, dt.datetime.combine(eve, dt.time(11, 0), SHOP_TIME))
    status = status_on(page, live_site + "/contact/contact-us/")
    # 25 and 26 December are holidays too, and the shop is closed on Sundays.
    reopens = next(
        day
        for day in (eve + dt.timedelta(days=n) for n in range(3, 6))
        if STORE["opening_hours"][day.strftime("%A").lower()] != "closed"
    )
    opens_at = STORE["opening_hours"][reopens.strftime("%A").lower()][:5]
    assert status.startswith("Closed today (Christmas Eve), we open on ")
    assert f"{reopens.strftime('%A')} {reopens.day} December at {opens_at}" in status
    assert STORE["channels"]["email"]["response"] in status
    contact = page.locator(".kb-contact")
    expect(contact.locator(".kb-channel--chat")).to_be_hidden()
    expect(contact.locator(".kb-channel--phone")).to_be_visible()
    today = contact.locator("tr.kb-today")
    expect(today).to_have_count(1)
    expect(today).to_contain_text(eve.strftime("%A"))
    expect(today).to_contain_text("Closed (Christmas Eve)")
    special = contact.get_by_role("heading", name="Holidays and special days")
    expect(special).to_be_visible()
    expect(contact.locator(".kb-contact__special li").first).to_contain_text("Christmas Eve")
    screenshot(page, "contact-christmas-eve-phone")
    page.context.close()


def test_on_midsummer_eve_we_are_closed_and_on_23_december_open_shorter(
    browser: Browser, live_site: str
) -> None:
    year = dt.date.today().year + (dt.date.today() >= dt.date(dt.date.today().year, 6, 19))
    midsummer_eve = next(
        d for d in (dt.date(year, 6, n) for n in range(19, 26)) if d.weekday() == 4
    )
    page = phone_at(browser, dt.datetime.combine(midsummer_eve, dt.time(9, 0), SHOP_TIME))
    assert status_on(page, live_site + "/returns/").startswith("Closed today (Midsummer Eve)")
    page.context.close()

    shorter = STORE["special_days"][0]
    assert shorter["date"] == "12-23"
    day = next_date(12, 23)
    page = phone_at(browser, dt.datetime.combine(day, dt.time(15, 0), SHOP_TIME))
    until = shorter["hours"][6:]
    status = status_on(page, live_site + "/returns/")
    assert status == f"Open now until {until} ({shorter['name']}). Call or chat with us."
    page.context.close()


def test_on_an_ordinary_weekday_the_chat_opens_the_shops_chat(
    browser: Browser, live_site: str
) -> None:
    page = phone_at(browser, dt.datetime.now(SHOP_TIME))
    page.goto(live_site + "/contact/contact-us/")
    calendar = json.loads(page.locator(".kb-contact").get_attribute("data-special") or "{}")
    wednesday = next(
        day
        for day in (dt.date.today() + dt.timedelta(days=n) for n in range(1, 30))
        if day.weekday() == 2 and day.isoformat() not in calendar
    )
    page.context.close()
    page = phone_at(browser, dt.datetime.combine(wednesday, dt.time(10, 30), SHOP_TIME))
    status = status_on(page, live_site + "/contact/contact-us/")
    closes = STORE["opening_hours"]["wednesday"][6:]
    assert status == f"Open now until {closes}. Call or chat with us."
    chat = page.locator(".kb-contact .kb-channel--chat a")
    expect(chat).to_be_visible()
    expect(chat).to_have_attribute("href", STORE["chat_url"])
    expect(page.locator(".kb-contact tr.kb-today")).to_contain_text("Wednesday")
    page.context.close()


def mail_opened(page: Page, link_selector: str) -> tuple[str, dict[str, str]]:
    """Select an email link and read the mail it opens (the browser is kept from leaving)."""
    page.evaluate("addEventListener('click', e => e.preventDefault())")
    link = page.locator(link_selector).first
    link.click()
    href = link.get_attribute("href") or ""
    parts = urlsplit(href)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_an_email_from_zero_results_says_what_was_searched(phone: Page, live_site: str) -> None:
    phone.goto(live_site + "/search/?q=" + "qqxv zzkw")
    expect(phone.locator(".kb-search-page__none")).to_be_visible()
    address, mail = mail_opened(phone, ".kb-contact .kb-channel--email a")
    assert address == STORE["email"]
    assert mail["subject"] == "Question: qqxv zzkw"
    assert "I searched for: qqxv zzkw" in mail["body"]


def test_a_long_search_of_emoji_still_opens_a_mail_with_its_trail(
    phone: Page, live_site: str
) -> None:
    """Cut by characters, not UTF-16 units: half an emoji made encodeURIComponent throw."""
    words = "a" + "\N{SOCKS}" * 150
    phone.goto(live_site + "/search/?q=" + quote(words))
    expect(phone.locator(".kb-contact__status")).to_be_visible()
    _, mail = mail_opened(phone, ".kb-contact .kb-channel--email a")
    assert mail["subject"] == ("Question: " + words)[:120]
    assert "I searched for: " + words in mail["body"]


def test_an_email_from_the_header_dropdowns_nothing_found_says_the_words_typed(
    phone: Page, live_site: str
) -> None:
    phone.goto(live_site + "/returns/")
    phone.locator(".md-header label[for=__search]").first.click()
    phone.keyboard.type("zzkw qqxv blorp", delay=20)
    none = phone.locator(".md-search-result .kb-none")
    expect(none).to_be_visible()
    address, mail = mail_opened(phone, ".md-search-result .kb-none a[href^='mailto:']")
    assert address == STORE["email"]
    assert "I searched for: zzkw qqxv blorp" in mail["body"]


def test_an_email_after_not_helpful_says_the_search_and_the_article(
    phone: Page, live_site: str
) -> None:
    center = load(ROOT / "docs")
    policy = center.by_path("returns/return-policy.md")
    assert policy is not None
    phone.goto(live_site + "/search/?q=return%20policy")
    phone.locator(".kb-search-page__results a", has_text=policy.title).first.click()
    expect(phone.locator("h1")).to_have_text(policy.title)
    feedback = phone.locator(".kb-feedback")
    feedback.get_by_role("button", name="No").click()
    feedback.get_by_label("It is hard to understand").check()
    feedback.get_by_role("button", name="Send").click()
    address, mail = mail_opened(phone, ".kb-feedback__next a[href^='mailto:']")
    assert address == STORE["email"]
    assert mail["subject"] == f"Question about: {policy.title}"
    assert "I searched for: return policy" in mail["body"]
    assert f"I read: {policy.title} ({live_site}/{policy.permalink})" in mail["body"]


def test_the_404_page_leads_on_and_the_footer_links_back_to_the_shop(
    phone: Page, live_site: str
) -> None:
    response = phone.goto(live_site + "/returns/no-such-page/")
    assert response is not None and response.status == 404
    expect(phone.get_by_role("heading", name="We could not find that page")).to_be_visible()
    topics = phone.get_by_role("navigation", name="Topics")
    expect(topics.get_by_role("link", name="Orders")).to_be_visible()
    expect(phone.locator(".kb-contact .kb-channel--phone")).to_contain_text(STORE["phone"])
    footer = phone.locator("footer").get_by_role("navigation", name=STORE["name"])
    for key, name in (
        ("shop_url", "Ellery & Birch shop"),
        ("privacy_url", "Privacy"),
        ("terms_url", "Terms"),
    ):
        expect(footer.get_by_role("link", name=name)).to_have_attribute("href", STORE[key])
    screenshot(phone, "404-phone")
    box = phone.get_by_role("main").get_by_label("Search the help center")
    box.fill("return label")
    box.press("Enter")
    expect(phone).to_have_url(live_site + "/search/?q=return+label")
    expect(phone.locator(".kb-search-page__results li").first).to_be_visible()
