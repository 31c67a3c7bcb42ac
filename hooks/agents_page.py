"""Data for the agents' page: every published article with its permalink, reply and sections."""

from __future__ import annotations

import json

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from kb_search.articles import HelpCenter
from kb_search.sections import split_sections

AGENTS_DATA = "agents/articles.json"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    center: HelpCenter = config.extra["help_center"]
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
            "sections": [
                {"heading": s.heading, "anchor": s.anchor}
                for s in split_sections(a.markdown)
                if s.anchor
            ],
        }
        for a in center.published
    ]
    content = json.dumps(articles, ensure_ascii=False, separators=(",", ":"))
    files.append(File.generated(config, AGENTS_DATA, content=content))
    return files
