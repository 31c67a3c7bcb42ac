"""Render `{{ store.x }}` facts: articles come from the model, other pages are rendered here.
Also the facts that every page's template shows: special opening days and the footer."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb_search.articles import ContentError, HelpCenter
from kb_search.hours import special_days

# The days that differ from the weekly hours, carried by every page for kb.js: a site is
# rebuilt far more often than this, and past it the weekly hours still hold.
CALENDAR_DAYS = 400
# The ones the page lists without JavaScript: what is coming up soon after the build.
SOON_DAYS = 45
FOOTER_LINKS = (("shop_url", "{name} shop"), ("privacy_url", "Privacy"), ("terms_url", "Terms"))


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    store = config.extra["store"]
    today = dt.datetime.now(zoneinfo.ZoneInfo(store["timezone"])).date()
    days = special_days(store, today - dt.timedelta(days=1), CALENDAR_DAYS)
    config.extra["special_days"] = {
        "calendar": {d.day.isoformat(): [d.hours, d.name] for d in days},
        "soon": [d for d in days if today <= d.day < today + dt.timedelta(days=SOON_DAYS)],
        "soon_days": SOON_DAYS,
    }
    links = [
        f'<a href="{html.escape(store[key])}">{html.escape(text.format(name=store["name"]))}</a>'
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


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    center: HelpCenter = config.extra["help_center"]
    article = center.by_path(page.file.src_uri)
    if article is not None:
        return article.markdown
    try:
        return center.render(markdown, f"{center.docs_dir.name}/{page.file.src_uri}")
    except ContentError as error:
        raise PluginError(str(error)) from None
