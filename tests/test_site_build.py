"""The real `mkdocs build --strict` of the help center, checked as a customer or agent would."""

from __future__ import annotations

import datetime as dt
import html
import json
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from kb_search.articles import HelpCenter, load
from tests.conftest import ROOT, copy_project, mkdocs_build


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


class Tags(HTMLParser):
    """Collect (tag, attributes) pairs from an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(page: Path) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.tags


def page_of(site: Path, url: str) -> Path:
    return site / url / "index.html"


def test_every_published_article_has_its_page(built_site: Path, center: HelpCenter) -> None:
    assert len(center.published) >= 40
    assert len(center.categories) >= 8
    for article in center.published:
        html = page_of(built_site, article.url).read_text(encoding="utf-8")
        assert f"<h1>{article.title}</h1>".replace("&", "&amp;") in html, article.path
        assert "Last reviewed" in html
        assert f'data-article-id="{article.id}"' in html


def test_every_permalink_leads_to_its_article(built_site: Path, center: HelpCenter) -> None:
    for article in center.published:
        page = page_of(built_site, article.permalink)
        found = tags(page)
        refresh = next(a["content"] for t, a in found if a.get("http-equiv") == "refresh")
        target = posixpath.normpath(posixpath.join(article.permalink, refresh.split("url=")[1]))
        assert target + "/" == article.url
        assert any(t == "link" and a.get("rel") == "canonical" for t, a in found)
        assert any(t == "a" and a.get("href") == refresh.split("url=")[1] for t, a in found)


def test_category_pages_list_exactly_their_published_articles(
    built_site: Path, center: HelpCenter
) -> None:
    for key in center.categories:
        links = {
            a["href"]
            for t, a in tags(page_of(built_site, key))
            if t == "a"
            and a.get("href", "").endswith("/")
            and not a["href"].startswith(("..", "#"))
        }
        listed = {posixpath.normpath(posixpath.join(key, href)) + "/" for href in links}
        expected = {a.url for a in center.in_category(key)}
        assert expected <= listed, key
        article_links = {u for u in listed if u.startswith(key + "/") and u != key + "/"}
        assert article_links == expected


def test_store_facts_are_rendered_and_no_template_braces_remain(built_site: Path) -> None:
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text())
    policy = page_of(built_site, "returns/return-policy").read_text(encoding="utf-8")
    assert f"{store['return_days']} days" in policy
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert store["phone"] in home
    for page in [*built_site.rglob("*.html"), built_site / "search" / "search_index.json"]:
        assert "{{" not in page.read_text(encoding="utf-8"), page


def test_the_site_loads_nothing_from_other_hosts(built_site: Path) -> None:
    external = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
    for page in built_site.rglob("*.html"):
        for tag, attrs in tags(page):
            for name in ("src", "href") if tag in ("script", "link", "img", "source") else ():
                assert not external.match(attrs.get(name, "")), (page, tag, attrs)
    for sheet in built_site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", sheet.read_text(encoding="utf-8")):
            assert not external.match(url), (sheet, url)


def test_home_page_offers_search_topics_popular_articles_and_contact(
    built_site: Path, center: HelpCenter
) -> None:
    found = tags(built_site / "index.html")
    assert any(t == "form" and a.get("role") == "search" for t, a in found)
    tiles = [a["href"] for t, a in found if t == "a" and "kb-tile" in a.get("class", "")]
    assert tiles == [f"{key}/" for key in center.categories]
    assert any(t == "section" and "kb-contact" in a.get("class", "") for t, a in found)


def test_drafts_are_left_out_and_facts_change_everywhere(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    docs = project / "docs"
    draft = docs / "orders" / "cancellation-fee.md"
    draft.write_text(draft.read_text().replace("status: published", "status: draft"))
    for article in docs.rglob("*.md"):  # a link to a draft is a broken link: the writer unlinks
        link = re.compile(r"\[([^\]]*)\]\([^)]*cancellation-fee\.md[^)]*\)")
        article.write_text(link.sub(r"\1", article.read_text()))
    store = docs / "store.yml"
    store.write_text(re.sub(r"(?m)^return_days: \d+", "return_days: 47", store.read_text()))
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    assert not page_of(site, "orders/cancellation-fee").exists()
    assert "cancellation-fee" not in page_of(site, "orders").read_text()
    assert "cancellation-fee" not in (site / "search" / "search_index.json").read_text()
    assert "47 days" in page_of(site, "returns/return-policy").read_text()


def test_a_bad_front_matter_field_fails_the_build_naming_file_and_field(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    article = project / "docs" / "returns" / "exchange-an-item.md"
    article.write_text(article.read_text().replace("reviewed:", "reviewed: soon\nold_reviewed:"))
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0
    where = r"docs/returns/exchange-an-item\.md:\d+: front matter field"
    assert re.search(where + " 'reviewed'", result.stderr), result.stderr
    assert re.search(where + " 'old_reviewed' is unknown", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_a_shop_without_the_contact_blocks_facts_fails_the_build_naming_each(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path / "project")
    store = project / "docs" / "store.yml"
    facts = store.read_text().replace("  sunday: closed", "  sunday: ten till four")
    store.write_text(facts.replace("timezone: Europe/Stockholm", "timezone: Europe/Gothenburg"))
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "docs/store.yml: 'timezone' 'Europe/Gothenburg' is not an IANA time zone" in (
        result.stderr
    )
    assert "docs/store.yml: 'opening_hours.sunday' must be HH:MM-HH:MM or closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_chat_that_opens_nothing_and_bad_holidays_fail_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    store = project / "docs" / "store.yml"
    facts = store.read_text()
    chat = "    value: Chat with us\n"
    broken = facts.replace(chat, chat + '    href: "#chat"\n').replace(
        "country: SE", "country: Sweden"
    )
    store.write_text(broken)
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "docs/store.yml: 'channels.chat.href' '#chat' opens nothing" in result.stderr
    assert "docs/store.yml: 'holidays.country' 'Sweden' is not a country code" in result.stderr
    # A shop without a chat: every article that still sends customers to it is named.
    store.write_text(re.sub(r"(?m)^chat_url: .*\n", "", facts))
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0
    for article in ("contact/contact-us.md", "contact/talk-to-a-person.md"):
        assert f"docs/{article}: body: unknown store fact 'store.chat_url'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_page_carries_the_coming_holidays_and_the_links_back_to_the_shop(
    built_site: Path,
) -> None:
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text())
    today = dt.date.today()
    christmas_eve = dt.date(today.year, 12, 24)
    if christmas_eve < today:
        christmas_eve = christmas_eve.replace(year=today.year + 1)
    # Midsummer Eve: the Friday from 19 to 25 June.
    year = today.year if today < dt.date(today.year, 6, 19) else today.year + 1
    midsummer_eve = next(
        dt.date(year, 6, d) for d in range(19, 26) if dt.date(year, 6, d).weekday() == 4
    )
    for page in ("index.html", "returns/index.html", "404.html", "contact/contact-us/index.html"):
        text = (built_site / page).read_text(encoding="utf-8")
        section = re.search(r'<section class="kb-contact"[^>]*data-special="([^"]*)"', text)
        assert section, page
        calendar = json.loads(html.unescape(section.group(1)))
        assert calendar[christmas_eve.isoformat()] == ["closed", "Christmas Eve"], page
        assert calendar[midsummer_eve.isoformat()] == ["closed", "Midsummer Eve"], page
        assert "<details" not in text.split('class="kb-contact"')[1], page  # a plain table
        for key in ("shop_url", "privacy_url", "terms_url"):
            assert f'href="{store[key]}"' in text, (page, key)
        assert f'href="{store["chat_url"]}"' in text, page
        assert 'href="#chat"' not in text, page


def test_permalinks_survive_a_move_and_old_paths_redirect(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    docs = project / "docs"
    old = docs / "delivery" / "shipping-costs.md"
    new = docs / "orders" / "what-delivery-costs.md"
    new.write_text(
        old.read_text().replace(
            "status: published", "status: published\nredirect_from: [delivery/shipping-costs/]"
        )
    )
    old.unlink()
    for sibling in ("international-delivery.md", "delivery-options.md"):  # its own links too
        new.write_text(new.read_text().replace(f"({sibling}", f"(../delivery/{sibling}"))
    for article in docs.rglob("*.md"):  # links to the old path follow the move
        text = article.read_text()
        article.write_text(
            text.replace(
                "shipping-costs.md",
                "../orders/what-delivery-costs.md"
                if article.parent.name != "orders"
                else "what-delivery-costs.md",
            )
        )
    site = tmp_path / "site"
    result = mkdocs_build(project, site)
    assert result.returncode == 0, result.stderr
    for stale in ("a/124", "delivery/shipping-costs"):
        refresh = next(
            a["content"] for t, a in tags(page_of(site, stale)) if a.get("http-equiv") == "refresh"
        )
        target = posixpath.normpath(posixpath.join(stale, refresh.split("url=")[1]))
        assert target == "orders/what-delivery-costs"
    assert "Shipping costs" in page_of(site, "orders/what-delivery-costs").read_text()


def test_illustrations_repeat_no_store_fact_that_can_change() -> None:
    """A number or a promise typed into a picture stays wrong when store.yml changes."""

    def leaves(node: object) -> list[str]:
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in leaves(value)]
        if isinstance(node, list):
            return [leaf for value in node for leaf in leaves(value)]
        return [str(node)]

    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text())
    facts = {f for f in leaves(store) if re.search(r"[\d@]", f) and len(f) >= 5}
    for picture in (ROOT / "docs").rglob("*.svg"):
        text = html.unescape(picture.read_text(encoding="utf-8"))
        assert not [f for f in facts if f in text], picture


def meta(page: Path) -> dict[str, str]:
    """A page's <meta name|property=...> contents."""
    found = tags(page)
    return {a.get("name") or a["property"]: a["content"] for t, a in found if t == "meta" and
            ("name" in a or "property" in a) and "content" in a}  # fmt: skip


def test_articles_describe_themselves_to_search_engines_and_sharing(
    built_site: Path, center: HelpCenter
) -> None:
    article = center.by_path("returns/damaged-item.md")
    assert article is not None
    described = meta(page_of(built_site, "returns/damaged-item"))
    assert described["description"] == article.summary
    assert described["og:description"] == article.summary
    assert described["og:title"] == article.title
    assert described["og:type"] == "article"
    assert described["og:site_name"] == "Ellery & Birch Help Center"
    assert "og:url" not in described  # no site_url: no address to give
    home = meta(built_site / "index.html")
    assert home["og:type"] == "website" and home["description"].startswith("Answers about")
    category = meta(page_of(built_site, "returns"))
    assert category["description"] == center.categories["returns"].summary


def test_without_a_site_url_robots_txt_names_no_sitemap_and_the_sitemap_no_page(
    built_site: Path,
) -> None:
    robots = (built_site / "robots.txt").read_text().splitlines()
    assert robots == [
        "User-agent: *",
        "Disallow: /agents/",
        "Disallow: /admin/",
        "Disallow: /search/",
        "Disallow: /sv/agents/",
        "Disallow: /sv/admin/",
        "Disallow: /sv/search/",
    ]
    assert not (built_site / "sv" / "robots.txt").exists()  # only the host's root has one
    # Still there (a valid answer to whoever asks), and lists no relative addresses.
    assert "<url>" not in (built_site / "sitemap.xml").read_text()
    # Instant navigation follows only links the sitemap lists: with none it is left out.
    assert '"navigation.instant' not in (built_site / "returns" / "index.html").read_text()
    assert 'class="md-progress"' not in (built_site / "index.html").read_text()


def test_with_a_site_url_the_sitemap_lists_the_findable_pages_by_address(
    tmp_path: Path, center: HelpCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_SITE_URL", "https://help.example.com/")
    site = tmp_path / "site"
    result = mkdocs_build(copy_project(tmp_path / "project"), site)
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"<loc>([^<]+)</loc>", (site / "sitemap.xml").read_text())
    assert '"navigation.instant"' in (site / "returns" / "index.html").read_text()
    assert "https://help.example.com/returns/damaged-item/" in listed
    assert "https://help.example.com/" in listed
    assert all(url.startswith("https://help.example.com/") for url in listed)
    assert not [url for url in listed if "/agents/" in url or "/search/" in url or "/a/" in url]
    published = {a.path.removesuffix(".md").removesuffix("index") for a in center.published}
    assert len(published) <= len(listed)
    robots = (site / "robots.txt").read_text()
    assert robots.endswith(
        "Sitemap: https://help.example.com/sitemap.xml\n"
        "Sitemap: https://help.example.com/sv/sitemap.xml\n"
    )
    described = meta(page_of(site, "returns/damaged-item"))
    assert described["og:url"] == "https://help.example.com/returns/damaged-item/"


def test_our_scripts_and_styles_are_linked_with_their_content_hash(built_site: Path) -> None:
    from kb_search.sitefiles import fingerprint

    page = page_of(built_site, "returns/damaged-item")
    linked = [
        a.get("src") or a.get("href", "")
        for t, a in tags(page)
        if t == "script" or a.get("rel") == "stylesheet"
    ]
    ours = [url for url in linked if "assets/kb/" in url]
    names = {posixpath.basename(url.split("?")[0]) for url in ours}
    assert {"kb.js", "search-core.js", "kb.css", "search.css"} <= names
    for url in ours:
        path, _, version = url.partition("?v=")
        file = posixpath.normpath(posixpath.join("returns/damaged-item", path))
        assert version == fingerprint((built_site / file).read_bytes()), url


def test_pages_leave_materials_offline_search_for_when_it_is_needed(built_site: Path) -> None:
    """Material fetches its index when the page has a form named "search"; the worker it starts
    is ours, which loads Material's only for a search (tests/e2e/test_lighthouse.py)."""
    for page in (built_site / "index.html", page_of(built_site, "returns/damaged-item")):
        text = page.read_text()
        assert 'name="search"' not in text
        config = json.loads(re.findall(r'id="__config" type="application/json">(.*?)<', text)[0])
        assert "/workers/kb-search.js?v=" in config["search"]
        assert "worker=search." in config["search"]
