"""Gaps: searches that found nothing or led nowhere, grouped so that typos join their word.

Backend-independent: a store hands over raw groups (one per normalised form) and this module
merges forms whose words differ by a typo ("retrun lable" joins "return label"). Merging is
near-linear: words, not forms, are compared, and only with words that share a deletion
neighbour (the symmetric-delete blocking spelling checkers use), so 100,000 distinct forms cost
about as much as reading them. The work per report is bounded by MAX_FORMS.

A report is one language's: its searches are grouped by that language's analysis, and a Swedish
search never joins an English group, however alike their forms look.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rapidfuzz.distance import OSA

from kb_search.querylog.events import DEFAULT_LANGUAGE
from kb_search.redact import redact
from kb_search.text import language as language_of

MAX_EXAMPLES = 5
# The most searched forms one report merges; the rarest of a larger log are left out.
MAX_FORMS = 10_000
# Latest searches with results and no click that one report groups.
MAX_UNCLICKED = 5000


@dataclass
class GapGroup:
    """Searches that look alike: `key` is the most common normalised form among them."""

    key: str
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: list[str] = field(default_factory=list)  # redacted, newest first
    closest_article: str | None = None  # filled in by the caller, who knows the index
    mark: Mark | None = None  # a writer's: answered by an article, or dismissed as noise


@dataclass(frozen=True)
class Mark:
    state: str  # "answered" or "dismissed"
    article_id: str | None
    at: datetime


@dataclass
class ArticleFeedback:
    article_id: str
    not_helpful: int
    helpful: int
    missing: list[str] = field(default_factory=list)  # redacted, up to MAX_EXAMPLES
    reasons: dict[str, int] = field(default_factory=dict)  # why not helpful: how many said so


@dataclass
class GapReport:
    unanswered: list[GapGroup]  # zero results, most frequent first
    no_click: list[GapGroup]  # results shown but none clicked
    not_helpful: list[ArticleFeedback]  # articles voted not helpful, most votes first
    language: str = DEFAULT_LANGUAGE  # whose searches and feedback these are


class GapFigures(Protocol):
    """What a log store answers for the gap report (raw figures, one language's; no grouping)."""

    def gap_groups(self, limit: int, language: str = ...) -> list[GapGroup]: ...
    def gap_examples(
        self, keys: Sequence[str], language: str = ...
    ) -> Mapping[str, list[tuple[str, datetime]]]: ...
    def unclicked(self, limit: int, language: str = ...) -> list[tuple[str, str, datetime]]: ...
    def not_helpful(self, limit: int, language: str = ...) -> list[ArticleFeedback]: ...
    def gap_marks(self, language: str) -> Mapping[str, tuple[str, str | None, datetime]]: ...


@functools.lru_cache(maxsize=4096)  # customers repeat popular searches word for word
def normalise(query: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The form searches are grouped by: redacted, then the search's own analysis in its
    language, sorted ("Returns policy?" -> "polici return"; numbers are `<n>`)."""
    return language_of(language).normalise(redact(query))


# Longer words are taken as typed, as search takes them: no customer mistypes a 21-letter
# word, and the deletion variants of long random strings would fill memory.
MAX_TYPO_LENGTH = 20


def _allowed_edits(word: str) -> int:
    if len(word) < 5 or len(word) > MAX_TYPO_LENGTH or "<" in word:
        return 0
    return 1 if len(word) < 9 else 2


def words_close(a: str, b: str) -> bool:
    """Equal, or within the typos a word of their length allows (none under five letters)."""
    if a == b:
        return True
    allowed = min(_allowed_edits(a), _allowed_edits(b))
    # OSA: insert, delete, substitute, or swap two neighbours ("retrun"), each one edit.
    return allowed > 0 and OSA.distance(a, b, score_cutoff=allowed) <= allowed


# The same words come back in every report and every dashboard page; a word has ~200 at most.
@functools.lru_cache(maxsize=2048)
def _deletions(word: str, depth: int) -> frozenset[str]:
    found, layer = {word}, {word}
    for _ in range(depth):
        layer = {w[:i] + w[i + 1 :] for w in layer for i in range(len(w))}
        found |= layer
    return frozenset(found)


def canonical_words(frequency: Counter[str]) -> dict[str, str]:
    """Each word mapped to the most frequent word it is a typo of (or to itself)."""
    neighbours: dict[str, list[str]] = {}  # deletion variant -> canonical words, oldest first
    canonical: dict[str, str] = {}
    for word in sorted(frequency, key=lambda w: (-frequency[w], w)):
        variants = _deletions(word, _allowed_edits(word))
        candidates = {c for v in variants for c in neighbours.get(v, ())}
        target = min(
            (c for c in candidates if words_close(word, c)),
            key=lambda c: (-frequency[c], c),
            default=None,
        )
        if target is not None:
            canonical[word] = target
            continue
        canonical[word] = word
        for variant in variants:
            neighbours.setdefault(variant, []).append(word)
    return canonical


def merge(groups: Iterable[GapGroup]) -> list[tuple[GapGroup, list[str]]]:
    """Fold forms whose words are typos of each other into the most searched of them.

    Returns each merged group with the keys of the forms it holds (itself first).
    """
    ordered = sorted(groups, key=lambda g: (-g.count, g.key))
    split = [group.key.split() for group in ordered]
    frequency: Counter[str] = Counter()
    for group, words in zip(ordered, split, strict=True):
        for word in words:
            frequency[word] += group.count
    canonical = canonical_words(frequency)
    merged: dict[str, tuple[GapGroup, list[str]]] = {}
    for group, words in zip(ordered, split, strict=True):
        mapped = [canonical[w] for w in words]
        form = group.key if mapped == words else " ".join(sorted(mapped))
        found = merged.get(form)
        if found is None:
            merged[form] = (GapGroup(group.key, group.count, group.first_seen, group.last_seen),
                            [group.key])  # fmt: skip
            continue
        target, members = found
        target.count += group.count
        target.first_seen = min(target.first_seen, group.first_seen)
        target.last_seen = max(target.last_seen, group.last_seen)
        members.append(group.key)
    return sorted(merged.values(), key=lambda item: (-item[0].count, item[0].key))


def _newest_examples(
    members: Sequence[str], examples: Mapping[str, list[tuple[str, datetime]]]
) -> list[str]:
    texts = sorted(
        itertools.chain.from_iterable(examples.get(key, []) for key in members),
        key=lambda item: item[1],
        reverse=True,
    )
    return list(dict.fromkeys(text for text, _ in texts))[:MAX_EXAMPLES]


def _grouped(rows: Iterable[tuple[str, str, datetime]]) -> Iterator[GapGroup]:
    """(form, query, time) rows, newest first, grouped by form, with their examples."""
    groups: dict[str, GapGroup] = {}
    for norm, query, at in rows:
        group = groups.setdefault(norm, GapGroup(norm, 0, at, at))
        group.count, group.first_seen = group.count + 1, at
        if query not in group.examples and len(group.examples) < MAX_EXAMPLES:
            group.examples.append(query)
    yield from groups.values()


def report(store: GapFigures, limit: int = 50, language: str = DEFAULT_LANGUAGE) -> GapReport:
    """What customers of one language did not find, from what the store has written."""
    marks = store.gap_marks(language)

    def mark_of(members: Sequence[str]) -> Mark | None:
        """A group's mark: one made on any of its forms (groups regroup as searches come)."""
        found = next((marks[key] for key in members if key in marks), None)
        return Mark(*found) if found else None

    unanswered = []
    top = merge(store.gap_groups(MAX_FORMS, language))[:limit]
    keys = [key for _, members in top for key in members[:50]]
    examples = store.gap_examples(keys, language)
    for group, members in top:
        group.examples = _newest_examples(members[:50], examples)
        group.mark = mark_of(members)
        unanswered.append(group)
    no_click = []
    recent = list(_grouped(store.unclicked(MAX_UNCLICKED, language)))
    by_key = {g.key: g for g in recent}
    for group, members in merge(recent)[:limit]:
        texts = [e for key in members for e in by_key[key].examples]
        group.examples = list(dict.fromkeys(texts))[:MAX_EXAMPLES]
        group.mark = mark_of(members)
        no_click.append(group)
    return GapReport(unanswered, no_click, store.not_helpful(limit, language), language)


def to_dict(report: GapReport) -> dict[str, Any]:
    """The report as plain JSON-ready data (times as ISO 8601 strings)."""

    def group(g: GapGroup) -> dict[str, Any]:
        return {
            "key": g.key,
            "count": g.count,
            "first_seen": g.first_seen.isoformat(),
            "last_seen": g.last_seen.isoformat(),
            "examples": list(g.examples),
            "closest_article": g.closest_article,
            "mark": None
            if g.mark is None
            else {
                "state": g.mark.state,
                "article_id": g.mark.article_id,
                "at": g.mark.at.isoformat(),
            },
        }

    return {
        "language": report.language,
        "unanswered": [group(g) for g in report.unanswered],
        "no_click": [group(g) for g in report.no_click],
        "not_helpful": [
            vars(f) | {"missing": list(f.missing), "reasons": dict(f.reasons)}
            for f in report.not_helpful
        ],
    }
