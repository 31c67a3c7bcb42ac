"""The home page: category tiles and the popular articles named in docs/index.md's front matter."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb_search.articles import HelpCenter


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    if not page.is_homepage:
        return context
    center: HelpCenter = config.extra["help_center"]
    popular = []
    for article_id in page.meta.get("popular") or []:
        article = center.by_id(article_id)
        if article is None or not article.published:
            raise PluginError(
                f"{center.docs_dir.name}/{page.file.src_uri}: front matter field "
                f"'popular' names {article_id!r}, which is no published article id"
            )
        popular.append(article)
    context["popular"] = popular
    context["categories"] = [
        (key, category, center.in_category(key)) for key, category in center.categories.items()
    ]
    return context
