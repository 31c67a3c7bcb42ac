"""Keep our `status` field away from Material's page-status feature.

Material shows an icon in the navigation for any page whose `page.meta.status` is set (meant for
"new" or "deprecated" badges from `extra.status`), so every `status: published` article got an
unexplained icon. Nothing else reads `page.meta.status`: the article model, the drafts hook and
the search index all read `status` from the source file through `kb_search.articles`.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    # Runs for every page before any template renders its navigation (MkDocs reads all pages
    # first), so no page's nav entry sees the field.
    page.meta.pop("status", None)
    return markdown
