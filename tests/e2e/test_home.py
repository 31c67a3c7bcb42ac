"""The home page on a phone: results as the customer types in the big search box, popular
questions on the first screen, compact topic tiles. Real service, real Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from kb_search.articles import HelpCenter, load
from tests.conftest import ROOT
from tests.e2e.conftest import LiveService, screenshot
from tests.e2e.test_search import clicks_in_visit, logged, searches_sent, session_of

pytestmark = pytest.mark.browser

BOX = "#kb-home-q"
RESULTS = "#kb-home-results"
HITS = f"{RESULTS} a[data-kb-article-id]"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE_SCREEN = 844
# What of a 390x844 phone screen is page when the browser shows its address and tool bars.
FIRST_SCREEN = PHONE_SCREEN - 180
# Nine tiles, two to a row at about 48 px each: well under half a phone screen. Before, one
# tile a row with its summary, they took about 1,300 px.
TILES_MAX_HEIGHT = 300


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


def tracking_id(center: HelpCenter) -> str:
    found = center.by_path("orders/track-your-order.md")
    assert found is not None
    return str(found.id)


def type_in_the_home_box(phone: Page, url: str, words: str, delay: int) -> Locator:
    """Open the home page, wait for the service to take the box over, and type like a customer."""
    phone.goto(url + "/")
    box = phone.get_by_role("searchbox", name="Search the help center")
    expect(box).to_have_attribute("aria-describedby", "kb-home-hint")  # the service answered
    box.click()
    phone.keyboard.type(words, delay=delay)
    return box


def test_typing_in_the_home_box_shows_results_and_the_keyboard_opens_one(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    sent = searches_sent(phone)
    type_in_the_home_box(phone, live_service.url, "wheres my parcel", delay=60)
    first = phone.locator(HITS).first
    expect(first).to_have_attribute("data-kb-query", "wheres my parcel")
    expect(first).to_have_attribute("data-kb-article-id", tracking_id(center))
    expect(first.locator("mark").first).to_be_visible()
    # Screen readers hear how many articles were found.
    expect(phone.get_by_role("status").filter(has_text=re.compile(r"\d+ articles?"))).to_have_count(
        1
    )
    # The results cover the page under the box, not pushed below the fold.
    assert (first.bounding_box() or {"y": PHONE_SCREEN})["y"] < PHONE_SCREEN / 2
    screenshot(phone, "home-instant-results-phone")

    # Keyboard only, before the query settles: down into the results and back, Enter opens.
    phone.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    phone.keyboard.press("ArrowDown")
    expect(phone.locator(HITS).nth(1)).to_be_focused()
    phone.keyboard.press("ArrowUp")
    phone.keyboard.press("Enter")
    expect(phone.locator("article h1")).to_have_text("Track your order")

    # One logged search (what was typed), with its click; the pauses were typing=1.
    clicks = clicks_in_visit(live_service, phone)
    assert [article_id for _, _, article_id in clicks] == [tracking_id(center)]
    one_visit = (session_of(phone),)
    searches = logged(
        live_service, "SELECT search_id, query FROM searches WHERE session = ?", one_visit
    )
    assert searches == [(clicks[0][0], "wheres my parcel")]
    assert [q["q"] for q in sent if "typing" not in q] == ["wheres my parcel"]
    assert any(q.get("typing") == "1" for q in sent)


def test_a_result_tapped_straight_away_is_logged_against_what_was_typed(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    type_in_the_home_box(phone, live_service.url, "tracking link", delay=60)
    first = phone.locator(HITS).first
    expect(first).to_have_attribute("data-kb-query", "tracking link")
    expect(first).to_have_attribute("data-kb-search-id", "")  # not settled yet
    first.click()
    expect(phone.locator("article h1")).to_have_text("Track your order")
    clicks = clicks_in_visit(live_service, phone)
    assert [(query, article_id) for _, query, article_id in clicks] == [
        ("tracking link", tracking_id(center))
    ]


def test_escape_closes_the_results_and_enter_goes_to_the_results_page(
    phone: Page, live_service: LiveService
) -> None:
    box = type_in_the_home_box(phone, live_service.url, "return label", delay=30)
    expect(phone.locator(HITS).first).to_be_visible()
    phone.keyboard.press("Escape")
    expect(phone.locator(RESULTS)).to_be_hidden()
    expect(box).to_have_value("return label")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/search/\?q=return\+label$"))
    expect(phone.locator(".kb-search-page__results > li").first).to_be_visible()


def test_without_the_service_the_home_box_is_a_plain_form_to_the_results_page(
    phone: Page, static_site: str
) -> None:
    phone.goto(static_site + "/")
    box = phone.locator(BOX)
    box.click()
    phone.keyboard.type("wheres my parcel", delay=30)
    phone.wait_for_timeout(500)  # longer than a search as you type would take
    expect(phone.locator(RESULTS)).to_be_hidden()
    expect(box).not_to_have_attribute("aria-describedby", "kb-home-hint")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/search/\?q=wheres\+my\+parcel$"))


def test_on_a_phone_popular_questions_are_on_the_first_screen_and_tiles_are_compact(
    phone: Page, live_site: str
) -> None:
    phone.goto(live_site + "/")
    popular = phone.locator(".kb-popular li")
    expect(popular.first).to_be_visible()
    # The whole list of popular questions is on the first screen, not just its heading.
    last = popular.last.bounding_box()
    assert last is not None and last["y"] + last["height"] <= FIRST_SCREEN, last
    tiles = phone.locator(".kb-tile")
    expect(tiles).to_have_count(9)
    boxes = [box for box in (tiles.nth(i).bounding_box() for i in range(9)) if box]
    height = max(b["y"] + b["height"] for b in boxes) - min(b["y"] for b in boxes)
    assert height <= TILES_MAX_HEIGHT, height
    expect(phone.locator(".kb-tile__summary").first).to_be_hidden()
    screenshot(phone, "home-phone")


def test_on_a_desktop_the_tiles_keep_their_summaries(browser: Browser, live_site: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(live_site + "/")
    expect(page.locator(".kb-tile__summary").first).to_be_visible()
    context.close()


@pytest.fixture
def axe_phone(browser: Browser) -> Iterator[Page]:
    """A phone that lets axe in (the site's CSP forbids the inline script it is injected as)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_open_home_results_pass_axe(axe_phone: Page, live_site: str) -> None:
    axe_phone.goto(live_site + "/")
    box = axe_phone.locator(BOX)
    expect(box).to_have_attribute("aria-describedby", "kb-home-hint")
    box.click()
    axe_phone.keyboard.type("refund", delay=30)
    expect(axe_phone.locator(HITS).first).to_be_visible()
    axe_phone.add_script_tag(path=str(AXE))
    violations = axe_phone.evaluate(
        "() => axe.run(document.querySelector('.kb-hero'), {runOnly: {type: 'tag', values:"
        " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target + ' '"
        " + n.failureSummary).join(' | ')))"
    )
    assert violations == []
