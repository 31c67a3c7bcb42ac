"""Learned boosts: a repeated search's results reordered by what its customers opened.

When many visits made one search (the same normalised words) and most of those that clicked
opened one article, that article moves up for that search, like Algolia's Dynamic Re-Ranking.
Bounded: one article per search, moved up at most MAX_MOVE places among the results search
found anyway (nothing is added, nothing is dropped), for at most MAX_BOOSTS searches.

Clicks only count while the articles are the ones customers saw: boosts are learned from the
searches made since the first release with the current article content (its `fingerprint`:
titles, summaries, sections, not synonyms or test queries) was built, so any edit, new or
removed article starts them afresh. `KB_LEARNED_BOOSTS=off` turns them off.

Each language learns on its own: a Swedish search's clicks boost only Swedish searches, read
with the Swedish analysis (`learn(..., language="sv")`, `LearnedBoosts(store, "sv")`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from kb_search.querylog.events import DEFAULT_LANGUAGE
from kb_search.querylog.sqlite import clean
from kb_search.text import language as language_of
from kb_search.versions import META, IndexUnavailable, LiveIndex, OpenIndex

if TYPE_CHECKING:
    from kb_search.search import Result

log = logging.getLogger("kb_search.boosts")

# A search needs this many visits, this many of them clicking one article, and that article
# this share of the clicks, before it is boosted: a few customers cannot reorder a search.
MIN_VISITS = 5
MIN_CLICKS = 3
MIN_SHARE = 0.6
MAX_MOVE = 3  # places a boosted article moves up, at most
MAX_BOOSTS = 5000  # the most searched searches that are boosted
REFRESH_SECONDS = 300.0  # the service learns again this often
CHECK_SECONDS = 5.0  # and notices a new release within this long
RETRY_SECONDS = 60.0  # after a failure (a busy log, say), it tries again this much later


class ClickFigures(Protocol):
    """What a log store answers for boosts (kb_search.querylog.sqlite.SQLiteStore has it)."""

    def click_counts(
        self, since: datetime, min_visits: int, language: str = ...
    ) -> list[tuple[str, str | None, int, str | None]]: ...


def query_key(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The form the query log stores a search in `language` under (redacted, stemmed, sorted).

    Not cached: a cache would keep customers' own texts, personal data and all (0.15 ms)."""
    return language_of(language).normalise(clean(text) or "")


@dataclass(frozen=True)
class Boost:
    """One search's boosted article, with the evidence for it."""

    article_id: str
    visits: int  # visits that made this search
    clicks: int  # of them, visits that opened this article
    share: float  # of all the articles opened after this search, this one's share
    example: str  # one logged (redacted) text of the search

    def describe(self, since: datetime) -> str:
        return (
            f"{self.clicks} of {self.visits} visits that searched {self.example!r} since "
            f"{since:%Y-%m-%d %H:%M} UTC opened it ({self.share:.0%} of the clicks)"
        )


@dataclass(frozen=True)
class Moved:
    """What a boost did to one answer: the article and its places before and after (1-based)."""

    boost: Boost
    before: int
    after: int


@dataclass(frozen=True)
class Boosts:
    """The boosts learned for one release."""

    version: str
    fingerprint: str
    since: datetime
    by_query: dict[str, Boost] = field(default_factory=dict)
    language: str = DEFAULT_LANGUAGE  # the searches they were learned from, and apply to

    def __bool__(self) -> bool:
        return bool(self.by_query)

    def for_query(self, text: str) -> Boost | None:
        return self.by_query.get(query_key(text, self.language)) if self.by_query else None

    def move(self, text: str, results: Sequence[Result]) -> Moved | None:
        """Where the boost for `text` moves its article among `results`, if it moves it."""
        boost = self.for_query(text)
        if boost is None:
            return None
        place = next((n for n, r in enumerate(results) if str(r.id) == boost.article_id), None)
        if not place:  # not found by search, or first already
            return None
        return Moved(boost, place + 1, max(place - MAX_MOVE, 0) + 1)

    def apply(self, text: str, results: list[Result]) -> list[Result]:
        """`results` with the boosted article moved up (a new list; scores are unchanged)."""
        moved = self.move(text, results)
        if moved is None:
            return results
        reordered = list(results)
        reordered.insert(moved.after - 1, reordered.pop(moved.before - 1))
        return reordered


def fingerprint(index: OpenIndex) -> str:
    """The release's article content as customers see it: any edit changes it."""
    digest = hashlib.sha256()
    for article_id in sorted(index.records, key=int):
        record = index.records[article_id]
        sections = [(s.heading, s.text) for s in record["sections"]]
        content = [article_id, record["title"], record["url"], record["summary"], sections]
        digest.update(json.dumps(content, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def built_at(index: OpenIndex) -> datetime:
    """When the release was built (switched to moments later)."""
    meta = json.loads((index.folder / META).read_text(encoding="utf-8"))
    return datetime.fromtimestamp(float(meta["built_at"]), UTC)


def content_since(index: OpenIndex, content: str) -> datetime:
    """When the first of the releases still kept before this one, with the same articles in
    this index's language (`content` is this one's fingerprint), was built: a rebuild keeps
    what customers did."""
    since = built_at(index)
    # A release's first language is its folder; another one is a folder within it.
    top = next((p for p in (index.folder, *index.folder.parents) if p.name == index.version), None)
    if top is None:
        return since
    within = index.folder.relative_to(top)
    older = [p for p in top.parent.iterdir() if p.name < index.version]
    for folder in sorted(older, reverse=True):
        if folder.name.startswith(".") or not (folder / META).is_file():
            continue  # a staging folder, or CURRENT
        try:
            release = OpenIndex.open(folder / within)
        except Exception:  # unreadable, of another format, or without this language: the end
            break
        try:
            if fingerprint(release) != content:
                break
            since = built_at(release)
        finally:
            release.close()
    return since


def learn(
    store: ClickFigures,
    index: OpenIndex,
    since: datetime,
    content: str = "",
    language: str = DEFAULT_LANGUAGE,
) -> Boosts:
    """The boosts the log's searches in `language` since `since` earn on this release's index
    of that language (whose `fingerprint` is `content`, computed when not given)."""
    index = index.in_language(language)
    rows = store.click_counts(since, MIN_VISITS, language)
    searched: dict[str, tuple[int, str]] = {}
    opened: dict[str, dict[str, int]] = defaultdict(dict)
    for norm, article_id, visits, example in rows:
        if article_id is None:
            searched[norm] = (visits, example or norm)
        else:
            opened[norm][article_id] = visits
    found: dict[str, Boost] = {}
    for norm, (visits, example) in sorted(searched.items(), key=lambda item: -item[1][0]):
        clicked = opened.get(norm)
        if not clicked:
            continue
        article_id, clicks = max(clicked.items(), key=lambda item: (item[1], item[0]))
        share = clicks / sum(clicked.values())
        if clicks >= MIN_CLICKS and share >= MIN_SHARE and article_id in index.records:
            found[norm] = Boost(article_id, visits, clicks, round(share, 2), example)
            if len(found) >= MAX_BOOSTS:
                break
    return Boosts(index.version, content or fingerprint(index), since, found, language)


class LearnedBoosts:
    """The boosts the service applies, relearned in the background for the release served.

    Evidence counts from the build of the first release with the current articles: the first
    this process has seen, or an older one still kept (`content_since`). A release with other
    articles starts afresh at once (until it is learned for, its searches get no boosts), one
    with the same articles keeps what was learned. One language's searches, in its index.
    """

    def __init__(self, store: ClickFigures, language: str = DEFAULT_LANGUAGE) -> None:
        language_of(language)  # a language the help center cannot analyse fails here, at once
        self.store = store
        self.language = language
        self._boosts: Boosts | None = None
        self._since: tuple[str, datetime] | None = None  # (fingerprint, since when)
        self._learned_at = float("-inf")

    def current(self, index: OpenIndex) -> Boosts | None:
        """The boosts for searches in `index`, if they have been learned for its release and
        it is of this language (never blocks): another language's searches get none."""
        boosts = self._learned(index)
        return boosts if index.language.code == self.language else None

    def due(self, index: OpenIndex, now: float | None = None) -> bool:
        """Whether to learn again for the release of `index` (any of its languages')."""
        now = time.monotonic() if now is None else now
        return self._learned(index) is None or now - self._learned_at >= REFRESH_SECONDS

    def _learned(self, index: OpenIndex) -> Boosts | None:
        boosts = self._boosts
        return boosts if boosts is not None and boosts.version == index.version else None

    def refresh(self, index: OpenIndex) -> Boosts:
        """Learn again from the log for the release of `index` (any of its languages' indexes;
        blocking: reads the store)."""
        index = index.in_language(self.language)
        learned = self.current(index)
        content = learned.fingerprint if learned else fingerprint(index)
        if self._since is None or self._since[0] != content:
            self._since = (content, content_since(index, content))
        boosts = learn(self.store, index, self._since[1], content, self.language)
        self._boosts, self._learned_at = boosts, time.monotonic()
        return boosts


async def refresh_regularly(
    learned: LearnedBoosts | Sequence[LearnedBoosts], live: LiveIndex
) -> None:
    """Keep `learned` (one language's, or one per language) up to date with the log and the
    release served, off the request path."""
    every = [learned] if isinstance(learned, LearnedBoosts) else list(learned)
    while True:
        try:
            index = await asyncio.to_thread(live.current)
            for one in every:
                if one.language in index.editions and one.due(index):
                    boosts = await asyncio.to_thread(one.refresh, index)
                    log.debug(
                        "learned boosts for %d %s searches", len(boosts.by_query), one.language
                    )
        except IndexUnavailable:
            pass  # nothing to learn for yet; the service says why in /healthz
        except Exception:  # searches go on with the boosts they have
            log.exception("could not learn boosts from the query log; trying again later")
            await asyncio.sleep(RETRY_SECONDS)
        await asyncio.sleep(CHECK_SECONDS)
