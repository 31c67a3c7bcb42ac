"""Render `{{ store.x }}` facts: articles come from the model, other pages are rendered here.
Also the facts that every page's template shows: special opening days and the footer, in the
edition's language (holiday names from the `holidays` package, the footer's words from
kb_search/strings.yml)."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo
from collections.abc import Mapping
from typing import Any

import holidays
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb_search.articles import ContentError, HelpCenter
from kb_search.hours import special_days
from kb_search.strings import fill

# The days that differ from the weekly hours, carried by every page for kb.js: a site is
# rebuilt far more often than this, and past it the weekly hours still hold.
CALENDAR_DAYS = 400
# The ones the page lists without JavaScript: what is coming up soon after the build.
SOON_DAYS = 45
ENGLISH_HOLIDAYS = "en_US"
# The store fact each link goes to, and its words (kb_search/strings.yml).
FOOTER_LINKS = (
    ("shop_url", "footer_shop"),
    ("privacy_url", "footer_privacy"),
    ("terms_url", "footer_terms"),
)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    store = config.extra["store"]
    today = dt.datetime.now(zoneinfo.ZoneInfo(store["timezone"])).date()
    holiday_names = holiday_language(store, config.theme["language"])
    days = special_days(store, today - dt.timedelta(days=1), CALENDAR_DAYS, holiday_names)
    config.extra["special_days"] = {
        "calendar": {d.day.isoformat(): [d.hours, d.name] for d in days},
        "soon": [d for d in days if today <= d.day < today + dt.timedelta(days=SOON_DAYS)],
        "soon_days": SOON_DAYS,
    }
    ui: Mapping[str, str] = config.extra["ui"]
    links = [
        f'<a href="{html.escape(store[key])}">{html.escape(fill(ui[text], name=store["name"]))}</a>'
        for key, text in FOOTER_LINKS
        if store.get(key)
    ]
    # Material shows `copyright` in its footer as HTML: the links back to the shop go there.
    config.copyright = (
        f'<nav class="kb-footer" aria-label="{html.escape(store["name"])}">'
        + f"<span>© {today.year} {html.escape(store['name'])}</span>"
        + "".join(links)
        + "</nav>"
    )
    return config


def holiday_language(store: Mapping[str, Any], code: str) -> str:
    """The `holidays` package's language for the edition's holiday names: its own when the
    package has it for the shop's country ("sv"), else American English, as before."""
    rules = store.get("holidays") or {}
    if not rules.get("country"):
        return ENGLISH_HOLIDAYS
    supported = holidays.country_holidays(rules["country"]).supported_languages
    return code if code in supported else ENGLISH_HOLIDAYS


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    if article is not None:
        return article.markdown
    try:
        return center.render(markdown, f"{center.docs_dir.name}/{page.file.src_uri}")
    except ContentError as error:
        raise PluginError(str(error)) from None
