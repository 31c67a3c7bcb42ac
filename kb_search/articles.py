"""The article model: one place that loads, renders and validates the help center's content.

The MkDocs hooks, the search index and the `kb` command all read articles through `load()`,
so the site and the index can never disagree about an article's id, title, URL or text.

A docs folder holds:
- `store.yml`       the shop's facts, referenced in articles as `{{ store.name }}`;
- `categories.yml`  the categories in display order; a category is a folder;
- `<category>/<slug>.md`  articles: YAML front matter (see FIELDS) and a Markdown body;
- `retired-ids.txt` ids of deleted articles, which are never given out again.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

STORE_FILE = "store.yml"
CATEGORIES_FILE = "categories.yml"
RETIRED_IDS_FILE = "retired-ids.txt"
STATUSES = ("published", "draft")


@dataclass(frozen=True)
class Field:
    """One front matter field: the writers' guide documents exactly these."""

    name: str
    required: bool
    help: str
    example: str


FIELDS: tuple[Field, ...] = (
    Field(
        "id",
        True,
        "Stable, unique number; the article's permalink is /a/<id>/. Never reused.",
        "103",
    ),
    Field(
        "title",
        True,
        "What customers see in lists, results and the browser tab.",
        "Track your order",
    ),
    Field(
        "summary",
        True,
        "One sentence shown under the title in lists and search results.",
        "Follow your parcel from our warehouse to your door.",
    ),
    Field(
        "tags",
        False,
        "Lowercase topics; articles sharing a tag are shown as related.",
        "[tracking, delivery]",
    ),
    Field(
        "synonyms",
        False,
        "Words customers use that the article text does not contain.",
        "[parcel, package, shipment]",
    ),
    Field(
        "queries",
        True,
        "At least 3 searches, typed the way customers type, that must find "
        "this article in the top results.",
        "[where is my order, track my parcel, tracking nr]",
    ),
    Field(
        "reply",
        True,
        "A short text support agents paste into a reply; store facts allowed.",
        "You can follow your order with the link in your dispatch email.",
    ),
    Field(
        "reviewed", True, "The date a writer last checked the article, YYYY-MM-DD.", "2026-11-20"
    ),
    Field(
        "status", True, "`published` (on the site and in search) or `draft` (neither).", "published"
    ),
    Field(
        "redirect_from",
        False,
        "Old paths of this article that were shared and must keep "
        "working, relative to the site root.",
        "[orders/where-is-my-order/]",
    ),
)
FIELD_NAMES = frozenset(f.name for f in FIELDS)
MIN_QUERIES = 3

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_FACT = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_FACT_NAME = re.compile(r"store(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


# libyaml's C parser when PyYAML has it (it parses front matter about ten times faster).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FrontMatterLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe YAML where an impossible date (2026-13-01) stays text, so validation can name it."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


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
    """Everything in one docs folder, validated."""

    docs_dir: Path
    store: Mapping[str, Any]
    categories: Mapping[str, Category]
    articles: tuple[Article, ...]
    retired_ids: frozenset[int] = field(default=frozenset())

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
        used = {a.id for a in self.articles} | set(self.retired_ids)
        return max(used, default=100) + 1

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
    """Load and validate a docs folder; raise ContentError listing every problem found."""
    docs_dir = Path(docs_dir)
    problems: list[str] = []
    store = _read_yaml_mapping(docs_dir, STORE_FILE, problems)
    categories = _load_categories(docs_dir, problems)
    retired = _load_retired_ids(docs_dir, problems)
    articles: list[Article] = []
    for path in sorted(docs_dir.glob("*/**/*.md")):
        article = _load_article(docs_dir, path, store, categories, problems)
        if article is not None:
            articles.append(article)
    problems += _duplicates(docs_dir, articles, retired)
    if problems:
        raise ContentError(problems)
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


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """Return (front matter, body, error) for a Markdown file's text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text, "has no front matter (a block between '---' lines at the top)"
    try:
        meta = yaml.load(match.group(1) or "", Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as error:
        return None, text[match.end() :], f"front matter is not valid YAML: {error}"
    if not isinstance(meta, dict):
        return None, text[match.end() :], "front matter must be a mapping of field: value"
    return meta, text[match.end() :], None


def _load_article(
    docs_dir: Path,
    path: Path,
    store: Mapping[str, Any],
    categories: Mapping[str, Category],
    problems: list[str],
) -> Article | None:
    rel = path.relative_to(docs_dir).as_posix()
    where = _display(docs_dir, rel)
    before = len(problems)

    def problem(name: str, message: str) -> None:
        problems.append(f"{where}: front matter field '{name}' {message}")

    category = rel.split("/", 1)[0]
    if category not in categories:
        problems.append(f"{where}: unknown category '{category}' (add it to {CATEGORIES_FILE})")
    if PurePosixPath(rel).name == "index.md":
        problems.append(f"{where}: category pages are generated; remove this file")
        return None
    meta, body, error = split_front_matter(path.read_text(encoding="utf-8"))
    if meta is None:
        problems.append(f"{where}: {error}")
        return None
    for name in sorted(set(map(str, meta)) - FIELD_NAMES):
        problem(name, f"is unknown (known fields: {', '.join(f.name for f in FIELDS)})")
    for spec in FIELDS:
        if spec.required and meta.get(spec.name) in (None, "", []):
            problem(spec.name, "is missing")

    article_id = meta.get("id")
    if article_id is not None and (
        isinstance(article_id, bool) or not isinstance(article_id, int) or article_id <= 0
    ):
        problem("id", f"must be a positive whole number, not {article_id!r}")
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        problem("reviewed", f"must be a date written YYYY-MM-DD, not {reviewed!r}")
    status = meta.get("status")
    if status is not None and status not in STATUSES:
        problem("status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    for name in ("title", "summary", "reply"):
        if name in meta and not isinstance(meta[name], str):
            problem(name, "must be text")
    lists = {
        name: _string_list(meta, name, problem)
        for name in ("tags", "synonyms", "queries", "redirect_from")
    }
    for old_path in lists["redirect_from"]:
        parts = PurePosixPath(old_path.strip("/")).parts
        if old_path.startswith("/") or ".." in parts or not parts or ":" in old_path:
            problem(
                "redirect_from",
                f"'{old_path}' must be a path inside the site, like orders/where-is-my-order/",
            )
    if status == "published" and meta.get("queries") and len(lists["queries"]) < MIN_QUERIES:
        problem("queries", f"needs at least {MIN_QUERIES} customer searches")

    def fact_problem(field_name: str) -> Callable[[str], None]:
        return lambda message: problems.append(f"{where}: {field_name}: {message}")

    markdown = render_facts(body, store, fact_problem("body"))
    reply = render_facts(str(meta.get("reply") or ""), store, fact_problem("reply"))
    if len(problems) > before:
        return None
    return Article(
        id=meta["id"],
        title=meta["title"].strip(),
        summary=meta["summary"].strip(),
        category=category,
        path=rel,
        markdown=markdown,
        reply=reply.strip(),
        reviewed=meta["reviewed"],
        status=meta["status"],
        tags=lists["tags"],
        synonyms=lists["synonyms"],
        queries=lists["queries"],
        redirect_from=lists["redirect_from"],
    )


def _string_list(
    meta: Mapping[str, Any], name: str, problem: Callable[[str, str], None]
) -> tuple[str, ...]:
    value = meta.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problem(name, "must be a list of words or phrases, e.g. [one, two]")
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def _duplicates(docs_dir: Path, articles: Iterable[Article], retired: set[int]) -> list[str]:
    problems: list[str] = []
    seen: dict[int, str] = {}
    articles = list(articles)
    # Every address an article answers at: its own URL, and its redirect_from paths.
    addresses: dict[str, str] = {a.url: a.path for a in articles}
    for article in articles:
        for old in article.redirect_from:
            owner = addresses.setdefault(old.strip("/") + "/", article.path)
            if owner != article.path:
                problems.append(
                    f"{_display(docs_dir, article.path)}: front matter field "
                    f"'redirect_from' {old!r} is already the address of "
                    f"{_display(docs_dir, owner)}"
                )
    for article in articles:
        where = _display(docs_dir, article.path)
        if article.id in seen:
            problems.append(
                f"{where}: front matter field 'id' {article.id} is already used by "
                f"{_display(docs_dir, seen[article.id])}"
            )
        elif article.id in retired:
            problems.append(
                f"{where}: front matter field 'id' {article.id} was retired "
                f"(see {RETIRED_IDS_FILE}); ids are never reused"
            )
        seen.setdefault(article.id, article.path)
    return problems
