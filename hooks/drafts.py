"""Keep draft articles out of the built site (and so out of its navigation and search)."""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files

from kb_search.articles import HelpCenter


def on_files(files: Files, config: MkDocsConfig) -> Files:
    center: HelpCenter = config.extra["help_center"]
    for article in center.articles:
        file = files.get_file_from_path(article.path)
        if file is not None and not article.published:
            files.remove(file)
    return files
