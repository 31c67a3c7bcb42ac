"""Data for the agents' page: every published article with its permalink, reply and sections.

Section anchors come from the table of contents MkDocs builds for each page, so they are the
site's own and no article is rendered twice. Collected on the build's config, written at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb_search.articles import HelpCenter

AGENTS_DATA = "agents/articles.json"
_SECTIONS = "agent_sections"


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    if article is not None:
        sections = [{"heading": item.title, "anchor": item.id} for item in page.toc]
        config.extra.setdefault(_SECTIONS, {})[article.id] = sections
    return context


def on_post_build(config: MkDocsConfig) -> None:
    center: HelpCenter = config.extra["help_center"]
    sections = config.extra.get(_SECTIONS, {})
    articles = [
        {
            "id": a.id,
            "title": a.title,
            "summary": a.summary,
            "url": a.url,
            "permalink": a.permalink,
            "reply": a.reply,
            "category": center.categories[a.category].title,
            "words": " ".join([*a.queries, *a.synonyms, *a.tags]),
            "sections": sections.get(a.id, []),
        }
        for a in center.published
    ]
    target = Path(config.site_dir) / AGENTS_DATA
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(articles, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
