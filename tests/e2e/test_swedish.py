"""A Swedish customer on a phone: the home page at /sv/ in Swedish, Swedish articles as they
type, the header's language menu between the same article in both languages, and "Var detta
till hjälp?" answered, thanked in Swedish and logged as Swedish. Real service, real Chromium.

The phone run saves phone-home-sv.png and phone-article-sv.png the way
tests/e2e/test_accessibility.py saves its set (KB_SCREENSHOTS, default test-results/).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from kb_search.articles import Article, HelpCenter, load
from kb_search.strings import strings
from tests.conftest import ROOT
from tests.e2e.conftest import LiveService
from tests.e2e.test_accessibility import save_screenshot
from tests.e2e.test_search import logged, session_of

sys.path.insert(0, str(ROOT / "bench"))
import accessibility  # bench/accessibility.py: the phone the guide's screenshots are taken on

pytestmark = pytest.mark.browser

SV = strings("sv")
HOME_HITS = "#kb-home-results a[data-kb-article-id]"
# Material's own words for the language menu's button (theme.language), not strings.yml's.
LANGUAGE_MENU = {"sv": "Välj språk", "en": "Select language"}
ARTICLE = "returns/how-to-return.md"


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


@pytest.fixture(scope="module")
def swedish(center: HelpCenter) -> HelpCenter:
    return center.in_language("sv")


@pytest.fixture
def swedish_phone(browser: Browser) -> Iterator[Page]:
    """A phone set to Swedish. At the bench's phone size and scale (bench/accessibility.py),
    so its screenshots match the ones test_accessibility.py saves of the same pages."""
    context = browser.new_context(
        viewport=accessibility.VIEWPORTS["phone"],
        device_scale_factor=1,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
    )
    page = context.new_page()
    yield page
    context.close()


def edition_article(center: HelpCenter, path: str) -> Article:
    found = center.by_path(path)
    assert found is not None, path
    return found


def address(live: str, center: HelpCenter, article: Article) -> str:
    """Where `article` of that edition is served: /sv/... for Swedish, /... for English."""
    return f"{live}/{center.url_prefix}{article.url}"


def open_swedish_home(phone: Page, live: str) -> Locator:
    """/sv/, once the search service has taken the big box over (it describes its hint)."""
    phone.goto(live + "/sv/")
    box = phone.get_by_role("searchbox", name=SV["search_label"])
    expect(box).to_have_attribute("aria-describedby", "kb-home-hint")
    return box


def counted(key: str) -> re.Pattern[str]:
    """Any count as strings.yml's Swedish `<key>_one` or `<key>_other` says it ("9 artiklar")."""
    forms = (
        re.escape(SV[f"{key}_{form}"]).replace(r"\{count\}", r"\d+") for form in ("one", "other")
    )
    return re.compile("^(" + "|".join(forms) + ")$")


def switch_language(phone: Page, current: str, to: str) -> None:
    """Open the header's language menu (its button named in the page's language) and pick one."""
    phone.get_by_role("button", name=LANGUAGE_MENU[current]).click()
    phone.locator(".md-select__list").get_by_role("link", name=to).click()


def test_the_swedish_home_page_is_in_swedish(swedish_phone: Page, live_site: str) -> None:
    box = open_swedish_home(swedish_phone, live_site)
    expect(swedish_phone.locator("html")).to_have_attribute("lang", "sv")
    expect(box).to_have_attribute("placeholder", SV["home_placeholder"])
    expect(swedish_phone.locator(".kb-hero h1")).to_have_text(SV["home_title"])
    swedish_phone.wait_for_load_state("networkidle")
    save_screenshot(swedish_phone, "home-sv", full_page=True)


@pytest.mark.parametrize(
    ("words", "path"),
    [("var är mitt paket", "orders/track-your-order.md"), ("returetikett", ARTICLE)],
)
def test_typing_in_swedish_shows_a_swedish_article_first_that_opens(
    swedish_phone: Page, live_service: LiveService, swedish: HelpCenter, words: str, path: str
) -> None:
    expected = edition_article(swedish, path)
    box = open_swedish_home(swedish_phone, live_service.url)
    box.click()
    swedish_phone.keyboard.type(words, delay=60)  # key by key, as a customer types
    first = swedish_phone.locator(HOME_HITS).first
    expect(first).to_have_attribute("data-kb-query", words)
    expect(first).to_have_attribute("data-kb-article-id", str(expected.id))
    expect(first.locator("h1")).to_have_text(expected.title)
    expect(swedish_phone.locator(".kb-home-status")).to_have_text(counted("articles"))
    # The link leads to the Swedish article (an anchor in it is fine), not under /sv/sv/.
    href = first.get_attribute("href") or ""
    assert urlsplit(href).path == urlsplit(address(live_service.url, swedish, expected)).path, href

    first.click()
    expect(swedish_phone.locator("article h1")).to_have_text(expected.title)
    one_visit = (session_of(swedish_phone),)
    searches = logged(
        live_service, "SELECT query, language FROM searches WHERE session = ?", one_visit
    )
    assert searches == [(words, "sv")]
    clicks = logged(
        live_service,
        "SELECT c.article_id, c.language FROM clicks c JOIN searches s USING (search_id)"
        " WHERE s.session = ?",
        one_visit,
    )
    assert clicks == [(str(expected.id), "sv")]


def test_the_language_menu_goes_to_the_same_article_in_english_and_back(
    swedish_phone: Page, live_site: str, center: HelpCenter, swedish: HelpCenter
) -> None:
    in_swedish = edition_article(swedish, ARTICLE)
    in_english = edition_article(center, ARTICLE)
    assert in_english.id == in_swedish.id  # the translation key
    swedish_phone.goto(address(live_site, swedish, in_swedish))
    expect(swedish_phone.locator("article h1")).to_have_text(in_swedish.title)
    menu = swedish_phone.locator(".md-select__list")
    expect(menu.get_by_role("link", name="Svenska")).to_have_attribute("aria-current", "true")

    switch_language(swedish_phone, "sv", "English")
    expect(swedish_phone).to_have_url(address(live_site, center, in_english))
    expect(swedish_phone.locator("html")).to_have_attribute("lang", "en")
    expect(swedish_phone.locator("article h1")).to_have_text(in_english.title)

    switch_language(swedish_phone, "en", "Svenska")
    expect(swedish_phone).to_have_url(address(live_site, swedish, in_swedish))
    expect(swedish_phone.locator("html")).to_have_attribute("lang", "sv")
    expect(swedish_phone.locator("article h1")).to_have_text(in_swedish.title)


def test_not_helpful_in_swedish_is_thanked_in_swedish_and_logged_as_swedish(
    swedish_phone: Page, live_service: LiveService, swedish: HelpCenter
) -> None:
    article = edition_article(swedish, ARTICLE)
    swedish_phone.goto(address(live_service.url, swedish, article))
    feedback = swedish_phone.locator(".kb-feedback")
    expect(feedback).to_be_visible()
    swedish_phone.wait_for_load_state("networkidle")
    save_screenshot(swedish_phone, "article-sv", full_page=True)  # before it is answered

    expect(feedback.get_by_text(SV["feedback_question"])).to_be_visible()
    feedback.get_by_role("button", name=SV["feedback_no"], exact=True).click()
    reasons = feedback.get_by_role("group", name=SV["feedback_what_wrong"])
    expect(reasons.get_by_role("radio")).to_have_count(4)
    reasons.get_by_label(SV["feedback_reason_unclear"]).check()
    missing = "hur returnerar jag en soffa utan skrivare"  # this test's own row in the log
    feedback.get_by_label(SV["feedback_looking_for"]).fill(missing)
    feedback.get_by_role("button", name=SV["feedback_send"]).click()

    expect(feedback.get_by_role("status")).to_have_text(SV["feedback_thanks"])
    expect(feedback.get_by_role("link", name=SV["feedback_email_us"])).to_be_visible()
    expect(feedback.get_by_role("link", name=SV["feedback_all_ways"])).to_be_visible()
    rows = logged(
        live_service,
        "SELECT article_id, helpful, reason, language FROM feedback WHERE missing = ?",
        (missing,),
    )
    assert rows == [(str(article.id), 0, "unclear", "sv")]


def test_a_swedish_search_with_no_swedish_answer_offers_the_english_article_marked_english(
    swedish_phone: Page, live_site: str, center: HelpCenter
) -> None:
    swedish_phone.goto(live_site + "/sv/search/?q=dry+cleaning")
    card = swedish_phone.locator(".kb-result").first
    expect(card).to_have_attribute("lang", "en")
    english = edition_article(center, "products/product-care.md")
    link = card.locator("a.kb-result__link")
    expect(link).to_have_text(english.title)
    expect(link).to_have_attribute("hreflang", "en")
    assert urlsplit(link.get_attribute("href") or "").path == "/" + english.url
    expect(swedish_phone.locator(".kb-search-page__meta")).to_contain_text("engelska")
