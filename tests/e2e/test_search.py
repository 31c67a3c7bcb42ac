"""A customer on a phone searches: as they type in the header, on the results page, and when
nothing matches; then tells us whether an article helped. Real service, real Chromium."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from playwright.sync_api import Locator, Page, Request, expect

from kb_search.articles import Article, HelpCenter, load
from tests.conftest import ROOT
from tests.e2e.conftest import LiveService, screenshot

pytestmark = pytest.mark.browser

DROPDOWN = ".md-search-result"
# Our results carry the article id: Material's own (lunr) results never do.
OUR_RESULTS = ".md-search-result__list a[data-kb-article-id]"


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


def article(center: HelpCenter, path: str) -> Article:
    found = center.by_path(path)
    assert found is not None, path
    return found


def search_in_header(phone: Page, live: LiveService, words: str, page: str = "/") -> Locator:
    """Open a page, tap the header's search icon and type like a customer; the dropdown."""
    phone.goto(live.url + page)
    phone.locator(".md-header label[for=__search]").first.click()
    phone.keyboard.type(words, delay=30)
    return phone.locator(DROPDOWN)


def clicks_in_visit(live: LiveService, phone: Page) -> list[tuple[str, str, str]]:
    """(search_id, query, article_id) of each click logged in this tab's visit."""
    rows = logged(
        live,
        "SELECT c.search_id, s.query, c.article_id FROM clicks c JOIN searches s"
        " USING (search_id) WHERE s.session = ?",
        (session_of(phone),),
    )
    return [(str(search_id), str(query), str(article)) for search_id, query, article in rows]


def session_of(phone: Page) -> str:
    """The random id this tab sends with its searches (the log's `session` column)."""
    session = phone.evaluate("sessionStorage.getItem('kb-session')")
    assert isinstance(session, str) and re.fullmatch(r"[0-9a-f]{32}", session)
    return session


def searches_sent(phone: Page) -> list[dict[str, str]]:
    """The query strings of every /api/search request the page makes from now on."""
    sent: list[dict[str, str]] = []

    def seen(request: Request) -> None:
        url = urlsplit(request.url)
        if url.path == "/api/search":
            sent.append(dict(parse_qsl(url.query)))

    phone.on("request", seen)
    return sent


def logged(
    live: LiveService,
    sql: str,
    params: tuple[Any, ...],
    until: Callable[[list[tuple[Any, ...]]], bool] = bool,
) -> list[tuple[Any, ...]]:
    """Rows from the service's query log, waiting a little for requests still on their way."""
    deadline = time.monotonic() + 10
    while True:
        live.log.flush(5)
        with sqlite3.connect(live.log_db) as db:
            rows = db.execute(sql, params).fetchall()
        if until(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_typing_wheres_my_parcel_shows_the_tracking_article_first(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    tracking = article(center, "orders/track-your-order.md")
    dropdown = search_in_header(phone, live_service, "wheres my parcel")
    first = phone.locator(OUR_RESULTS).first
    expect(first).to_have_attribute("data-kb-article-id", str(tracking.id))
    expect(first.locator("h1")).to_have_text(tracking.title)
    expect(first.locator("mark").first).to_be_visible()
    expect(dropdown.locator(".md-search-result__meta")).to_have_attribute("aria-live", "polite")
    screenshot(phone, "search-dropdown-phone")

    # Keyboard only: the arrow key reaches the best result, Enter opens it.
    phone.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text(tracking.title)


def test_a_misspelled_search_is_corrected_and_the_opened_result_is_logged(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    password = article(center, "account/reset-password.md")
    dropdown = search_in_header(phone, live_service, "fogot pasword")
    meta = dropdown.locator(".md-search-result__meta")
    expect(meta).to_contain_text("Showing results for")
    expect(meta).to_contain_text("password")
    result = phone.locator(f'{OUR_RESULTS}[data-kb-article-id="{password.id}"]')
    expect(result).to_be_visible()
    expect(phone.locator(OUR_RESULTS).first).to_have_attribute(
        "data-kb-article-id", str(password.id)
    )
    # No keystroke for a second: the query is settled, logged, and its id is on the results.
    expect(result).to_have_attribute("data-kb-search-id", re.compile(r"^[0-9a-f]{32}$"))
    search_id = result.get_attribute("data-kb-search-id")
    assert search_id

    result.click()
    expect(phone.locator("h1")).to_have_text(password.title)
    clicks = logged(live_service, "SELECT article_id FROM clicks WHERE search_id = ?", (search_id,))
    assert clicks == [(str(password.id),)]
    searches = logged(
        live_service, "SELECT query, corrected FROM searches WHERE search_id = ?", (search_id,)
    )
    assert searches[0][0] == "fogot pasword"
    assert searches[0][1]


def test_typing_key_by_key_then_opening_a_result_logs_one_search_with_its_click(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    """Every pause while typing is searched ("w", "wh", ... "wheres my"), but only what the
    customer settled on is logged: one row, with the click and the feedback against it."""
    tracking = article(center, "orders/track-your-order.md")
    sent = searches_sent(phone)
    phone.goto(live_service.url + "/")
    phone.locator(".md-header label[for=__search]").first.click()
    expect(phone.locator(".md-search-result__meta")).to_have_attribute("aria-live", "polite")
    phone.keyboard.type("wheres my parcel", delay=180)  # a pause after each key: each searched
    first = phone.locator(OUR_RESULTS).first
    expect(first).to_have_attribute("data-kb-query", "wheres my parcel")
    expect(first).to_have_attribute("data-kb-article-id", str(tracking.id))
    first.click()  # straight away: the query settles before the article opens
    expect(phone.locator("h1")).to_have_text(tracking.title)

    clicks = clicks_in_visit(live_service, phone)
    assert [article_id for _, _, article_id in clicks] == [str(tracking.id)]
    one_visit = (session_of(phone),)
    searches = logged(
        live_service, "SELECT search_id, query FROM searches WHERE session = ?", one_visit
    )
    assert searches == [(clicks[0][0], "wheres my parcel")]

    typed = [q for q in sent if q.get("typing") == "1"]
    settled = [q for q in sent if "typing" not in q]
    assert len(typed) > 3, sent  # the pauses were searched ...
    assert {q["q"] for q in typed} >= {"wheres", "wheres my parcel"}
    assert [q["q"] for q in settled] == ["wheres my parcel"]  # ... and only this one logged

    # "Was this helpful?" on the article is tied to the same search.
    phone.locator(".kb-feedback").get_by_role("button", name="Yes").click()
    feedback = logged(
        live_service,
        "SELECT helpful FROM feedback WHERE article_id = ? AND search_id = ?",
        (str(tracking.id), clicks[0][0]),
    )
    assert feedback == [(1,)]
    # The dashboard's figures: the place of the result opened, and whether the visit went on
    # to contact us after it (then it did not serve itself).
    position = logged(
        live_service, "SELECT position FROM clicks WHERE search_id = ?", (clicks[0][0],)
    )
    assert position == [(1,)]
    visit = ("SELECT clicked, contacted FROM visits WHERE session = ?", one_visit)
    assert logged(live_service, *visit) == [(1, 0)]  # self-served, so far
    phone.goto(live_service.url + "/contact/contact-us/")
    assert logged(live_service, *visit, until=lambda rows: rows == [(0, 1)]) == [(0, 1)]


def test_nonsense_says_so_and_shows_how_to_reach_us(phone: Page, live_service: LiveService) -> None:
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text())
    dropdown = search_in_header(phone, live_service, "xqzvy blorft", page="/contact/")
    meta = dropdown.locator(".md-search-result__meta")
    expect(meta).to_have_text("We couldn\u2019t find an answer for \u201cxqzvy blorft\u201d.")
    none = dropdown.locator(".kb-none")
    expect(none).to_contain_text(store["channels"]["phone"]["value"])
    email_promise = store["channels"]["email"]["response"]  # "we reply within 24 hours, ..."
    expect(none).to_contain_text(re.compile(re.escape(email_promise), re.IGNORECASE))
    expect(none.get_by_role("link", name=re.compile("^Call "))).to_have_attribute(
        "href", store["channels"]["phone"]["href"]
    )
    screenshot(phone, "search-none-phone")

    # The full contact block is on the results page the dropdown links to.
    none.get_by_role("link", name=re.compile("All ways to contact us")).click()
    expect(phone.locator(".kb-search-page__meta")).to_contain_text(
        "We couldn\u2019t find an answer for"
    )
    expect(phone.locator(".kb-contact .kb-channel--phone")).to_contain_text(store["phone"])
    expect(phone.locator(".kb-contact__status")).to_be_visible()
    screenshot(phone, "search-page-none-phone")


def test_the_results_page_shows_results_in_view_not_behind_an_overlay(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    phone.goto(live_service.url + "/search/?q=return%20label")
    first = phone.locator(".kb-result").first
    expect(first).to_be_visible()
    expect(phone.locator(".kb-search-form input")).to_have_value("return label")
    expect(phone.locator(".md-search__output")).to_be_hidden()  # Material's overlay is shut
    assert phone.eval_on_selector("[data-md-toggle=search]", "el => el.checked") is False
    expect(phone).to_have_url(re.compile(r"/search/\?q=return(%20|\+)label$"))  # shareable
    screenshot(phone, "search-page-phone")
    session = session_of(phone)
    searches = logged(live_service, "SELECT query FROM searches WHERE session = ?", (session,))
    assert searches == [("return label",)]  # logged once, on load

    link = first.locator("a.kb-result__link")
    title = link.inner_text()
    assert title in {a.title for a in center.published}
    link.click(trial=True)  # nothing covers it: it would receive the tap
    link.click()
    expect(phone.locator("h1")).to_have_text(title)


def test_enter_in_the_header_box_goes_to_the_results_page(
    phone: Page, live_service: LiveService
) -> None:
    search_in_header(phone, live_service, "refund")
    first = phone.locator(OUR_RESULTS).first
    expect(first).to_be_visible()
    # Settled (logged) in the header first: the results page must not log it a second time.
    expect(first).to_have_attribute("data-kb-search-id", re.compile(r"^[0-9a-f]{32}$"))
    header_search_id = first.get_attribute("data-kb-search-id")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/search/\?q=refund$"))
    expect(phone.locator(".kb-result").first).to_be_visible()
    expect(phone.locator(".md-search__output")).to_be_hidden()
    expect(phone.locator(".kb-result__link").first).to_have_attribute(
        "data-kb-search-id", header_search_id or ""
    )
    session = session_of(phone)
    searches = logged(
        live_service, "SELECT search_id, query FROM searches WHERE session = ?", (session,)
    )
    assert searches == [(header_search_id, "refund")]


def test_not_helpful_feedback_with_a_reason_is_thanked_logged_and_offers_a_person(
    phone: Page, live_service: LiveService, center: HelpCenter
) -> None:
    policy = article(center, "returns/return-policy.md")
    phone.goto(f"{live_service.url}/{policy.url}")
    feedback = phone.locator(".kb-feedback")
    feedback.get_by_role("button", name="No").click()
    reasons = feedback.get_by_role("group", name="What was wrong with it?")
    expect(reasons.get_by_role("radio")).to_have_count(4)
    expect(reasons.get_by_role("radio").first).to_be_focused()
    reasons.get_by_label("It did not answer my question").check()
    box = feedback.get_by_label("What were you looking for?")
    expect(feedback.get_by_text("Please do not write your name, email")).to_be_visible()
    box.fill("returning a sofa that was delivered by truck")
    feedback.get_by_role("button", name="Send").click()
    expect(feedback.get_by_text("Thank you for telling us.")).to_be_visible()
    expect(feedback.get_by_role("button", name="No")).to_be_hidden()
    expect(feedback.get_by_role("link", name="email us")).to_be_visible()
    expect(feedback.get_by_role("link", name="all the ways to reach us")).to_be_visible()
    rows = logged(
        live_service,
        "SELECT helpful, missing, reason FROM feedback WHERE article_id = ? AND missing LIKE ?",
        (str(policy.id), "%sofa%"),
    )
    assert rows == [(0, "returning a sofa that was delivered by truck", "not_answered")]


def test_without_the_service_materials_own_search_answers(phone: Page, static_site: str) -> None:
    phone.goto(static_site + "/search/?q=return%20label")
    expect(phone.get_by_text("Use the search at the top of the page")).to_be_visible()
    expect(phone.locator(".kb-topics").last.get_by_role("link", name="Orders")).to_be_visible()
    assert phone.eval_on_selector("[data-md-toggle=search]", "el => el.checked") is False
    screenshot(phone, "search-page-offline-phone")

    phone.get_by_role("button", name="Search for \u201creturn label\u201d").click()
    expect(phone.locator(".md-search-result__item").first).to_be_visible()  # lunr's answer
    expect(phone.locator(OUR_RESULTS)).to_have_count(0)
