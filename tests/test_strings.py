"""The help center's own words (kb_search/strings.yml): complete in every language, and the
Swedish build shows none of the English ones while the English build still shows them."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from hooks.strings import filters
from kb_search.articles import load
from kb_search.strings import (
    STRINGS_FILE,
    StringsError,
    placeholders,
    read_strings,
    script_strings,
    strings,
)
from kb_search.text import LANGUAGES
from tests.conftest import ROOT

# Said in English on a page whatever strings.yml holds: none may be left in a Swedish page.
ENGLISH_LITERALS = ("Was this helpful", "Contact us", "Last reviewed", "Search")
# Shown only when the shop or the content has them: no category is empty, the shop has a chat.
SHOWN_ONLY_SOMETIMES = {"no_articles_yet", "contact_open_line"}
# Attributes a customer hears or sees; the last two are shown by kb.js.
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-open-line")
SHOWN_DATA = ("data-email-response",)


# ---------------------------------------------------------------- the strings file


def test_every_string_is_in_every_language_with_the_same_placeholders() -> None:
    by_language = read_strings(STRINGS_FILE)
    assert set(by_language) == set(LANGUAGES)
    keys = set(strings("en"))
    assert len(keys) > 80
    for code in LANGUAGES:
        assert set(strings(code)) == keys, code
        assert all(text.strip() for text in strings(code).values()), code
    for key in keys:
        assert len({frozenset(placeholders(strings(code)[key])) for code in LANGUAGES}) == 1, key


def test_the_scripts_strings_are_a_part_of_all_of_them() -> None:
    for code in LANGUAGES:
        scripts = script_strings(code)
        assert {"closed", "open_now", "articles_one", "articles_other", "locale"} <= set(scripts)
        assert all(strings(code)[key] == text for key, text in scripts.items())
    assert strings("sv")["feedback_question"] == "Var detta till hjälp?"


def test_every_string_the_templates_and_scripts_use_is_there() -> None:
    """A template's unknown `ui.x` renders as nothing, a script's unknown key as the key."""
    templates = list((ROOT / "overrides").rglob("*.html"))
    used = {key for page in templates for key in re.findall(r"\bui\.(\w+)", page.read_text())}
    assert len(used) > 40 and not used - set(strings("en")), used - set(strings("en"))
    scripts = "\n".join(p.read_text() for p in (ROOT / "overrides").rglob("*.js"))
    keys = set(re.findall(r"\b(?:t|nodes)\(\"(\w+)\"", scripts))
    keys |= {f"{key}_other" for key in re.findall(r"\bplural\([^,()]+, \"(\w+)\"\)", scripts)}
    assert len(keys) > 30 and not keys - set(script_strings("en")), keys - set(script_strings("en"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strings.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_string_missing_in_a_language_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pages:\n  yes_button:\n    en: 'Yes'\n    sv: Ja\n  send_button:\n    en: Send\n",
    )
    with pytest.raises(StringsError, match=r"strings\.yml: 'send_button' has no 'sv' text"):
        read_strings(path)


def test_placeholders_that_differ_between_languages_are_an_error_naming_the_string(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "scripts:\n  call:\n    en: Call {number}\n    sv: Ring {nummer}\n")
    with pytest.raises(StringsError, match=r"'call': 'sv' has \{nummer\}, 'en' has \{number\}"):
        read_strings(path)


def test_a_string_twice_or_in_an_unknown_language_is_an_error(tmp_path: Path) -> None:
    twice = "pages:\n  send:\n    en: Send\n    sv: Skicka\n  send:\n    en: Go\n    sv: Gå\n"
    with pytest.raises(StringsError, match=r"'send' is given twice"):
        read_strings(write(tmp_path, twice))
    unknown = "pages:\n  send:\n    en: Send\n    sv: Skicka\n    de: Senden\n"
    with pytest.raises(StringsError, match=r"'send' has 'de', which is no language"):
        read_strings(write(tmp_path, unknown))
    send = "  send:\n    en: Send\n    sv: Skicka\n"
    across = f"pages:\n{send}scripts:\n{send}"
    with pytest.raises(StringsError, match=r"'send' is in more than one section"):
        read_strings(write(tmp_path, across))


# ---------------------------------------------------------------- the templates' filters


def test_dates_and_weekdays_are_written_as_each_language_writes_them() -> None:
    english, swedish = filters(strings("en")), filters(strings("sv"))
    first = dt.date(2026, 12, 1)
    assert english["long_date"](first) == "1 December 2026"
    assert swedish["long_date"](first) == "1 december 2026"
    assert english["weekday_date"](dt.date(2026, 12, 24)) == "Thursday 24 December"
    assert swedish["weekday_date"](dt.date(2026, 12, 24)) == "Torsdag 24 december"
    assert [swedish["weekday"](day) for day in ("monday", "sunday")] == ["Måndag", "Söndag"]
    assert english["hours"]("closed") == "Closed" and swedish["hours"]("closed") == "Stängt"
    assert swedish["hours"]("08:00-20:00") == "08:00\N{EN DASH}20:00"


def test_a_filled_string_escapes_its_text_and_keeps_the_templates_markup() -> None:
    fill = filters(strings("en"))["fill"]
    filled = fill("Call <{who}> {how}", who="A & B", how=Markup("<a href='#x'>now</a>"))
    assert filled == "Call &lt;A &amp; B&gt; <a href='#x'>now</a>"


# ---------------------------------------------------------------- the built sites


class Shown(HTMLParser):
    """What a page says: its text (not its scripts), the attributes read out or shown, and
    its kb-strings data."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.script_strings: dict[str, str] = {}
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._in.append("kb-strings" if found.get("id") == "kb-strings" else tag)
        self.texts += [found[name] for name in (*READ_ATTRIBUTES, *SHOWN_DATA) if name in found]
        if tag == "meta" and (found.get("name") or found.get("property", "")).endswith(
            "description"
        ):
            self.texts.append(found.get("content", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            self.texts.append(data)
        elif self._in[-1] == "kb-strings":
            self.script_strings = json.loads(data)


def shown(site: Path) -> Iterator[tuple[str, str]]:
    """(page, text) for every text every built page shows."""
    for page in sorted(site.rglob("*.html")):
        parser = Shown()
        parser.feed(page.read_text(encoding="utf-8"))
        where = str(page.relative_to(site))
        texts = [*parser.texts, *parser.script_strings.values()]
        yield from ((where, " ".join(text.split())) for text in texts if text.strip())


def pieces(text: str) -> list[str]:
    """The words of a string around its {placeholders}, those long enough to mean something."""
    parts = (part.strip(" .,:;()\N{MIDDLE DOT}\N{EN DASH}-") for part in re.split(r"\{\w+\}", text))
    return [part for part in parts if len(part) > 3]


def english_only() -> dict[str, list[str]]:
    """Each English string that Swedish says differently, as the words to look for."""
    english, swedish = strings("en"), strings("sv")
    found = {key: pieces(text) for key, text in english.items() if text != swedish[key]}
    found = {key: words for key, words in found.items() if words}
    return {**found, **{literal: [literal] for literal in ENGLISH_LITERALS}}


def said(words: str, text: str) -> bool:
    """`words` in `text` as words: "shop" is not in "webbshop"."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


@pytest.fixture(scope="module")
def swedish_site(built_site: Path) -> Path:
    return built_site / "sv"


def test_no_swedish_page_shows_an_english_string(swedish_site: Path) -> None:
    looked_for = english_only()
    assert len(looked_for) > 80
    found = sorted(
        {
            (key, words, page)
            for page, text in shown(swedish_site)
            for key, all_words in looked_for.items()
            for words in all_words
            if said(words, text)
        }
    )
    by_string: dict[str, str] = {}
    for key, words, page in found:
        by_string.setdefault(f"{key}: {words!r}", page)
    assert not by_string, f"English in the Swedish site (string: first page): {by_string}"
    home = (swedish_site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="sv"' in home and "Sök i hjälpcentret" in home
    moved = (swedish_site / "a" / "103" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in moved and "Artikeln har flyttats:" in moved


def test_the_english_site_still_shows_every_english_string(built_site: Path) -> None:
    texts = [text for _, text in shown(built_site)]
    everything = "\n".join(texts)
    missing = {
        key: words
        for key, all_words in english_only().items()
        if key not in SHOWN_ONLY_SOMETIMES
        for words in all_words
        if not said(words, everything)
    }
    assert not missing, f"English strings the English site no longer shows: {missing}"
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in home
    scripts = json.loads(re.findall(r'id="kb-strings">(.*?)</script>', home)[0])
    assert scripts == dict(script_strings("en"))


def test_each_shop_and_edition_is_named_after_its_own_store() -> None:
    from mkdocs.config import load_config

    names = {}
    for docs, language in (("docs", "sv"), ("tests/relevance/second-shop/docs", "en")):
        config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(ROOT / docs))
        config.theme["language"] = language
        config = config.plugins.on_config(config)
        names[docs] = (config.site_name, config.site_description)
    assert names["docs"][0] == "Ellery & Birch hjälpcenter"
    second = load(ROOT / "tests/relevance/second-shop/docs").store["name"]
    assert names["tests/relevance/second-shop/docs"][0] == f"{second} Help Center"
    assert second in names["tests/relevance/second-shop/docs"][1]
