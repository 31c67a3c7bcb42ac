"""The Swedish edition beside the English one: built from one configuration, every article in
both, permalinks and the language switcher within and across them, one index per language."""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.articles import ContentError, HelpCenter, load
from tests.conftest import ROOT, copy_project


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


def html_of(site: Path, url: str) -> str:
    return (site / url / "index.html").read_text(encoding="utf-8")


def title_of(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL)
    assert found, "the page has no heading"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def switcher(page: str) -> dict[str, str]:
    """The header's language menu: language code -> link."""
    links = re.findall(r'<a href="([^"]*)" hreflang="([a-z]+)"[^>]*class="md-select__link"', page)
    return {lang: href for href, lang in links}


def test_every_article_is_in_both_languages_with_the_same_id(center: HelpCenter) -> None:
    swedish = center.in_language("sv")
    assert swedish.docs_dir == (ROOT / "translations" / "sv").resolve()
    assert {a.id for a in center.published} == {a.id for a in swedish.published}
    assert set(center.categories) == set(swedish.categories)
    assert swedish.store["currency_symbol"] == "kr"  # its own facts, the rest shared
    assert swedish.store["phone"] == center.store["phone"]


def test_both_languages_are_built_each_under_its_own_path(
    built_site: Path, center: HelpCenter
) -> None:
    for edition in center.editions.values():
        for article in edition.published:
            page = html_of(built_site, edition.url_prefix + article.url)
            assert f'<html lang="{edition.language}"' in page
            assert title_of(page) == article.title
    assert "Hjälpcenter" in (built_site / "sv" / "index.html").read_text(encoding="utf-8")


def test_every_permalink_leads_to_its_article_in_its_language(
    built_site: Path, center: HelpCenter
) -> None:
    for edition in center.editions.values():
        for article in edition.published:
            permalink = edition.url_prefix + article.permalink
            moved = re.search(r'id="kb-moved" href="([^"]+)"', html_of(built_site, permalink))
            assert moved, permalink
            target = posixpath.normpath(posixpath.join(permalink, moved.group(1))) + "/"
            assert target == edition.url_prefix + article.url, permalink


@pytest.mark.parametrize("url", ["delivery/parcel-not-received/", "returns/", "", "search/"])
def test_the_switcher_leads_to_the_same_page_in_the_other_language_and_back(
    built_site: Path, url: str
) -> None:
    english = html_of(built_site, url)
    to_swedish = switcher(english)["sv"]
    swedish_url = posixpath.normpath(posixpath.join(url or ".", to_swedish)) + "/"
    assert swedish_url == "sv/" + url if url else swedish_url == "sv/"
    swedish = html_of(built_site, swedish_url)
    assert '<html lang="sv"' in swedish
    back = posixpath.normpath(posixpath.join(swedish_url, switcher(swedish)["en"])) + "/"
    assert back == (url or "./")
    if url == "delivery/parcel-not-received/":
        assert title_of(swedish) == "Paketet har inte kommit"


def test_pages_name_no_alternate_that_materials_scripts_would_fetch_a_sitemap_beside(
    built_site: Path,
) -> None:
    # Material fetches sitemap.xml beside each <link rel="alternate">: a 404 for an article.
    page = html_of(built_site, "sv/delivery/parcel-not-received/")
    assert '<link rel="alternate"' not in page


def test_with_a_site_url_the_sitemaps_name_each_pages_alternates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb_search.sitebuild import build_site

    monkeypatch.setenv("KB_SITE_URL", "https://help.example.com/")
    project = copy_project(tmp_path / "project")
    site = build_site(project / "mkdocs.yml", project / "docs", tmp_path / "site")
    swedish = (site / "sv" / "sitemap.xml").read_text()
    entry = re.search(
        r"<loc>https://help.example.com/sv/delivery/parcel-not-received/</loc>(.*?)</url>",
        swedish,
        re.DOTALL,
    )
    assert entry, "the Swedish article is not in the Swedish sitemap"
    assert (
        'hreflang="en" href="https://help.example.com/delivery/parcel-not-received/"'
        in entry.group(1)
    )
    robots = (site / "robots.txt").read_text()
    assert "Disallow: /sv/agents/" in robots
    assert "Sitemap: https://help.example.com/sv/sitemap.xml" in robots
    canonical = html_of(site, "sv/returns/")
    assert '<link rel="canonical" href="https://help.example.com/sv/returns/"' in canonical


def test_a_language_folder_that_is_missing_fails_naming_the_field(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    shutil.rmtree(project / "translations")
    with pytest.raises(ContentError, match=r"docs/store.yml: 'languages.sv': 'folder'"):
        load(project / "docs")


def test_a_language_the_search_cannot_analyse_is_refused(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    store = project / "docs" / "store.yml"
    store.write_text(store.read_text() + "  de:\n    name: Deutsch\n    folder: ../de\n")
    with pytest.raises(ContentError, match=r"'languages.de': the help center can search en, sv"):
        load(project / "docs")


def test_a_swedish_search_finds_swedish_articles_at_swedish_addresses(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "returetikett", "lang": "sv"}).json()
    assert found["lang"] == "sv"
    assert found["results"][0]["url"] == "sv/returns/how-to-return/"
    assert found["results"][0]["title"] == "Så returnerar du en vara"
    english = client.get("/api/search", params={"q": "return label"}).json()
    assert english["lang"] == "en"
    assert english["results"][0]["url"] == "returns/how-to-return/"
    address = client.get("/api/search", params={"q": "leveransadress", "lang": "sv"}).json()
    assert address["results"][0]["id"] == 125


def test_a_search_in_a_language_the_help_center_lacks_is_a_400(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "paket", "lang": "de"})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "lang must be one of: en, sv",
        "status": 400,
    }


def test_a_swedish_search_that_finds_nothing_offers_the_english_articles(
    client: TestClient,
) -> None:
    found = client.get("/api/search", params={"q": "dry cleaning", "lang": "sv"}).json()
    assert found["results"] == []
    assert found["elsewhere"]["lang"] == "en"
    assert found["elsewhere"]["name"] == "English"
    assert found["elsewhere"]["results"][0]["url"] == "products/product-care/"
    english = client.get("/api/search", params={"q": "dry cleaning"}).json()
    assert english["elsewhere"] is None
    typing = {"q": "dry cleaning", "lang": "sv", "typing": "1"}
    assert client.get("/api/search", params=typing).json()["elsewhere"] is None


def test_a_missing_page_under_sv_is_the_swedish_404(client: TestClient) -> None:
    response = client.get("/sv/finns-inte/")
    assert response.status_code == 404
    assert '<html lang="sv"' in response.text
    assert 'href="/sv/orders/"' in response.text  # its links stay in Swedish
    assert '<html lang="en"' in client.get("/finns-inte/").text


def test_a_swedish_click_and_feedback_are_logged_as_swedish(client: TestClient) -> None:
    from tests.test_app import logged

    found = client.get("/api/search", params={"q": "returetikett", "lang": "sv"}).json()
    article = found["results"][0]["id"]
    click = {"search_id": found["search_id"], "article_id": article, "lang": "sv"}
    assert client.post("/api/click", json=click).json() == {"ok": True}
    feedback = {"article_id": article, "helpful": False, "reason": "unclear", "lang": "sv"}
    assert client.post("/api/feedback", json=feedback).json() == {"ok": True}
    assert logged(client, "SELECT language FROM searches") == [("sv",)]
    assert logged(client, "SELECT language FROM clicks") == [("sv",)]
    assert logged(client, "SELECT article_id, language FROM feedback") == [(str(article), "sv")]
    wrong = client.post("/api/feedback", json={**feedback, "lang": ["sv"]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "lang must be text"


def test_a_special_days_hours_are_written_once_and_its_name_in_each_language(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path / "project")
    store = project / "docs" / "store.yml"
    store.write_text(store.read_text().replace('hours: "08:00-16:00"', 'hours: "09:00-13:00"', 1))
    swedish = load(project / "docs").in_language("sv").store["special_days"]
    assert swedish == [{"date": "12-23", "hours": "09:00-13:00", "name": "Dagen före julafton"}]


def test_the_offline_search_of_swedish_pages_is_a_swedish_lunr_index(built_site: Path) -> None:
    import json

    swedish = json.loads((built_site / "sv" / "search" / "search_index.json").read_text())
    english = json.loads((built_site / "search" / "search_index.json").read_text())
    assert swedish["config"]["lang"] == ["sv"] and english["config"]["lang"] == ["en"]
    assert (
        built_site / "sv" / "assets" / "javascripts" / "lunr" / "min" / "lunr.sv.min.js"
    ).is_file()
    titles = {doc["title"] for doc in swedish["docs"]}
    assert "Paketet har inte kommit" in titles and "Parcel not received" not in titles
