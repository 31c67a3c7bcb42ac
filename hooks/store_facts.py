"""Render `{{ store.x }}` facts: articles come from the model, other pages are rendered here."""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb_search.articles import ContentError, HelpCenter


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    if article is not None:
        return article.markdown
    try:
        return center.render(markdown, f"{center.docs_dir.name}/{page.file.src_uri}")
    except ContentError as error:
        raise PluginError(str(error)) from None
