"""The article model: one place that loads, renders and validates the help center's content.

The MkDocs hooks, the search index and the `kb` command all read articles through `load()`,
so the site and the index can never disagree about an article's id, title, URL or text.

A docs folder holds:
- `store.yml`       the shop's facts, referenced in articles as `{{ store.name }}`;
- `categories.yml`  the categories in display order; a category is a folder;
- `<category>/<slug>.md`  articles: YAML front matter (see `frontmatter.py`) and a Markdown body;
- `retired-ids.txt` ids of deleted articles, which are never given out again.

The help center's languages are listed in `store.yml` (`languages:`): the first is the docs folder
itself, each other one a folder of the same articles in that language (the id is the translation
key: `/a/126/` and `/sv/a/126/` are one article), with its own `categories.yml` and
`synonyms.yml`, and a `facts:` section for the store facts that read differently in it (labels,
prices in its currency). Everything else is the one `store.yml`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import subprocess
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from kb_search import hours as opening
from kb_search.frontmatter import (
    FIELD_NAMES,
    FIELDS,
    MIN_QUERIES,
    STATUSES,
    Field,
    FreeIds,
    FrontMatter,
    FrontMatterError,
    field_problem,
    parse,
    split_front_matter,
    valid_id,
    validate,
)
from kb_search.text import DEFAULT_LANGUAGE, LANGUAGES

__all__ = [  # the front matter names are re-exported: hooks and tests import them from here
    "FIELDS",
    "FIELD_NAMES",
    "MIN_QUERIES",
    "STATUSES",
    "Article",
    "Category",
    "ContentError",
    "Field",
    "HelpCenter",
    "load",
    "render_facts",
    "split_front_matter",
]

STORE_FILE = "store.yml"
LANGUAGE_FIELDS = ("name", "folder", "facts")
CATEGORIES_FILE = "categories.yml"
RETIRED_IDS_FILE = "retired-ids.txt"

_FACT = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_FACT_NAME = re.compile(r"store(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


class ContentError(Exception):
    """Content problems found while loading; each names the file and the field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Category:
    key: str
    title: str
    summary: str
    icon: str


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    summary: str
    category: str
    path: str  # relative to the docs folder, POSIX style: "orders/track-your-order.md"
    markdown: str  # the body with store facts rendered: exactly what the site shows
    reply: str
    reviewed: dt.date
    status: str
    tags: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    redirect_from: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The article's URL relative to the site root (MkDocs directory URLs)."""
        return str(PurePosixPath(self.path).with_suffix("")) + "/"

    @property
    def permalink(self) -> str:
        return f"a/{self.id}/"

    @property
    def published(self) -> bool:
        return self.status == "published"


@dataclass(frozen=True)
class HelpCenter:
    """Everything in one docs folder (one language), validated."""

    docs_dir: Path
    store: Mapping[str, Any]
    categories: Mapping[str, Category]
    articles: tuple[Article, ...]
    retired_ids: frozenset[int] = field(default=frozenset())
    language: str = DEFAULT_LANGUAGE
    # Every language of the help center, this one included, in the order of store.yml: one
    # mapping shared by all of them (the switcher and `kb check` go from one to another).
    editions: Mapping[str, HelpCenter] = field(default_factory=dict, compare=False, repr=False)
    # Each language's own name, as its readers write it ("Svenska").
    language_names: Mapping[str, str] = field(default_factory=dict, compare=False)

    def in_language(self, code: str) -> HelpCenter:
        """This help center in language `code` (KeyError when it has no such edition)."""
        return self if code == self.language else self.editions[code]

    @property
    def url_prefix(self) -> str:
        """Where this language's pages are, from the site's root: "" for the first language
        (docs/ itself), "sv/" for Swedish. Article URLs and permalinks are relative to it."""
        first = next(iter(self.editions), self.language)
        return "" if self.language == first else f"{self.language}/"

    @property
    def translations(self) -> list[HelpCenter]:
        """The other languages' editions."""
        return [c for code, c in self.editions.items() if code != self.language]

    @property
    def published(self) -> list[Article]:
        return [a for a in self.articles if a.published]

    @functools.cached_property
    def _paths(self) -> dict[str, Article]:
        return {a.path: a for a in self.articles}

    @functools.cached_property
    def _ids(self) -> dict[str, Article]:
        return {str(a.id): a for a in self.articles}

    def by_path(self, path: str) -> Article | None:
        return self._paths.get(path)

    def by_id(self, article_id: int | str) -> Article | None:
        return self._ids.get(str(article_id))

    def in_category(self, key: str) -> list[Article]:
        return sorted((a for a in self.published if a.category == key), key=lambda a: a.id)

    def next_id(self) -> int:
        """An id no article of any language has used: the id is the translation key."""
        centers = self.editions.values() or [self]
        return FreeIds({a.id for c in centers for a in c.articles} | self.retired_ids).take()

    def render(self, text: str, where: str) -> str:
        """Render `{{ store.x }}` facts in any page of this help center (raises ContentError)."""
        problems: list[str] = []
        rendered = render_facts(text, self.store, lambda msg: problems.append(f"{where}: {msg}"))
        if problems:
            raise ContentError(problems)
        return rendered


def render_facts(text: str, store: Mapping[str, Any], report: Callable[[str], None]) -> str:
    """Replace each `{{ store.a.b }}` with its value; report unknown names and stray braces.

    A regular expression rather than Jinja: writers' Markdown must not be able to run template
    code, and an unknown name must be reported by name, which Jinja's Undefined does not do.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _FACT_NAME.fullmatch(name):
            report(f"'{{{{ {name} }}}}' is not a store fact; write {{{{ store.<name> }}}}")
            return match.group(0)
        node: Any = store
        for part in name.split(".")[1:]:
            if not isinstance(node, Mapping) or part not in node:
                report(f"unknown store fact '{name}' (see {STORE_FILE})")
                return match.group(0)
            node = node[part]
        if isinstance(node, Mapping | list):
            report(f"store fact '{name}' is a group; name one of its values")
            return match.group(0)
        return str(node)

    return _FACT.sub(value, text)


def load(docs_dir: Path) -> HelpCenter:
    """Load and validate a docs folder and its translations; raise ContentError listing every
    problem found. The folder's own language is the one returned (`in_language` for others)."""
    docs_dir = Path(docs_dir)
    problems: list[str] = []
    store = _read_yaml_mapping(docs_dir, STORE_FILE, problems)
    languages = _languages(docs_dir, store, problems)
    retired = _load_retired_ids(docs_dir, problems)
    editions: dict[str, HelpCenter] = {}
    names = {code: spec["name"] for code, spec in languages.items()}
    for code, spec in languages.items():
        facts = _with_chat_address(_merged(store, spec.get("facts") or {}))
        folder = docs_dir if spec is next(iter(languages.values())) else spec["folder"]
        center = _load_folder(folder, facts, retired, problems)
        if center is not None:
            editions[code] = replace(center, language=code, editions=editions, language_names=names)
    if problems:
        raise ContentError(problems)
    return next(iter(editions.values()))


def copy_help_center(docs_dir: Path, destination: Path) -> Path:
    """Copy a docs folder and its languages' folders, which stay where store.yml says they
    are relative to it; returns the copied docs folder."""
    center = load(docs_dir)
    shutil.copytree(docs_dir, destination)
    for edition in center.translations:
        relative = os.path.relpath(edition.docs_dir, Path(docs_dir).resolve())
        shutil.copytree(edition.docs_dir, (destination / relative).resolve())
    return destination


def _languages(docs_dir: Path, store: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """store.yml's `languages`, checked; a store without them is in English only."""
    where = _display(docs_dir, STORE_FILE)
    raw = store.get("languages") or {DEFAULT_LANGUAGE: {"name": "English"}}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        problems.append(f"{where}: 'languages' must map language codes to name, folder, facts")
        return {DEFAULT_LANGUAGE: {"name": "English"}}
    languages: dict[str, Any] = {}
    for number, (code, spec) in enumerate(raw.items()):
        at = f"{where}: 'languages.{code}'"
        if str(code) not in LANGUAGES:
            known = ", ".join(LANGUAGES)
            problems.append(f"{at}: the help center can search {known}, not {code!r}")
            continue
        if unknown := sorted(set(spec) - set(LANGUAGE_FIELDS)):
            problems.append(f"{at} has unknown field '{unknown[0]}'")
        if not str(spec.get("name") or "").strip():
            problems.append(f"{at}: 'name' is missing: the language's own name (Svenska)")
        if not isinstance(spec.get("facts") or {}, dict):
            problems.append(f"{where}: 'languages.{code}.facts' must map facts to its values")
            continue
        if number == 0:
            if spec.get("folder"):
                problems.append(f"{at}: the first language is {docs_dir.name}/ itself: no folder")
            languages[str(code)] = spec
            continue
        folder = docs_dir / str(spec.get("folder") or "")
        if not spec.get("folder") or not (folder / CATEGORIES_FILE).is_file():
            problems.append(
                f"{at}: 'folder' must name the folder of its articles (with {CATEGORIES_FILE}), "
                f"relative to {docs_dir.name}/"
            )
            continue
        languages[str(code)] = {**spec, "folder": folder.resolve()}
    return languages


def _merged(store: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The store facts with one language's values in place of the ones it names."""
    merged = {k: v for k, v in store.items() if k != "languages"}
    for key, value in facts.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        elif _dated(value) and _dated(merged.get(key)):
            merged[key] = _merged_by_date(merged[key], value)
        else:
            merged[key] = value
    return merged


def _dated(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) and "date" in v for v in value)


def _merged_by_date(days: list[Any], translated: list[Any]) -> list[Any]:
    """Special days with a language's values for the dates it names: a day's name is
    translated, its date and hours stay the first language's."""
    names = {str(day["date"]): day for day in translated}
    return [_merged(day, names.get(str(day["date"]), {})) for day in days]


def _load_folder(
    docs_dir: Path, store: dict[str, Any], retired: set[int], problems: list[str]
) -> HelpCenter | None:
    """One language's folder of articles, with its store facts."""
    before = len(problems)
    categories = _load_categories(docs_dir, problems)
    # Read every file first: a suggested id must be free in the whole docs folder.
    by_file: dict[str, list[str]] = {}
    fronts: dict[str, FrontMatter] = {}
    for path in sorted(docs_dir.glob("*/**/*.md")):
        rel = path.relative_to(docs_dir).as_posix()
        front = _read_article(docs_dir, rel, categories, by_file.setdefault(rel, []))
        if front is not None:
            fronts[rel] = front
    ids = {f.meta["id"] for f in fronts.values() if valid_id(f.meta.get("id"))}
    free_ids = FreeIds(ids | retired)
    articles: list[Article] = []
    for rel, front in fronts.items():
        article = _article(docs_dir, rel, front, store, free_ids, by_file[rel])
        if article is not None:
            articles.append(article)
    problems += [p for file_problems in by_file.values() for p in file_problems]
    problems += _duplicates(docs_dir, articles, fronts, retired, free_ids)
    if len(problems) > before:
        return None
    return HelpCenter(docs_dir, store, categories, tuple(articles), frozenset(retired))


def _display(docs_dir: Path, rel: str) -> str:
    return f"{docs_dir.name}/{rel}"


def _read_yaml_mapping(docs_dir: Path, name: str, problems: list[str]) -> dict[str, Any]:
    try:
        data = yaml.safe_load((docs_dir / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{_display(docs_dir, name)}: file is missing")
        return {}
    except yaml.YAMLError as error:
        problems.append(f"{_display(docs_dir, name)}: not valid YAML: {error}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{_display(docs_dir, name)}: must be a mapping of names to values")
        return {}
    return data


CHANNEL_FIELDS = ("label", "value", "href", "response")
# Addresses on the shop's own site: the chat, and the footer's links back to the shop.
SITE_LINKS = ("chat_url", "shop_url", "privacy_url", "terms_url")


def _with_chat_address(store: dict[str, Any]) -> dict[str, Any]:
    """The chat channel opens the shop's chat (`chat_url`), the one address written once."""
    chat = (store.get("channels") or {}).get("chat")
    if isinstance(chat, dict) and store.get("chat_url") and "href" not in chat:
        chat["href"] = store["chat_url"]
    return store


def missing_site_facts(center: HelpCenter) -> list[str]:
    """The facts every page's contact block shows: a site without them cannot be built."""
    where, store = _display(center.docs_dir, STORE_FILE), center.store
    problems = [
        f"{where}: '{name}' is missing: {about}"
        for name, about in (
            ("name", "the shop's name"),
            ("timezone", "the time zone of the opening hours, e.g. Europe/Stockholm"),
            ("timezone_label", "how customers read that time zone, e.g. Swedish time"),
        )
        if not str(store.get(name) or "").strip()
    ]
    if store.get("timezone"):
        try:
            zoneinfo.ZoneInfo(str(store["timezone"]))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder
            problems.append(f"{where}: 'timezone' {store['timezone']!r} is not an IANA time zone")
    hours = store.get("opening_hours")
    if not isinstance(hours, dict):
        problems.append(f"{where}: 'opening_hours' is missing: one line per weekday")
    else:
        problems += [
            f"{where}: 'opening_hours.{day}' must be HH:MM-HH:MM or closed, not {hours.get(day)!r}"
            for day in opening.WEEKDAYS
            if not opening.valid_hours(hours.get(day, ""))
        ]
    problems += opening.problems(store, where)
    problems += [
        f"{where}: '{name}' must be a web address (https://...), not {store[name]!r}"
        for name in SITE_LINKS
        if name in store and not str(store[name] or "").startswith(("https://", "http://"))
    ]
    channels = store.get("channels")
    if not isinstance(channels, dict) or "email" not in channels:
        problems.append(f"{where}: 'channels' is missing, or has no 'email' channel")
    else:
        problems += [
            f"{where}: 'channels.{key}.{name}' is missing"
            for key, channel in channels.items()
            for name in CHANNEL_FIELDS
            if not isinstance(channel, dict) or not str(channel.get(name) or "").strip()
            if (key, name) != ("chat", "href")
        ]
        chat = channels.get("chat")
        if isinstance(chat, dict) and not chat.get("href"):
            # A chat link that opens nothing is a promise the help center cannot keep.
            problems.append(
                f"{where}: 'channels.chat' needs 'chat_url', the address of the shop's chat;"
                " a shop without a chat removes the channel and the articles' mentions of it"
            )
        problems += [
            f"{where}: 'channels.{key}.href' {channel['href']!r} opens nothing: give an address"
            for key, channel in channels.items()
            if isinstance(channel, dict) and str(channel.get("href", "")).startswith("#")
        ]
    return problems


def _load_categories(docs_dir: Path, problems: list[str]) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    where = _display(docs_dir, CATEGORIES_FILE)
    for key, spec in _read_yaml_mapping(docs_dir, CATEGORIES_FILE, problems).items():
        if not isinstance(spec, dict):
            problems.append(f"{where}: category '{key}' must have title, summary and icon")
            continue
        unknown = set(spec) - {"title", "summary", "icon"}
        if unknown:
            problems.append(f"{where}: category '{key}' has unknown field '{sorted(unknown)[0]}'")
        for name in ("title", "summary"):
            if not str(spec.get(name) or "").strip():
                problems.append(f"{where}: category '{key}' field '{name}' is empty")
        categories[str(key)] = Category(
            str(key),
            str(spec.get("title", "")),
            str(spec.get("summary", "")),
            str(spec.get("icon", "material/help-circle-outline")),
        )
    return categories


def _load_retired_ids(docs_dir: Path, problems: list[str]) -> set[int]:
    path = docs_dir / RETIRED_IDS_FILE
    if not path.exists():
        return set()
    retired: set[int] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not text.isdigit():
            problems.append(
                f"{_display(docs_dir, RETIRED_IDS_FILE)}:{number}: '{text}' is not an id"
            )
            continue
        retired.add(int(text))
    return retired


def _read_article(
    docs_dir: Path, rel: str, categories: Mapping[str, Category], problems: list[str]
) -> FrontMatter | None:
    where = _display(docs_dir, rel)
    category = rel.split("/", 1)[0]
    if category not in categories:
        problems.append(f"{where}: unknown category '{category}' (add it to {CATEGORIES_FILE})")
    if PurePosixPath(rel).name == "index.md":
        problems.append(f"{where}: category pages are generated; remove this file")
        return None
    try:
        return parse((docs_dir / rel).read_text(encoding="utf-8"))
    except FrontMatterError as error:
        problems.append(f"{where}:{error.line}: {error.message}")
        return None


def _article(
    docs_dir: Path,
    rel: str,
    front: FrontMatter,
    store: Mapping[str, Any],
    free_ids: FreeIds,
    problems: list[str],
) -> Article | None:
    where = _display(docs_dir, rel)
    before = len(problems)
    fields, invalid = validate(front, where, free_ids)
    problems += invalid
    markdown = render_facts(front.body, store, lambda m: problems.append(f"{where}: body: {m}"))
    reply_at = f"{where}:{front.line('reply')}: reply"
    reply = render_facts(
        str(front.meta.get("reply") or ""), store, lambda m: problems.append(f"{reply_at}: {m}")
    )
    if fields is None or len(problems) > before:
        return None
    return Article(
        id=fields.id,
        title=fields.title,
        summary=fields.summary,
        category=rel.split("/", 1)[0],
        path=rel,
        markdown=markdown,
        reply=reply.strip(),
        reviewed=fields.reviewed,
        status=fields.status,
        tags=fields.tags,
        synonyms=fields.synonyms,
        queries=fields.queries,
        redirect_from=fields.redirect_from,
    )


def _duplicates(
    docs_dir: Path,
    articles: Iterable[Article],
    fronts: Mapping[str, FrontMatter],
    retired: set[int],
    free_ids: FreeIds,
) -> list[str]:
    """Ids and addresses used twice; a reused id is reported against the newer article."""
    found: list[tuple[str, str]] = []

    def problem(article: Article, name: str, message: str) -> None:
        where = _display(docs_dir, article.path)
        line = fronts[article.path].line(name)
        found.append((article.path, field_problem(where, line, name, message)))

    articles = list(articles)
    # Every address an article answers at: its own URL, and its redirect_from paths.
    addresses: dict[str, str] = {a.url: a.path for a in articles}
    for article in articles:
        for old in article.redirect_from:
            owner = addresses.setdefault(old.strip("/") + "/", article.path)
            if owner != article.path:
                message = f"{old!r} is already the address of {_display(docs_dir, owner)}"
                problem(article, "redirect_from", message)
    by_id: dict[int, list[Article]] = {}
    for article in articles:
        by_id.setdefault(article.id, []).append(article)
    for article_id, group in by_id.items():
        if article_id in retired:
            for article in group:
                problem(
                    article,
                    "id",
                    f"{article_id} was retired (see {RETIRED_IDS_FILE}); ids are never "
                    f"reused; the next free id is {free_ids.take()}",
                )
            continue
        if len(group) < 2:
            continue
        oldest, *newer = sorted(group, key=lambda a: _age(docs_dir, a.path))
        for article in newer:
            problem(
                article,
                "id",
                f"{article_id} is already used by {_display(docs_dir, oldest.path)}; "
                f"the next free id is {free_ids.take()}",
            )
    return [message for _, message in sorted(found, key=lambda pair: pair[0])]


def _age(docs_dir: Path, rel: str) -> tuple[bool, int, int, float, str]:
    """Sorts older files first: first added to git, then untracked; then by mtime, then path.

    `--follow` also follows copies: an article copied to start another leads back to the
    original's commit, so the time this path itself was added breaks that tie.
    """
    followed = _git_added(docs_dir, rel, "--follow")
    own = _git_added(docs_dir, rel) if followed is not None else None
    return followed is None, followed or 0, own or 0, (docs_dir / rel).stat().st_mtime, rel


def _git_added(docs_dir: Path, rel: str, *options: str) -> int | None:
    """When git first saw the file (Unix time), or None: untracked, or no git or repository."""
    try:
        result = subprocess.run(
            ["git", "log", "--diff-filter=A", *options, "--format=%ct", "--", rel],
            cwd=docs_dir,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    times = [int(t) for t in result.stdout.split() if t.isdigit()]
    return min(times) if result.returncode == 0 and times else None
