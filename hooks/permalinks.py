"""Stable links: /a/<id>/ for every article, and each `redirect_from` path, lead to the article.

Support agents paste these links into replies, so they must survive renames and moves. Each is a
small static page (works on any static host): meta refresh, canonical link, a visible link,
in the edition's language (kb_search/strings.yml).
"""

from __future__ import annotations

import html
import posixpath

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from kb_search.articles import HelpCenter
from kb_search.strings import strings


def on_files(files: Files, config: MkDocsConfig) -> Files:
    center: HelpCenter = config.extra["help_center"]
    for article in center.published:
        target = files.get_file_from_path(article.path)
        if target is None:
            continue
        for old in (article.permalink, *article.redirect_from):
            page = posixpath.join(old.strip("/"), "index.html")
            content = redirect_page(
                article.title, page, target.url, config.site_url, config.theme["language"]
            )
            files.append(File.generated(config, page, content=content))
    return files


def redirect_page(
    title: str, page: str, url: str, site_url: str | None, language: str = "en"
) -> str:
    relative = posixpath.relpath(url or ".", posixpath.dirname(page)) + "/"
    canonical = (site_url.rstrip("/") + "/" + url) if site_url else relative
    moved = strings(language)["article_moved"]
    title, relative, canonical, moved, language = (
        html.escape(v) for v in (title, relative, canonical, moved, language)
    )
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{title}</title>\n<meta name="robots" content="noindex">\n'
        f'<link rel="canonical" href="{canonical}">\n'
        f'<meta http-equiv="refresh" content="0; url={relative}">\n</head>\n'
        f'<body>\n<p>{moved} <a id="kb-moved" href="{relative}">{title}</a></p>\n'
        f"<script>{KEEP_ANCHOR}</script>\n</body>\n</html>\n"
    )


# The same on every page, so one Content-Security-Policy hash allows all of them. It keeps a
# section anchor (/a/103/#step-2), which a meta refresh alone would drop.
KEEP_ANCHOR = 'location.replace(document.getElementById("kb-moved").href + location.hash)'
