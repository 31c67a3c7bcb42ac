"""Serving the built site: compressed copies, caching, and what a browser gets back."""

from __future__ import annotations

import gzip
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from kb_search.sitebuild import precompress
from kb_search.sitefiles import SiteFiles, fingerprint

PAGE = (
    "<!doctype html><title>Returns</title>" + "<p>Send it back within 30 days.</p>" * 200
).encode()
SCRIPT = b"console.log('kb');" * 100


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "returns").mkdir()
    (tmp_path / "returns" / "index.html").write_bytes(PAGE)
    (tmp_path / "index.html").write_bytes(PAGE)
    (tmp_path / "kb.js").write_bytes(SCRIPT)
    (tmp_path / "tiny.css").write_bytes(b"a{color:red}")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG" + bytes(4000))
    (tmp_path / "random.json").write_bytes(random.Random(1).randbytes(4000))
    return tmp_path


@pytest.fixture
def files(site: Path) -> Iterator[TestClient]:
    precompress(site)
    app = Starlette(routes=[Mount("/", SiteFiles(directory=site, html=True))])
    with TestClient(app) as client:
        yield client


def test_precompress_writes_copies_of_text_only(site: Path) -> None:
    assert precompress(site) == 3  # the two pages and the script
    page = site / "returns" / "index.html"
    assert brotli.decompress((site / "returns" / "index.html.br").read_bytes()) == PAGE
    assert gzip.decompress(page.with_name("index.html.gz").read_bytes()) == PAGE
    assert not (site / "tiny.css.br").exists()  # smaller than what it would save
    assert not (site / "photo.png.br").exists()  # images are compressed already
    assert not (site / "random.json.gz").exists()  # compression would not make it smaller


def test_a_browser_gets_brotli_then_gzip_then_the_plain_page(files: TestClient) -> None:
    both = files.get("/returns/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert both.headers["content-encoding"] == "br"
    assert both.content == PAGE  # the client decoded it: it is the page
    assert both.headers["content-type"].startswith("text/html")
    assert int(both.headers["content-length"]) < len(PAGE) / 5
    assert both.headers["vary"] == "Accept-Encoding"
    only_gzip = files.get("/returns/", headers={"Accept-Encoding": "gzip, br;q=0"})
    assert only_gzip.headers["content-encoding"] == "gzip" and only_gzip.content == PAGE
    plain = files.get("/returns/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == PAGE
    assert plain.headers["vary"] == "Accept-Encoding"  # a shared cache must ask again
    # Each representation has its own ETag, and a browser revalidates the one it holds.
    assert len({both.headers["etag"], only_gzip.headers["etag"], plain.headers["etag"]}) == 3
    again = files.get(
        "/returns/", headers={"Accept-Encoding": "br", "If-None-Match": both.headers["etag"]}
    )
    assert again.status_code == 304 and again.headers["vary"] == "Accept-Encoding"
    assert again.headers["cache-control"] == "no-cache"


def test_a_page_changed_after_its_copies_were_made_is_served_as_it_is_now(
    site: Path, files: TestClient
) -> None:
    page = site / "returns" / "index.html"
    later = page.with_name("index.html.br").stat().st_mtime_ns + 10**9
    page.write_bytes(b"<p>New return rules.</p>" * 100)
    os.utime(page, ns=(later, later))
    fresh = files.get("/returns/", headers={"Accept-Encoding": "br, gzip"})
    assert fresh.content == b"<p>New return rules.</p>" * 100


def test_our_assets_are_cached_for_good_only_under_their_own_hash(files: TestClient) -> None:
    current = fingerprint(SCRIPT)
    assert "immutable" in files.get(f"/kb.js?v={current}").headers["cache-control"]
    # An old page's link (another hash) or no hash: short-lived, so a new release shows soon.
    assert files.get("/kb.js?v=0123456789").headers["cache-control"] == "public, max-age=3600"
    assert files.get("/kb.js").headers["cache-control"] == "public, max-age=3600"
    assert files.get("/photo.png").headers["cache-control"] == "public, max-age=3600"


def test_the_service_compresses_pages_and_api_answers(client: TestClient) -> None:
    """The real app over a site built without `kb release` (no copies): gzip on the fly."""
    page = client.get("/returns/damaged-item/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "Damaged" in page.text
    revalidated = client.get(
        "/returns/damaged-item/",
        headers={"Accept-Encoding": "gzip", "If-None-Match": page.headers["etag"]},
    )
    assert revalidated.status_code == 304
    answer = client.get("/api/search?q=return+label", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip" and answer.json()["ok"] is True
    tiny = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tiny.headers  # not worth it under 500 bytes
    script = re.search(r'src="(?:\.\./)*(assets/kb/kb\.js\?v=[0-9a-f]+)"', page.text)
    assert script is not None
    assert "immutable" in client.get("/" + script.group(1)).headers["cache-control"]


def test_a_copy_is_never_served_as_a_file_of_its_own(site: Path, files: TestClient) -> None:
    (site / "404.html").write_bytes(b"<!doctype html><title>Not found</title>" + b"<p>x</p>" * 300)
    precompress(site)
    for path in ("/index.html.br", "/kb.js.gz", "/returns/index.html.br"):
        reply = files.get(path, headers={"Accept-Encoding": "identity"})
        assert reply.status_code == 404, path
        assert "Not found" in reply.text, path


def test_the_404_page_comes_compressed_and_revalidated(site: Path, files: TestClient) -> None:
    (site / "404.html").write_bytes(b"<!doctype html><title>Not found</title>" + b"<p>x</p>" * 300)
    precompress(site)
    reply = files.get("/no/such/page/", headers={"Accept-Encoding": "br"})
    assert reply.status_code == 404
    assert reply.headers["content-encoding"] == "br" and "Not found" in reply.text
    assert reply.headers["cache-control"] == "no-cache"
    again = files.get("/no/such/page/", headers={"If-None-Match": reply.headers["etag"]})
    assert again.status_code == 404  # never a 304 for a page that is not there


def test_gzip_on_the_fly_is_exact_about_http(client: TestClient, built_site: Path) -> None:
    # A source map: text, but not worth a precompressed copy (only a developer's tools load it).
    [source_map] = (built_site / "assets" / "javascripts").glob("bundle.*.min.js.map")
    path = "/" + source_map.relative_to(built_site).as_posix()
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers and '"mappings"' in refused.text
    page = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["etag"].startswith('W/"')  # other bytes than the file's own ETag names
    assert page.headers["vary"] == "Accept-Encoding"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert f"W/{plain.headers['etag']}" == page.headers["etag"]
