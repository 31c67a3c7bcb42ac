"""Give article templates their article (for "Last reviewed" and feedback) and related articles.

The feedback reasons are the query log's (kb_search/querylog/events.py), in the page's language.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb_search.articles import Article, HelpCenter
from kb_search.querylog.events import FEEDBACK_REASONS

RELATED_COUNT = 4


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    if article is None:
        return context
    context["article"] = article
    context["related"] = related(article, center.published)
    ui = config.extra["ui"]
    context["feedback_reasons"] = {key: ui[f"feedback_reason_{key}"] for key in FEEDBACK_REASONS}
    return context


def related(article: Article, candidates: list[Article]) -> list[Article]:
    """Articles sharing the most tags first, then the same category; never the article itself."""

    def closeness(other: Article) -> tuple[int, int, int]:
        shared = len(set(article.tags) & set(other.tags))
        return (-shared, other.category != article.category, other.id)

    others = [
        a
        for a in candidates
        if a.id != article.id
        and (set(a.tags) & set(article.tags) or a.category == article.category)
    ]
    return sorted(others, key=closeness)[:RELATED_COUNT]
