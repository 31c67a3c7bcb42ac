"""What search engines read: each article's summary as its description, robots.txt, and a
sitemap that lists only pages meant to be found.

Without `site_url` (KB_SITE_URL at build time) MkDocs writes a sitemap with no pages: it knows no
absolute address. That empty list stays (a valid answer to whoever asks for it; instant
navigation, which follows only the links it lists, is then off: hooks/instant.py), and
robots.txt names no sitemap. The permanent links
(/a/<id>/) are never in the sitemap (they are not pages) and say `noindex` (hooks/permalinks.py).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

from kb_search.articles import HelpCenter

# For agents, admins and result pages: nothing a search engine should list.
NOT_FOR_SEARCH_ENGINES = ("agents/", "admin/", "search/")
_URL_ENTRY = re.compile(r"\s*<url>\s*<loc>([^<]*)</loc>.*?</url>", re.DOTALL)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Any) -> str:
    """Material writes page.meta.description into <meta name="description">."""
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    category = center.categories.get(page.file.src_uri.removesuffix("/index.md"))
    summary = (
        article.summary
        if article is not None
        else category.summary
        if category is not None
        else page.meta.get("summary")
    )
    if summary and not page.meta.get("description"):
        # Escaped here: Material's template writes it as it is into an attribute.
        page.meta["description"] = Markup(escape(str(summary)))
    return markdown


def on_post_build(config: MkDocsConfig) -> None:
    center: HelpCenter = config.extra["help_center"]
    site = Path(config.site_dir)
    site_url = config.site_url or ""
    if site_url:
        keep_findable_pages(site / "sitemap.xml", site_url.rstrip("/") + "/")
    if center.url_prefix:
        return  # robots.txt rules from the host's root: the first language's build writes it
    root = urlsplit(site_url).path.rstrip("/") + "/" if site_url else "/"
    prefixes = [edition.url_prefix for edition in center.editions.values()] or [""]
    lines = ["User-agent: *"]
    lines += [f"Disallow: {root}{p}{path}" for p in prefixes for path in NOT_FOR_SEARCH_ENGINES]
    if site_url:
        lines += [f"Sitemap: {site_url.rstrip('/')}/{p}sitemap.xml" for p in prefixes]
    # At the host's root it rules the host; under a path (site_url with one), the operator
    # copies it there.
    (site / "robots.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def keep_findable_pages(sitemap: Path, site_url: str) -> None:
    """Drop the pages robots.txt keeps search engines away from (a sitemap must not list them)."""
    if not sitemap.is_file():
        return

    def entry(match: re.Match[str]) -> str:
        path = match.group(1).removeprefix(site_url)
        return "" if path.startswith(NOT_FOR_SEARCH_ENGINES) else match.group(0)

    text = _URL_ENTRY.sub(entry, sitemap.read_text(encoding="utf-8"))
    sitemap.write_text(text, encoding="utf-8")
    sitemap.with_name("sitemap.xml.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
