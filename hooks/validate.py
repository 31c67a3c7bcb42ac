"""Load and validate every article through the article model; build the navigation from it.

Runs first: later hooks read the validated model from `config.extra["help_center"]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

from kb_search.articles import ContentError, HelpCenter, load, missing_site_facts


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    try:
        center = load(Path(config.docs_dir))
    except ContentError as error:
        raise PluginError("Help center content has problems:\n" + str(error)) from None
    if missing := missing_site_facts(center):
        raise PluginError("Help center content has problems:\n" + "\n".join(missing))
    config.extra["help_center"] = center
    config.extra["store"] = center.store
    config.nav = navigation(center)
    return config


def navigation(center: HelpCenter) -> list[Any]:
    """Home, then each category (its generated index page first) with its published articles."""
    nav: list[Any] = [{"Home": "index.md"}]
    for key, category in center.categories.items():
        articles = [{a.title: a.path} for a in center.in_category(key)]
        nav.append({category.title: [f"{key}/index.md", *articles]})
    return nav
