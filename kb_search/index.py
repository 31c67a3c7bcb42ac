"""The Whoosh index: schema and analyzers, atomic builds, and the live index a service reads.

`build()` writes a complete new version into its own folder under the index root, then points
the root's CURRENT file at it with an atomic rename. `LiveIndex` follows CURRENT, so a running
service never reads a half-built index and picks up a new one without a restart.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.support.charset import accent_map

from kb_search.articles import HelpCenter
from kb_search.sections import split_sections
from kb_search.semantic import ArticleVectors, Encoder, article_texts, save_vectors
from kb_search.synonyms import Synonyms, load_synonyms

CURRENT = "CURRENT"
META = "meta.json"
KEEP_VERSIONS = 2

# Words that carry no meaning in a help-center search ("where is my order" is about "order").
STOP_WORDS = frozenset(
    "a an and are as at be been but by can could do does did for from get got has have "
    "i if im in into is it its i'm me my of on or our please so some that the their "
    "them then there this to us was we which who will with would you your yours want "
    "need help hi hello".split()
)

_TOKENIZER = RegexTokenizer(r"\w+(?:[.']\w+)*")


def text_analyzer() -> Analyzer:
    """Lowercase, fold accents, drop stop words, stem: "Returns" and "retúrn" meet."""
    return (
        _TOKENIZER
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter()
    )


def word_analyzer() -> Analyzer:
    """Whole words as written (lowercase, accents folded): the vocabulary for spelling."""
    return _TOKENIZER | LowercaseFilter() | CharsetFilter(accent_map)


# Indexed on their own for word-pair (phrase) matches; every part of an article is in MATCH_FIELD.
PHRASE_FIELDS = ("title", "queries")
# Every word of an article once more: how many articles use a word, whatever the field.
ALL_FIELD = "all"
# One field that customers' words are matched against, each part repeated by its weight: BM25F
# (term frequencies summed across fields before saturation), with one posting list per word
# instead of one per word and field. A match in a title or a customer query outweighs a
# passing mention in the body. Tuned with `kb eval`.
MATCH_FIELD = "weighted"
# A high K1 lets repeated (weighted) matches keep counting; a low B barely penalises long
# articles. Both tuned with `kb eval` on the relevance sets.
BM25_K1 = 10.0
BM25_B = 0.3
FIELD_REPEATS = {
    "title": 6,
    "queries": 4,
    "synonyms": 4,
    "summary": 2,
    "headings": 2,
    "tags": 2,
    "body": 1,
}


class ArticleBM25(BM25F):  # type: ignore[misc]
    """BM25F with Lucene's IDF taken over whole articles.

    Whoosh's IDF never falls below 1 and is counted per field, so a word that nearly every
    article uses ("order", "account") outweighed the one word that matters. Here such a word
    weighs almost nothing in every field.
    """

    def idf(self, searcher: Searcher, fieldname: str, text: bytes | str) -> float:
        articles = searcher.doc_count_all()
        using = searcher.doc_frequency(ALL_FIELD, text)
        return math.log(1 + (articles - using + 0.5) / (using + 0.5))


def schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        category=ID(stored=True),
        spell=TEXT(analyzer=word_analyzer()),
        record=STORED(),
        **{name: TEXT(analyzer=analyzer) for name in (*PHRASE_FIELDS, ALL_FIELD, MATCH_FIELD)},
    )


def article_record(article: Any, category_title: str) -> dict[str, Any]:
    """What a search result shows, stored once per article."""
    sections = split_sections(article.markdown)
    analyzer = text_analyzer()

    def stems(text: str) -> list[str]:
        return [token.text for token in analyzer(text)]

    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "summary": article.summary,
        "category": article.category,
        "category_title": category_title,
        "reply": article.reply,
        "permalink": article.permalink,
        # heading, anchor, text, and the stems of heading and text, so a search can pick the
        # section to link to without analysing the article again.
        "sections": [
            [s.heading, s.anchor, s.text, stems(s.heading), stems(s.text)] for s in sections
        ],
    }


def build(
    center: HelpCenter,
    root: Path,
    progress: Callable[[int, int], None] | None = None,
    encoder: Encoder | None = None,
) -> Path:
    """Index the published articles into a new version folder and make it the current one."""
    root.mkdir(parents=True, exist_ok=True)
    # Names sort in build order (microseconds), so cleanup keeps the newest versions.
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
    folder = root / version
    folder.mkdir()
    synonyms = load_synonyms(center.docs_dir)
    ix = whoosh_index.create_in(str(folder), schema())
    articles = center.published
    writer = ix.writer(limitmb=128)
    texts: dict[str, list[str]] = {}  # for the semantic ranker, when there is one
    for done, article in enumerate(articles, 1):
        record = article_record(article, center.categories[article.category].title)
        if encoder is not None:
            texts[str(article.id)] = article_texts(record, article.queries)
        sections = record["sections"]
        fields = {
            "title": article.title,
            "summary": article.summary,
            "synonyms": " ; ".join(article.synonyms),
            "queries": " ; ".join(article.queries),
            "headings": " ; ".join(s[0] for s in sections if s[0]),
            "body": " ".join(s[2] for s in sections),
            "tags": " ".join(article.tags),
        }
        everything = " ; ".join(fields.values())
        weighted = " ; ".join(
            " ; ".join([fields[name]] * repeats) for name, repeats in FIELD_REPEATS.items()
        )
        writer.add_document(
            id=str(article.id),
            category=article.category,
            record=record,
            spell=everything,
            all=everything,
            **{MATCH_FIELD: weighted},
            **{name: fields[name] for name in PHRASE_FIELDS},
        )
        if progress and (done % 500 == 0 or done == len(articles)):
            progress(done, len(articles))
    writer.commit()
    if encoder is not None:
        save_vectors(folder, encoder, texts)
    meta = {
        "version": version,
        "articles": len(articles),
        "built_at": time.time(),
        "synonyms": synonyms.groups,
    }
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    _point_to(root, version)
    _remove_old_versions(root, keep={version})
    return folder


def _point_to(root: Path, version: str) -> None:
    pending = root / f".{CURRENT}.{uuid.uuid4().hex}"
    pending.write_text(version, encoding="utf-8")
    os.replace(pending, root / CURRENT)


def _remove_old_versions(root: Path, keep: set[str]) -> None:
    versions = sorted(
        (p for p in root.iterdir() if p.is_dir() and (p / META).exists()),
        key=lambda p: p.name,
        reverse=True,
    )
    for old in versions[KEEP_VERSIONS:]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


class IndexMissing(RuntimeError):
    """No index has been built yet in the index root."""


@dataclass
class OpenIndex:
    """One index version, open for searching. Thread-safe through its lock."""

    version: str
    folder: Path
    records: dict[str, dict[str, Any]]
    ids: dict[int, str]
    vectors: ArticleVectors | None
    synonyms: Synonyms
    vocabulary: frozenset[str]
    _searcher: Searcher
    # Derived once per version, not per request: the category filter and title suggestions.
    categories: frozenset[str] = field(init=False)
    title_words: dict[str, list[str]] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, folder: Path) -> OpenIndex:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        ix = whoosh_index.open_dir(str(folder))
        searcher = ix.searcher(weighting=ArticleBM25(B=BM25_B, K1=BM25_K1))
        stored = list(searcher.reader().iter_docs())
        records = {str(fields["id"]): fields["record"] for _, fields in stored}
        # Hits are mapped to ids by document number: reading stored fields per hit is slow.
        ids = {docnum: str(fields["id"]) for docnum, fields in stored}
        synonyms = Synonyms(meta["synonyms"])
        # Words are known (never "corrected") when an article or the synonyms file has them.
        known = {w.decode("utf-8") for w in searcher.lexicon("spell")} | synonyms.vocabulary
        vectors = ArticleVectors.load(folder)
        return cls(
            meta["version"], folder, records, ids, vectors, synonyms, frozenset(known), searcher
        )

    def __post_init__(self) -> None:
        self.categories = frozenset(r["category"] for r in self.records.values())
        words = word_analyzer()
        self.title_words = {i: [t.text for t in words(r["title"])] for i, r in self.records.items()}

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        with self._lock:
            yield self._searcher

    def completion(self, prefix: str) -> str:
        """The shortest known word that starts with `prefix`, else `prefix` itself."""
        with self._lock:
            words = self._searcher.reader().expand_prefix("spell", prefix)
            known = [w.decode("utf-8") if isinstance(w, bytes) else w for w in words]
        return min(known, key=lambda w: (len(w), w), default=prefix)

    def cached(self, key: Any) -> Any:
        with self._cache_lock:
            value = self._cache.get(key)
            if value is not None:
                self._cache.move_to_end(key)
            return value

    def remember(self, key: Any, value: Any, size: int) -> None:
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > size:
                self._cache.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            self._searcher.close()


class LiveIndex:
    """Follows the index root's CURRENT version; reopens when `kb index` switches it."""

    # A replaced version stays open this long, so searches already running on it can finish.
    RETIRE_AFTER_SECONDS = 60.0
    # A new version is noticed within this long.
    CHECK_SECONDS = 1.0

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: OpenIndex | None = None
        self._retired: list[tuple[float, OpenIndex]] = []
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> OpenIndex:
        """The current version; CURRENT is read at most every CHECK_SECONDS."""
        opened = self._open
        now = time.monotonic()
        if opened is not None and now - self._checked < self.CHECK_SECONDS:
            return opened
        try:
            version = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing(f"no search index in {self.root}: run `kb index`") from None
        self._checked = now
        if opened is not None and opened.version == version:
            return opened
        with self._lock:
            if self._open is None or self._open.version != version:
                now = time.monotonic()
                for retired_at, old in self._retired:
                    if now - retired_at > self.RETIRE_AFTER_SECONDS:
                        old.close()
                self._retired = [
                    (t, o) for t, o in self._retired if now - t <= self.RETIRE_AFTER_SECONDS
                ]
                if self._open is not None:
                    self._retired.append((now, self._open))
                self._open = OpenIndex.open(self.root / version)
            return self._open

    def close(self) -> None:
        with self._lock:
            for _, old in self._retired:
                old.close()
            self._retired = []
            if self._open is not None:
                self._open.close()
                self._open = None
