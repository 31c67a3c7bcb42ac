"""Front matter: the fields an article may have, parsed with their lines, and validated.

Every problem names the file, the line in the file and the field, and says why:
`docs/returns/label.md:4: front matter field 'reviewed' must be a date written YYYY-MM-DD,
not '2026-13-01': month 13 is impossible`. A missing field points at the closing `---`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

STATUSES = ("published", "draft")
MIN_QUERIES = 3
LISTS = ("tags", "synonyms", "queries", "redirect_from")


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

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTHS = "January February March April May June July August September October November December"

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


class FrontMatterError(Exception):
    """The front matter cannot be read at all; `line` is counted in the file."""

    def __init__(self, line: int, message: str, body: str) -> None:
        self.line, self.message, self.body = line, message, body
        super().__init__(f"{line}: {message}")


@dataclass(frozen=True)
class FrontMatter:
    meta: dict[str, Any]
    body: str
    lines: Mapping[str, int]  # each field's line in the file
    end: int  # the line of the closing `---`; the body starts after it

    def line(self, name: str) -> int:
        """The line of a field in the file; the closing `---` for a field that is absent."""
        return self.lines.get(name, self.end)


def parse(text: str) -> FrontMatter:
    """A Markdown file's front matter with the line of each field (raises FrontMatterError)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        raise FrontMatterError(
            1, "has no front matter (a block between '---' lines at the top)", text
        )
    yaml_text, body = match.group(1) or "", text[match.end() :]
    loader = _FrontMatterLoader(yaml_text)
    try:
        node = loader.get_single_node()
        meta = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as error:
        line, message = _yaml_problem(error)
        raise FrontMatterError(line, f"front matter is not valid YAML: {message}", body) from None
    except yaml.YAMLError as error:  # pragma: no cover - every parser error carries a mark
        raise FrontMatterError(2, f"front matter is not valid YAML: {error}", body) from None
    finally:
        loader.dispose()
    if not isinstance(meta, dict):
        raise FrontMatterError(2, "front matter must be a mapping of field: value", body)
    # A mark's line counts from 0 inside the front matter, which starts on the file's line 2.
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    lines: dict[str, int] = {}
    for key, _ in pairs:
        line = key.start_mark.line + 2
        if str(key.value) in lines:  # YAML would silently keep only the last one
            raise FrontMatterError(
                line,
                f"front matter field '{key.value}' is given twice (also on line "
                f"{lines[str(key.value)]}); keep one",
                body,
            )
        lines[str(key.value)] = line
    return FrontMatter(meta, body, lines, 2 + yaml_text.count("\n"))


def _yaml_problem(error: yaml.MarkedYAMLError) -> tuple[int, str]:
    """(line in the file, what is wrong), without the parser's `in "<unicode string>"`."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 2 if mark is not None else 2
    message = error.problem or error.context or "cannot be read"
    context = error.context_mark
    if error.problem and error.context and context is not None and context.line + 2 != line:
        message += f" ({error.context} that starts on line {context.line + 2})"
    return line, message


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """Return (front matter, body, error) for a Markdown file's text."""
    try:
        front = parse(text)
    except FrontMatterError as error:
        return None, error.body, error.message
    return front.meta, front.body, None


@dataclass(frozen=True)
class Fields:
    """Valid front matter, typed. `reply` is as written (store facts not yet rendered)."""

    id: int
    title: str
    summary: str
    reply: str
    reviewed: dt.date
    status: str
    tags: tuple[str, ...]
    synonyms: tuple[str, ...]
    queries: tuple[str, ...]
    redirect_from: tuple[str, ...]


class FreeIds:
    """Hands out ids that no article uses and retired-ids.txt does not list, each only once."""

    def __init__(self, used: Iterable[int]) -> None:
        self._next = max(used, default=100) + 1

    def take(self) -> int:
        self._next += 1
        return self._next - 1


def valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def field_problem(where: str, line: int, name: str, message: str) -> str:
    return f"{where}:{line}: front matter field '{name}' {message}"


def validate(front: FrontMatter, where: str, free_ids: FreeIds) -> tuple[Fields | None, list[str]]:
    """The typed fields, or None and every problem found (`where` is the file as shown)."""
    meta, found = front.meta, []

    def problem(name: str, message: str) -> None:
        found.append(field_problem(where, front.line(name), name, message))

    for name in sorted(set(map(str, meta)) - FIELD_NAMES):
        close = difflib.get_close_matches(name, FIELD_NAMES, n=1)
        known = ", ".join(f.name for f in FIELDS)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known fields: {known})"
        problem(name, f"is unknown{hint}")
    for spec in FIELDS:
        if spec.required and meta.get(spec.name) in (None, "", []):
            hint = f"; the next free id is {free_ids.take()}" if spec.name == "id" else ""
            problem(spec.name, f"is missing{hint}")
    if meta.get("id") is not None and not valid_id(meta["id"]):
        problem("id", f"must be a positive whole number, not {meta['id']!r}")
    reviewed = meta.get("reviewed")
    if reviewed is not None and (why := _date_problem(reviewed)):
        problem("reviewed", f"must be a date written YYYY-MM-DD, not {why}")
    status = meta.get("status")
    if status is not None and status not in STATUSES:
        problem("status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    for name in ("title", "summary", "reply"):
        if meta.get(name) not in (None, "", []) and not isinstance(meta[name], str):
            problem(name, "must be text")
    lists = {name: _string_list(meta, name, problem) for name in LISTS}
    for old_path in lists["redirect_from"]:
        parts = PurePosixPath(old_path.strip("/")).parts
        if old_path.startswith("/") or ".." in parts or not parts or ":" in old_path:
            problem(
                "redirect_from",
                f"'{old_path}' must be a path inside the site, like orders/where-is-my-order/",
            )
    if status == "published" and meta.get("queries") and len(lists["queries"]) < MIN_QUERIES:
        problem("queries", f"needs at least {MIN_QUERIES} customer searches")
    if found:
        return None, found
    title, summary = meta["title"].strip(), meta["summary"].strip()
    values = meta["id"], title, summary, meta["reply"], meta["reviewed"], meta["status"]
    return Fields(*values, *lists.values()), []


def _date_problem(value: Any) -> str | None:
    """Why a `reviewed` value is not a date (None when it is one), after the value itself."""
    if isinstance(value, dt.datetime):
        return f"{value}: write the date without a time"
    if isinstance(value, dt.date):
        return None
    text = str(value)
    match = _DATE.fullmatch(text.strip())
    if not isinstance(value, str) or match is None:
        return f"{text!r}: that is not a date"
    year, month, day = map(int, match.groups())
    if not 1 <= month <= 12:
        return f"{text!r}: month {month} is impossible"
    if year < 1:
        return f"{text!r}: year {year} is impossible"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        in_month = _MONTHS.split()[month - 1] + (f" {year}" if month == 2 else "")
        return f"{text!r}: day {day} is impossible in {in_month}"
    return f"{text!r}: it is in quotes, so it is text; remove the quotes"


def _string_list(
    meta: Mapping[str, Any], name: str, problem: Callable[[str, str], None]
) -> tuple[str, ...]:
    value = meta.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        # YAML reads yes/no/on/off as true/false: those must be quoted to stay words.
        problem(name, "must be a list of words or phrases, e.g. [one, two] (quote yes, no, on)")
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())
