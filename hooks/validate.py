"""Load and validate every article through the article model; build the navigation from it.

Runs first: later hooks read the validated model from `config.extra["help_center"]`. The
theme's language picks the edition: `theme.language: sv` builds the Swedish articles from their
own folder (store.yml's `languages`), with the same hooks, templates and store facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

from kb_search.articles import STORE_FILE, ContentError, HelpCenter, load, missing_site_facts
from kb_search.strings import strings


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    try:
        center = load(Path(config.docs_dir))
    except ContentError as error:
        raise PluginError("Help center content has problems:\n" + str(error)) from None
    code = config.theme["language"]
    if code not in center.editions:
        raise PluginError(
            f"theme.language is {code!r}, but {center.docs_dir.name}/{STORE_FILE} lists the "
            f"languages {', '.join(center.editions)}"
        )
    center = center.in_language(code)
    config.docs_dir = str(center.docs_dir)  # read from here on: the files of this language
    if config.site_url and center.url_prefix:  # its pages are under /sv/: canonical links too
        config.site_url = config.site_url.rstrip("/") + "/" + center.url_prefix
    if missing := missing_site_facts(center):
        raise PluginError("Help center content has problems:\n" + "\n".join(missing))
    config.extra["help_center"] = center
    config.extra["store"] = center.store
    config.nav = navigation(center)
    return config


def navigation(center: HelpCenter) -> list[Any]:
    """Home, then each category (its generated index page first) with its published articles."""
    nav: list[Any] = [{strings(center.language)["home"]: "index.md"}]
    for key, category in center.categories.items():
        articles = [{a.title: a.path} for a in center.in_category(key)]
        nav.append({category.title: [f"{key}/index.md", *articles]})
    return nav
