"""Releases: the search index and the site built together, switched to with one pointer.

`build()` writes a complete release into a staging folder (the index, the article vectors when
there is an encoder, and the built site when given one), renames it into place and then points
the root's CURRENT file at it with an atomic rename. `LiveIndex` follows CURRENT: it opens a
new release before it lets go of the old one, keeps serving the old one when the new one cannot
be opened (and says why in `problem`), and recovers on the next good release. Old releases are
removed by age, so a request or a replica still on one finds its files.

A release holds one index per language: the first language's at its top, each other one's in
`lang/<code>/` (its own records, vocabulary and synonyms, analysed in that language); the site
holds the other languages' pages in `site/<code>/`.

An open release is read into memory: Whoosh memory-maps segment files, and a damaged or
truncated file would then take the process down (SIGBUS) instead of failing one open.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import re
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

from whoosh.filedb.filestore import RamStorage
from whoosh.searching import Searcher

from kb_search.articles import HelpCenter
from kb_search.schema import RELEASE_FORMAT, SPELL_FIELD, SectionRecord, scoring, write_index
from kb_search.security import inline_script_hashes, site_policy
from kb_search.semantic import ArticleVectors, Encoder, article_texts, save_vectors
from kb_search.sitefiles import SiteFiles
from kb_search.synonyms import Synonyms, load_synonyms
from kb_search.text import Language, language

log = logging.getLogger("kb_search.versions")
CURRENT = "CURRENT"
META = "meta.json"
SITE = "site"
LANGUAGES_DIR = "lang"
STAGING = ".staging-"
# Besides the current release, the one before it is always kept; older ones once they have been
# replaced for this long.
KEEP_REPLACED_SECONDS = 600.0
_VERSION = re.compile(r"[0-9]{8}T[0-9]{12}-[0-9a-f]{6}")
_VERSION_TIME = "%Y%m%dT%H%M%S%f"


class IndexUnavailable(RuntimeError):
    """No release can be served: none was built, or the current one cannot be opened."""


class IndexMissing(IndexUnavailable):
    """No release has been built yet in the release root."""


def link_site(source: Path) -> Callable[[Path], None]:
    """A release's site from an already built site folder (hard links where possible)."""

    def fill(destination: Path) -> None:
        if not (source / "index.html").is_file():
            raise IndexUnavailable(f"{source} is not a built site (no index.html): build it first")
        shutil.copytree(source, destination, copy_function=_link_or_copy)

    return fill


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def build(
    center: HelpCenter,
    root: Path,
    progress: Callable[[int, int], None] | None = None,
    encoder: Encoder | None = None,
    site: Callable[[Path], None] | None = None,
    keep_replaced_seconds: float = KEEP_REPLACED_SECONDS,
) -> Path:
    """Build a release of the published articles (and `site`, which fills the given folder)
    and make it the current one."""
    root.mkdir(parents=True, exist_ok=True)
    # Names sort in build order (microseconds), so cleanup knows which is newest.
    version = datetime.now(UTC).strftime(_VERSION_TIME) + "-" + uuid.uuid4().hex[:6]
    staging = root / f"{STAGING}{version}"
    staging.mkdir()
    try:
        _write_edition(center, staging, version, progress, encoder)
        for edition in center.translations:
            # The semantic model is English: other languages are searched by their words.
            folder = staging / LANGUAGES_DIR / edition.language
            folder.mkdir(parents=True)
            _write_edition(edition, folder, version, progress, None)
        if site is not None:
            site(staging / SITE)
        staging.rename(root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = _pointer(root)
    point_to(root, version)
    remove_old(root, keep_replaced_seconds, keep=frozenset({previous}))
    return root / version


def _write_edition(
    center: HelpCenter,
    folder: Path,
    version: str,
    progress: Callable[[int, int], None] | None,
    encoder: Encoder | None,
) -> None:
    """One language's index, vectors and meta.json into `folder`."""
    synonyms = load_synonyms(center.docs_dir, language(center.language))
    indexed = write_index(center, folder, progress)
    if encoder is not None:
        texts = {str(a.id): article_texts(record, a.queries) for a, record in indexed}
        save_vectors(folder, encoder, texts)
    meta = {
        "format": RELEASE_FORMAT,
        "version": version,
        "language": center.language,
        "language_name": center.language_names.get(center.language, center.language),
        "articles": len(indexed),
        "built_at": time.time(),
        "synonyms": synonyms.groups,
    }
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")


def _pointer(root: Path) -> str:
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def point_to(root: Path, version: str) -> None:
    pending = root / f".{CURRENT}.{uuid.uuid4().hex}"
    pending.write_text(version, encoding="utf-8")
    os.replace(pending, root / CURRENT)


def current_site(root: Path) -> Path | None:
    """The current release's site folder, if there is a release with a site."""
    version = _pointer(root)
    folder = root / version / SITE
    return folder if _VERSION.fullmatch(version) and folder.is_dir() else None


def _built_at(version: str) -> float:
    return datetime.strptime(version[:21], _VERSION_TIME).replace(tzinfo=UTC).timestamp()


def remove_old(
    root: Path,
    keep_replaced_seconds: float,
    now: float | None = None,
    keep: frozenset[str] = frozenset(),
) -> None:
    """Remove releases replaced longer ago than `keep_replaced_seconds` (a release counts as
    replaced when the next newer one was built), and staging folders a killed build left.

    The current release, the one served before it (after a rollback, maybe not the newest:
    `keep`) and the newest two are always kept."""
    now = time.time() if now is None else now
    versions = sorted(p.name for p in root.iterdir() if _VERSION.fullmatch(p.name) and p.is_dir())
    kept = {*keep, _pointer(root), *versions[-2:]}
    for old, successor in itertools.pairwise(versions):
        if old not in kept and now - _built_at(successor) > keep_replaced_seconds:
            shutil.rmtree(root / old, ignore_errors=True)
    for staging in root.glob(f"{STAGING}*"):
        name = staging.name.removeprefix(STAGING)
        if _VERSION.fullmatch(name) and now - _built_at(name) > 3600:
            shutil.rmtree(staging, ignore_errors=True)


class Site:
    """A release's built site, with its own Content-Security-Policy (hashes of its scripts,
    read when a page is first served: `kb gaps` and the like never need them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = SiteFiles(directory=folder, html=True)

    @functools.cached_property
    def policy(self) -> str:
        return site_policy(inline_script_hashes(self.folder))


def _named(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "sections": [SectionRecord(*s) for s in record["sections"]]}


@dataclass
class OpenIndex:
    """One release, open for serving: its index (thread-safe through its lock) and its site."""

    version: str
    folder: Path
    records: dict[str, dict[str, Any]]
    ids: dict[int, str]
    vectors: ArticleVectors | None
    synonyms: Synonyms
    vocabulary: frozenset[str]
    site: Site | None
    _searcher: Searcher
    # How this index's text was analysed, and so how a customer's words are.
    language: Language
    # Every language's index of the release by code, this one included.
    editions: dict[str, OpenIndex] = field(default_factory=dict)
    language_name: str = ""  # as its readers write it: "Svenska"
    # Derived once per version, not per request: the category filter and title suggestions.
    categories: frozenset[str] = field(init=False)
    title_words: dict[str, list[str]] = field(init=False)
    # Known words by how they are typed without the language's own letters ("sparningen" ->
    # "spårningen"), where only one word is typed so.
    plain_spellings: dict[str, str] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, folder: Path) -> OpenIndex:
        """The release in `folder` with its other languages' indexes."""
        opened = cls._open_one(folder)
        try:
            languages = folder / LANGUAGES_DIR
            for sub in sorted(languages.iterdir()) if languages.is_dir() else []:
                edition = cls._open_one(sub)
                edition.editions = opened.editions  # one mapping: each finds the others
                opened.editions[edition.language.code] = edition
        except BaseException:
            opened.close()
            raise
        return opened

    @classmethod
    def _open_one(cls, folder: Path) -> OpenIndex:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if meta.get("format") != RELEASE_FORMAT:
            raise IndexUnavailable(
                f"release {folder.name} was built by another version of kb: run `kb release`"
            )
        storage = RamStorage()
        for path in folder.iterdir():
            if path.is_file() and "MAIN" in path.name:  # Whoosh's table of contents and segments
                storage.files[path.name] = path.read_bytes()
        searcher = storage.open_index().searcher(weighting=scoring())
        try:
            # Reading every stored record and the whole vocabulary also proves the files whole.
            stored = list(searcher.reader().iter_docs())
            records = {str(fields["id"]): _named(fields["record"]) for _, fields in stored}
            # Hits are mapped to ids by document number: reading stored fields per hit is slow.
            ids = {docnum: str(fields["id"]) for docnum, fields in stored}
            # The words the index was analysed through (kb_search.schema.index_language).
            spelled = {w.decode("utf-8") for w in searcher.lexicon(SPELL_FIELD)}
            analysis = language(meta.get("language", "en")).with_vocabulary(spelled)
            synonyms = Synonyms(meta["synonyms"], analysis)
            # Words are known (never "corrected") when an article or the synonyms file has them.
            known = frozenset(spelled | synonyms.vocabulary)
            vectors = ArticleVectors.load(folder)
            site = Site(folder / SITE) if (folder / SITE).is_dir() else None
        except BaseException:
            searcher.close()
            raise
        return cls(
            meta["version"],
            folder,
            records,
            ids,
            vectors,
            synonyms,
            known,
            site,
            searcher,
            analysis,
            language_name=meta.get("language_name", analysis.code),
        )

    def __post_init__(self) -> None:
        self.categories = frozenset(r["category"] for r in self.records.values())
        self.editions.setdefault(self.language.code, self)
        self.title_words = {i: self.language.words(r["title"]) for i, r in self.records.items()}
        typed: dict[str, set[str]] = {}
        for word in self.vocabulary:
            if (plain := self.language.without_own_letters(word)) != word:
                typed.setdefault(plain, set()).add(word)
        self.plain_spellings = {
            plain: next(iter(words))
            for plain, words in typed.items()
            if len(words) == 1 and plain not in self.vocabulary
        }

    def in_language(self, code: str) -> OpenIndex:
        """This release's index of language `code` (KeyError when it has none)."""
        return self.editions[code]

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        with self._lock:
            yield self._searcher

    def completion(self, prefix: str) -> str:
        """The shortest known word that starts with `prefix`, else `prefix` itself."""
        with self._lock:
            words = self._searcher.reader().expand_prefix(SPELL_FIELD, prefix)
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
        """Close the release: every language's index."""
        for edition in {id(e): e for e in (self, *self.editions.values())}.values():
            with edition._lock:
                edition._searcher.close()


class LiveIndex:
    """Follows the release root's CURRENT; switches when `kb index` or `kb release` moves it.

    A replaced release is simply let go: it lives in memory, so requests still using it finish
    on it, and it is freed when the last of them is done.
    """

    # A new release is noticed within this long.
    CHECK_SECONDS = 1.0
    # A release that failed to open is tried again after this long (its files may be mended).
    RETRY_SECONDS = 10.0

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problem: str | None = None  # why the newest release is not the one served
        self._open: OpenIndex | None = None
        self._failed: dict[str, tuple[float, str]] = {}  # version: when it failed, and why
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def serving(self) -> OpenIndex | None:
        """The release open now, without looking for a newer one (never blocks)."""
        return self._open

    def current(self) -> OpenIndex:
        """The release to serve; CURRENT is read at most every CHECK_SECONDS."""
        opened = self._open
        if opened is not None and time.monotonic() - self._checked < self.CHECK_SECONDS:
            return opened
        # One thread looks (and opens a new release); the others keep the open one meanwhile.
        if not self._lock.acquire(blocking=opened is None):
            return opened  # type: ignore[return-value]  # not None: it did not block
        try:
            now = time.monotonic()
            if self._open is not None and now - self._checked < self.CHECK_SECONDS:
                return self._open  # another thread looked meanwhile
            self._checked = now
            try:
                self._follow(now)
            except IndexUnavailable as error:
                if self._open is None:
                    self.problem = str(error)
                    raise
                problem = f"{error}; still serving release {self._open.version}"
                if self.problem != problem:  # said once, not on every check
                    log.error("%s", problem)
                self.problem = problem
            assert self._open is not None  # _follow opened one or raised
            return self._open
        finally:
            self._lock.release()

    def _follow(self, now: float) -> None:
        """Open the release CURRENT names, unless it is open; raise IndexUnavailable if not."""
        try:
            version = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing(f"no search index in {self.root}: run `kb release`") from None
        except (OSError, UnicodeDecodeError) as error:
            raise IndexUnavailable(f"{self.root / CURRENT} cannot be read: {error}") from None
        if self._open is not None and self._open.version == version:
            self.problem = None
            return
        if not _VERSION.fullmatch(version):
            shown = version[:40] or "nothing"
            raise IndexUnavailable(f"{self.root / CURRENT} names {shown!r}, which is no release")
        failed_at, why = self._failed.get(version, (float("-inf"), ""))
        if now - failed_at < self.RETRY_SECONDS:  # the same reason, until it is worth a retry
            raise IndexUnavailable(why)
        try:
            opened = OpenIndex.open(self.root / version)
        except Exception as error:
            why = f"release {version} could not be opened: {error}"
            self._failed[version] = (now, why)
            problem = IndexUnavailable(why)
            if self._open is None:  # starting: serve the newest older release that opens
                self._open = self._newest_that_opens(before=version)
            raise problem from None
        self._open, self.problem = opened, None
        self._failed.clear()

    def _newest_that_opens(self, before: str) -> OpenIndex | None:
        older = sorted(
            (p.name for p in self.root.iterdir() if _VERSION.fullmatch(p.name) and p.name < before),
            reverse=True,
        )
        for version in older:
            try:
                return OpenIndex.open(self.root / version)
            except Exception:
                continue
        return None

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.close()
                self._open = None
