"""Generate each category's index page from categories.yml and its articles' front matter."""

from __future__ import annotations

from collections.abc import Mapping

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from kb_search.articles import Category, HelpCenter


def on_files(files: Files, config: MkDocsConfig) -> Files:
    center: HelpCenter = config.extra["help_center"]
    for key, category in center.categories.items():
        lines = [
            f"- [{a.title}]({a.path.split('/', 1)[1]})\n  <span>{a.summary}</span>"
            for a in center.in_category(key)
        ]
        content = page_markdown(category, lines, config.extra["ui"])
        files.append(File.generated(config, f"{key}/index.md", content=content))
    return files


def page_markdown(category: Category, lines: list[str], ui: Mapping[str, str]) -> str:
    items = "\n".join(lines) or ui["no_articles_yet"]
    # Dumped, not pasted: a title like "Orders: tracking" must stay valid YAML.
    front = yaml.safe_dump({"title": category.title, "icon": category.icon}, allow_unicode=True)
    return (
        f"---\n{front}---\n\n{category.summary}\n\n"
        f'<div class="kb-article-list" markdown>\n\n{items}\n\n</div>\n'
    )
