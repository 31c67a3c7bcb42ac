"""The help center's own words in the edition's language (kb_search/strings.yml).

Runs right after hooks/validate.py, so every later hook finds them in `config.extra["ui"]`.
Templates write `{{ ui.key }}`: the same strings, HTML-escaped (a string is text, never markup),
with `| fill(name=...)` for their `{name}` placeholders (a value is escaped unless it is
markup: `| e` text, `| safe` a link the template built). Dates and weekday names come from
Babel in the edition's locale; the JavaScript gets its strings from `kb_strings`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, get_day_names
from markupsafe import Markup, escape
from mkdocs.config.defaults import MkDocsConfig

from kb_search.hours import CLOSED, WEEKDAYS
from kb_search.strings import PLACEHOLDER, fill, script_strings, strings
from kb_search.text import language


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    code = config.theme["language"]
    ui = strings(code)
    config.extra["ui"] = ui
    # The site's own name and description are words of its edition too (<title>, the header,
    # the description of pages that have none of their own).
    shop = config.extra["store"]["name"]
    config.site_name = fill(ui["site_name"], name=shop)
    config.site_description = fill(ui["site_description"], name=shop)
    # The heading anchors' tooltip (Python-Markdown's toc writes "Permanent link" otherwise).
    if "toc" in config.markdown_extensions:
        config.mdx_configs.setdefault("toc", {})["permalink_title"] = ui["permanent_link"]
    return config


def on_env(env: jinja2.Environment, config: MkDocsConfig, files: Any) -> jinja2.Environment:
    code = config.theme["language"]
    ui: Mapping[str, str] = config.extra["ui"]
    env.globals["ui"] = {key: escape(text) for key, text in ui.items()}
    env.globals["kb_strings"] = script_json(script_strings(code))
    # The agents' page filters articles by word when the search service is away.
    env.globals["kb_stop_words"] = " ".join(sorted(language(code).stop_words))
    env.filters.update(filters(ui))
    return env


def filters(ui: Mapping[str, str]) -> dict[str, Callable[..., str]]:
    """The templates' filters for one language's strings (`ui`)."""
    locale = Locale.parse(ui["locale"], sep="-")
    return {
        "fill": fill_markup,
        "long_date": lambda day: format_date(day, "long", locale=locale),  # 1 December 2026
        "weekday_date": lambda day: weekday_date(day, locale),
        "weekday": lambda name: weekday(name, locale),
        "hours": lambda hours: hours_text(hours, ui),
    }


def script_json(texts: Mapping[str, str]) -> Markup:
    """The scripts' strings as JSON to sit inside <script type="application/json">: compact,
    and with no "<" or "&" that could end the element or read as a character reference."""
    text = json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def fill_markup(template: str, **values: object) -> Markup:
    """A string's `{name}`s filled in: the string and plain values escaped, markup kept."""
    return Markup(PLACEHOLDER.sub(lambda m: str(escape(values.get(m[1], m[0]))), escape(template)))


def weekday_date(day: dt.date, locale: Locale) -> str:
    """ "Thursday 24 December", "Torsdag 24 december": a list item's first words."""
    return _first_upper(format_date(day, "EEEE d MMMM", locale=locale))


def weekday(name: str, locale: Locale) -> str:
    """A weekday of store.yml's opening hours ("monday") as a row's title: "Monday", "Måndag"."""
    return _first_upper(get_day_names("wide", locale=locale)[WEEKDAYS.index(name)])


def hours_text(hours: str, ui: Mapping[str, str]) -> str:
    """Opening hours as the page shows them: with an en dash, or "Closed" in its language."""
    return ui["closed"] if hours == CLOSED else hours.replace("-", "\N{EN DASH}")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]
