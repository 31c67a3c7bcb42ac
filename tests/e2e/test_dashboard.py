"""The insights dashboard (/admin/) in Chromium, on a phone and on a desktop: signing in, the
period filter, a gap marked answered, a CSV export and signing out; customers' hostile words
shown as inert text; and what axe-core finds on its pages.

The module runs its own service with a fresh query log (the shared `live_service`'s log is read
by other tests), filled once through the real API. Screenshots go to test-results/, or to the
folder in KB_SCREENSHOTS (`KB_SCREENSHOTS=guides/images` refreshes the writers' guide's set).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import sys
import urllib.request
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, Response, expect

from kb_search.app import create_app
from kb_search.config import Settings
from kb_search.service import Service
from tests.conftest import ROOT, live_uvicorn
from tests.e2e.conftest import SCREENSHOTS

sys.path.insert(0, str(ROOT / "bench"))
import accessibility  # bench/accessibility.py: the bench runs the same checks

pytestmark = pytest.mark.browser

TOKEN = "dash-token"
# Searches that find something: each is clicked, and some articles are voted on.
FOUND = ("return policy", "delivery time", "change my order", "gift card")
# Searches that find nothing: one gap for each viewport to mark answered.
GAPS = {"phone": "zanzibarian quokkas", "desktop": "xylophonic marmalade"}
# What a customer may type to try a page's readers: every one must stay text.
HOSTILE = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "javascript:window.__xss=3",
    "[click me](javascript:window.__xss=4)",
    '<a href="https://evil.example">evil</a>',
)
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
SEARCHES_HEADER = ["group", "example", "count", "previous_period", "searches", "forms"]
GAPS_HEADER = ["group", "example", "first_seen", "last_seen", "searches", "zero_results",
               "state", "article", "marked", "zero_result_rate_before",
               "zero_result_rate_after", "no_click_rate_before", "no_click_rate_after",
               "window_days"]  # fmt: skip


@dataclass(frozen=True)
class Dashboard:
    url: str
    answers: dict[str, str]  # a FOUND search -> the id of its first result


def api(base_url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A call to the service's API, as the site's pages make it."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def search(base_url: str, text: str, session: str) -> dict[str, Any]:
    query = urlencode({"q": text, "session": session})
    return api(base_url, f"/api/search?{query}")


def fill_log(base_url: str, articles: Collection[str]) -> dict[str, str]:
    """A few dozen searches, clicks, votes and a contact, as visits on the site send them."""
    answers: dict[str, str] = {}
    visit = 0
    for repeat in range(3):
        for text in FOUND:
            visit += 1
            session = f"{visit:016x}"
            found = search(base_url, text, session)
            first = str(found["results"][0]["id"])
            answers[text] = first
            if repeat < 2:  # the third time nothing is opened: a no-click search
                click = {"search_id": found["search_id"], "article_id": first, "position": 1}
                api(base_url, "/api/click", click)
                api(base_url, "/api/feedback", {"article_id": first, "helpful": repeat == 0})
            if repeat == 1:
                api(base_url, "/api/contact", {"session": session})
    for count, text in zip((4, 3), GAPS.values(), strict=True):
        for _ in range(count):
            visit += 1
            found = search(base_url, text, f"{visit:016x}")
            assert found["total"] == 0, (text, found["corrected"], found["results"][:1])
    for text in HOSTILE:
        for _ in range(2):
            visit += 1
            search(base_url, text, f"{visit:016x}")
    # An article nobody else voted on: its five latest "what was missing" are all shown.
    voted = min(set(articles) - set(answers.values()))
    for text in HOSTILE:
        api(base_url, "/api/feedback", {"article_id": voted, "helpful": False, "missing": text})
    return answers


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, index_root: Path) -> Iterator[Dashboard]:
    """The service with a log of its own, filled once; the limits let one client fill it."""
    settings = Settings.from_env(
        {},
        docs_dir=ROOT / "docs",
        index_dir=index_root,
        log_db=tmp_path_factory.mktemp("dashboard") / "querylog.sqlite3",
        admin_token=TOKEN,
        rate_limit=1000,
        log_searches_per_minute=1000,
    )
    app = create_app(settings)
    with live_uvicorn(app) as url:
        service: Service = app.state.service
        answers = fill_log(url, service.open_index().records)
        assert service.log.flush(10), "the log did not take the searches in time"
        yield Dashboard(url, answers)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in browser contexts of their own (a session each), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        contexts.append(browser.new_context(**options))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def save_screenshot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("KB_SCREENSHOTS") or SCREENSHOTS)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, animations="disabled")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next=%2Fadmin%2F$"))
    page.locator("#token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + "/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What customers searched, found and missed"
    )


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def section(page: Page, heading_id: str) -> Locator:
    return page.locator(f"section[aria-labelledby={heading_id}]")


def page_width(page: Page) -> tuple[int, int]:
    """(the page's width, the screen's): wide tables ought to scroll in their own boxes."""
    widths: list[int] = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return widths[0], widths[1]


def follow(page: Page, viewport: str, link: Locator) -> None:
    """Open a link as a writer does: a tap on the phone, a click on the desktop."""
    if viewport == "phone":
        link.tap()
    else:
        link.click()


# 1. A writer's round: sign in, a shorter period, a gap answered, a CSV, sign out.


@pytest.mark.parametrize(("viewport", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_writer_signs_in_marks_a_gap_answered_exports_and_signs_out(
    new_page: Callable[..., Page], dashboard: Dashboard, viewport: str, options: dict[str, Any]
) -> None:
    page = new_page(**options)
    base = dashboard.url
    sign_in(page, base)

    page.get_by_label("7 days").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]period=7(&|$)"))
    expect(page.get_by_label("7 days")).to_be_checked()
    expect(page.locator(".period")).to_contain_text("(7 days, UTC)")
    searches = section(page, "top-searches")
    for text in FOUND:
        expect(searches.get_by_role("cell", name=text, exact=True)).to_be_visible()
    save_screenshot(page, f"dashboard-{viewport}")

    gap = GAPS[viewport]
    row = section(page, "gaps").locator("tr", has_text=gap)
    expect(row).to_contain_text("open")
    follow(page, viewport, row.get_by_role("link", name=re.compile("^Open")))
    expect(page).to_have_url(re.compile(r"/admin/gap\?lang=en&key="))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Gap: “{gap}”")
    expect(page.locator(".examples")).to_contain_text(gap)
    article = dashboard.answers[FOUND[0]]
    page.locator("#article").select_option(article)
    page.get_by_role("button", name="Mark answered").click()
    facts = page.locator(".facts")
    expect(facts).to_contain_text(f"answered by article #{article} on {today()}")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    if viewport == "phone":
        save_screenshot(page, "dashboard-gap-phone")

    page.get_by_role("link", name="← All figures").click()
    row = section(page, "gaps").locator("tr", has_text=gap)
    expect(row).to_contain_text(f"answered by #{article} on {today()}")

    export = "searches" if viewport == "phone" else "gaps"
    heading = "top-searches" if export == "searches" else "gaps"
    with page.expect_download() as download_info:
        link = section(page, heading).get_by_role("link", name=re.compile("^Download as CSV"))
        follow(page, viewport, link)
    download = download_info.value
    assert re.fullmatch(
        rf"{export}-en-\d{{4}}-\d\d-\d\d-{today()}\.csv", download.suggested_filename
    )
    rows = list(csv.reader(Path(download.path()).read_text(encoding="utf-8").splitlines()))
    if export == "searches":
        assert rows[0] == SEARCHES_HEADER
        assert {text for text in FOUND} <= {r[1] for r in rows[1:]}, rows
    else:
        assert rows[0] == GAPS_HEADER
        marked = {r[1]: r for r in rows[1:]}[gap]
        assert marked[6:8] == ["answered", article], marked

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base + "/admin/sign-in")
    page.goto(base + "/admin/?period=7")
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next="))
    expect(page.locator("#token")).to_be_visible()


def test_the_dashboard_fits_a_phone_screen(
    new_page: Callable[..., Page], dashboard: Dashboard
) -> None:
    """On a phone only the wide tables scroll sideways, inside their own boxes, not the page."""
    page = new_page(**PHONE)
    page.goto(dashboard.url + "/admin/sign-in")
    widths = {"sign-in": page_width(page)}
    sign_in(page, dashboard.url)
    widths["dashboard"] = page_width(page)
    gap = section(page, "gaps").locator("a[href^='/admin/gap?']").first.get_attribute("href")
    page.goto(dashboard.url + str(gap))
    widths["gap"] = page_width(page)
    wider = {name: w for name, w in widths.items() if w[0] > w[1]}
    assert not wider, f"pages wider than the phone's 390 px (page, screen): {wider}"


# 2. Customers' words are shown as text, never run or followed.


def assert_inert(page: Page, response: Response | None, dialogs: list[Dialog]) -> None:
    assert response is not None and response.ok, response and response.status
    headers = response.headers
    assert "script-src 'none'" in headers.get("content-security-policy", ""), headers
    assert "noindex" in headers.get("x-robots-tag", ""), headers
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", re.compile("noindex"))
    assert not dialogs, [d.message for d in dialogs]
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    expect(page.locator("script")).to_have_count(0)  # the dashboard runs no script at all
    links: list[str] = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
    assert not [h for h in links if h.lower().startswith("javascript:")], links
    assert not [h for h in links if "evil.example" in (urlsplit(h).hostname or "")], links
    expect(page.locator("main img")).to_have_count(0)


def test_hostile_searches_and_feedback_stay_text(
    new_page: Callable[..., Page], dashboard: Dashboard
) -> None:
    page = new_page(**DESKTOP)
    dialogs: list[Dialog] = []

    def opened(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", opened)
    sign_in(page, dashboard.url)

    response = page.goto(dashboard.url + "/admin/?period=7")
    assert_inert(page, response, dialogs)
    assert response is not None
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in response.text()  # escaped as sent
    missing = section(page, "helpful").locator(".missing li")
    assert sorted(missing.all_inner_texts()) == sorted(HOSTILE)
    searches = section(page, "top-searches").locator("tbody tr")
    shown = {
        row.locator("td").first.inner_text(): str(row.locator("a").get_attribute("href"))
        for row in searches.all()
    }
    assert set(HOSTILE) <= set(shown), f"not shown as typed: {set(HOSTILE) - set(shown)}"
    gaps = section(page, "gaps").locator("tbody td:first-child").all_inner_texts()
    assert HOSTILE[-1] in gaps  # the one that found nothing

    examples: set[str] = set()
    for text in HOSTILE:
        href = shown[text]
        assert href.startswith("/admin/gap?"), href
        response = page.goto(dashboard.url + href)
        assert_inert(page, response, dialogs)
        listed = page.locator(".examples li").all_inner_texts()
        assert set(listed) <= set(HOSTILE), listed
        examples.update(listed)
        key = parse_qs(urlsplit(href).query)["key"][0]
        title = page.get_by_role("heading", level=1).inner_text()
        assert title == f"Gap: “{listed[0] if listed else key}”"
    assert HOSTILE[-1] in examples


def test_a_group_that_found_results_shows_its_searches(
    new_page: Callable[..., Page], dashboard: Dashboard
) -> None:
    """The "Open" link beside a top search: its group's page, with how customers wrote it."""
    page = new_page(**DESKTOP)
    sign_in(page, dashboard.url)
    text = FOUND[0]
    row = section(page, "top-searches").locator("tr", has_text=text)
    row.get_by_role("link", name=re.compile("^Open")).click()
    expect(page).to_have_url(re.compile(r"/admin/gap\?"))
    assert page.get_by_role("heading", level=1).inner_text() == f"Gap: “{text}”"
    assert "3, of which 0 found nothing" in page.locator(".facts").inner_text()
    assert page.locator(".examples li").all_inner_texts() == [text]


# 3. axe-core: nothing serious on the sign-in form, the dashboard and a gap page.


def axe_on_each_page(browser: Browser, dashboard: Dashboard, viewport: str) -> dict[str, Any]:
    """What axe finds on the sign-in form, the dashboard and a gap page, by page."""
    # The dashboard's policy forbids every script, axe's too: this context alone bypasses it.
    page = accessibility.new_context_page(browser, viewport)
    found: dict[str, Any] = {}
    page.goto(dashboard.url + "/admin/sign-in")
    found["sign-in"] = accessibility.findings(page)
    sign_in(page, dashboard.url)
    page.goto(dashboard.url + "/admin/?period=7")
    found["dashboard"] = accessibility.findings(page)
    row = section(page, "gaps").locator("tr", has_text=GAPS["phone"])
    row.get_by_role("link", name=re.compile("^Open")).click()  # not a touch screen: a click
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gap:")
    found["gap"] = accessibility.findings(page)
    page.context.close()
    return found


def report(found: dict[str, Any], viewport: str) -> str:
    return "\n".join(
        f"axe on {name} ({viewport}):\n{accessibility.readable(violations)}"
        for name, violations in found.items()
        if violations
    )


@pytest.mark.parametrize("viewport", list(accessibility.VIEWPORTS))
def test_axe_finds_nothing_serious_on_the_dashboard(
    browser: Browser, dashboard: Dashboard, viewport: str
) -> None:
    found = axe_on_each_page(browser, dashboard, viewport)
    serious = {
        name: [v for v in violations if v["impact"] in ("serious", "critical")]
        for name, violations in found.items()
    }
    assert not any(serious.values()), report(serious, viewport)


def test_axe_finds_no_finding_the_site_keeps_fixed(browser: Browser, dashboard: Dashboard) -> None:
    found = axe_on_each_page(browser, dashboard, "desktop")
    kept = {
        name: [v for v in violations if v["id"] in accessibility.KEPT_FIXED]
        for name, violations in found.items()
    }
    assert not any(kept.values()), report(kept, "desktop")
