"""The language switcher and hreflang links: each page names the same page in the other
languages (an article by its id, the translation key), so switching never lands on the home page.

Material's own alternate links go through MkDocs's `url` filter, which cannot lead from /sv/ up to
the first language's pages; so `extra.alternate` is only `True` (Material then shows the header's
language menu, overrides/partials/alternate.html, and leaves out its own hreflang links) and each
page gets `kb_alternates` with links made here: relative to the page, or absolute with site_url.

Search engines get the alternates from the sitemap (`<xhtml:link hreflang>`), not from each
page's head: Material fetches `sitemap.xml` beside every `<link rel="alternate">` it finds,
which for a page's alternate is a 404; and an hreflang link must be absolute, which only a
site with site_url can give (its sitemap is the one that lists pages: hooks/seo.py).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from kb_search.articles import HelpCenter


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    center: HelpCenter = config.extra["help_center"]
    if len(center.editions) > 1:
        config.extra["alternate"] = True  # not iterable: see above
    config.extra["help_center_root"] = "../" * center.url_prefix.count("/")
    return config


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    center: HelpCenter = config.extra["help_center"]
    if len(center.editions) > 1:
        context["kb_alternates"] = alternates(center, page.file.src_uri, page.url, config.site_url)
    return context


def alternates(
    center: HelpCenter, src_uri: str, url: str, site_url: str | None
) -> list[dict[str, str]]:
    """The page made from `src_uri` (at `url`) in every language: the article with the same
    id, the same category or page where the language has it, else that language's home."""
    article = center.by_path(src_uri)
    # The first language's address: site_url is this language's own (hooks/validate.py).
    root = (site_url or "").removesuffix(center.url_prefix)
    here = center.url_prefix + url
    links = []
    for code, edition in center.editions.items():
        same = edition.by_id(article.id) if article is not None else None
        if same is not None and same.published:
            path = same.url
        elif article is None and src_uri.removesuffix("index.md").rstrip("/") in edition.categories:
            path = src_uri.removesuffix("index.md")
        elif article is None and src_uri in ("search.md", "agents.md"):
            path = src_uri.removesuffix(".md") + "/"
        else:
            path = ""
        target = edition.url_prefix + path
        relative = get_relative_url(target or ".", here)
        href = root + target if root else relative.removesuffix("/") + "/"
        name = edition.language_names[code]
        links.append({"name": name, "lang": code, "href": href})
    return links


def on_template_context(
    context: dict[str, Any], template_name: str, config: MkDocsConfig
) -> dict[str, Any]:
    """The 404 page's links start at the server's root ("/orders/"): in another language they
    must start at its own (/sv/orders/). With site_url, hooks/validate.py has it right."""
    center: HelpCenter = config.extra["help_center"]
    if template_name != "404.html":
        return context
    if center.url_prefix and not config.site_url:
        context["base_url"] = context["base_url"].rstrip("/") + "/" + center.url_prefix.rstrip("/")
    # Its links are from the server's root too: each language's home page.
    root = (context["base_url"].rstrip("/") + "/").removesuffix(center.url_prefix)
    context["kb_alternates"] = [
        {"name": edition.language_names[code], "lang": code, "href": root + edition.url_prefix}
        for code, edition in center.editions.items()
    ]
    return context


_SITEMAP_ENTRY = re.compile(r"(<url>\s*<loc>([^<]*)</loc>)")
_XHTML = 'xmlns:xhtml="http://www.w3.org/1999/xhtml"'


def on_post_build(config: MkDocsConfig) -> None:
    """Each page of the sitemap with its alternates in every language."""
    center: HelpCenter = config.extra["help_center"]
    sitemap = Path(config.site_dir) / "sitemap.xml"
    if len(center.editions) < 2 or not config.site_url or not sitemap.is_file():
        return
    root = config.site_url.rstrip("/") + "/"
    sources = [(a.path, a.url) for a in center.published]
    sources += [(f"{key}/index.md", f"{key}/") for key in center.categories]
    pages = {
        root + url: alternates(center, src_uri, url, config.site_url)
        for src_uri, url in [*sources, ("index.md", "")]
    }

    def entry(match: re.Match[str]) -> str:
        links = pages.get(html.unescape(match.group(2)), [])
        return match.group(1) + "".join(
            f'<xhtml:link rel="alternate" hreflang="{a["lang"]}" href="{html.escape(a["href"])}"/>'
            for a in links
        )

    text = _SITEMAP_ENTRY.sub(entry, sitemap.read_text(encoding="utf-8"))
    text = text.replace("<urlset ", f"<urlset {_XHTML} ", 1)
    sitemap.write_text(text, encoding="utf-8")
