"""The help center's own words (templates, hooks, JavaScript) in each of its languages.

They live in `strings.yml`, every string in every language side by side: `pages` for the
templates and hooks, `scripts` for the JavaScript (every page carries those, hooks/strings.py).
A string missing in a language, or whose `{placeholders}` differ between languages, is an
error naming the string: a page never shows a key, an English word or an unfilled `{name}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kb_search.text import LANGUAGES

STRINGS_FILE = Path(__file__).with_name("strings.yml")
SECTIONS = ("pages", "scripts")
# `{name}`: the one placeholder syntax, read the same way here and in kb.js.
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class StringsError(ValueError):
    """strings.yml is incomplete or inconsistent; the message names each string."""


@functools.cache
def strings(code: str) -> Mapping[str, str]:
    """Every string (both sections) in language `code`."""
    return _by_language(STRINGS_FILE)[code]


@functools.cache
def script_strings(code: str) -> Mapping[str, str]:
    """The strings the JavaScript reads, in language `code`."""
    keys = _sections(STRINGS_FILE)["scripts"]
    return {key: strings(code)[key] for key in keys}


def fill(template: str, **values: object) -> str:
    """`template` with each `{name}` replaced; an unknown name stays as written."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[0])), template)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@functools.cache
def _sections(path: Path) -> Mapping[str, tuple[str, ...]]:
    return {section: tuple(entries) for section, entries in _read(path).items()}


@functools.cache
def _by_language(path: Path) -> Mapping[str, Mapping[str, str]]:
    return read_strings(path)


def read_strings(path: Path) -> dict[str, dict[str, str]]:
    """A strings file, checked, as {language: {key: text}}; raises StringsError."""
    entries = {key: entry for section in _read(path).values() for key, entry in section.items()}
    problems = [problem for key, entry in entries.items() for problem in _check(key, entry)]
    if problems:
        raise StringsError(f"{path.name}: " + f"\n{path.name}: ".join(problems))
    return {code: {key: entry[code] for key, entry in entries.items()} for code in LANGUAGES}


def _check(key: str, entry: object) -> Iterable[str]:
    if not isinstance(entry, dict):
        yield f"'{key}' must give its text in each language ({', '.join(LANGUAGES)})"
        return
    if unknown := sorted(set(entry) - set(LANGUAGES)):
        yield f"'{key}' has {unknown[0]!r}, which is no language of the help center"
    texts = {code: entry.get(code) for code in LANGUAGES}
    for code, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            yield f"'{key}' has no {code!r} text"
    given = {code: placeholders(text) for code, text in texts.items() if isinstance(text, str)}
    first = next(iter(LANGUAGES))
    for code, names in given.items():
        if first in given and names != given[first]:
            yield f"'{key}': {code!r} has {_listed(names)}, {first!r} has {_listed(given[first])}"


def _listed(names: set[str]) -> str:
    return ", ".join("{" + name + "}" for name in sorted(names)) or "no {placeholders}"


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The file's sections, each a mapping of keys; a key twice anywhere is an error."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        raise StringsError(f"{path.name}: {error}") from None
    if not isinstance(data, dict) or set(data) - set(SECTIONS):
        raise StringsError(f"{path.name}: must hold the sections {', '.join(SECTIONS)}")
    sections = {section: data.get(section) or {} for section in SECTIONS}
    if not all(isinstance(entries, dict) for entries in sections.values()):
        raise StringsError(f"{path.name}: each section must map keys to their texts")
    seen: set[str] = set()
    for entries in sections.values():
        if twice := sorted(seen & set(entries)):
            raise StringsError(f"{path.name}: '{twice[0]}' is in more than one section")
        seen |= set(entries)
    return sections


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys: a copied entry would hide the one above."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        for n, (key_node, _) in enumerate(node.value):
            if keys[n] in keys[:n]:
                raise yaml.constructor.ConstructorError(
                    None, None, f"'{keys[n]}' is given twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)
