"""The private log of customers' searches, clicks and feedback, and the gaps it reveals.

The app depends on the `QueryLog` protocol; `SQLiteQueryLog` implements it with the standard
library (a PostgreSQL backend shared by several replicas is meant to follow). Privacy by design:
every text is passed through `redact` before it is stored, and no IP address or cookie is ever
taken. Search must never wait for the log: `record_*` only put the event on a queue, and one
background thread writes the queue to SQLite in batched transactions. When the store fails
(disk full, locked, unwritable path) the error is logged and the events are dropped.

Gaps: a search with zero results is counted under its normalised form (`normalise`) in the
`gap_groups` table as it is written, so the counts outlive `purge()` of raw rows; `gaps()` then
merges forms that differ by a typo per word ("retrun lable" joins "return label").
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from kb_search.redact import redact

log = logging.getLogger("kb_search.querylog")

SCHEMA_VERSION = 1
MAX_TEXT = 1000  # characters of a query or feedback text that are kept; the app allows fewer
MAX_EXAMPLES = 5
_BATCH = 500
_QUEUE_SIZE = 10_000
_LINGER_SECONDS = 0.05


@dataclass(frozen=True)
class SearchRecord:
    search_id: str  # random id made by the caller (uuid4 hex)
    query: str  # raw text as typed; the log redacts it itself before storing
    result_count: int
    top_result: str | None  # article id of the first result
    category: str | None  # category filter, if any
    corrected: str | None  # the corrected query the search used, if any
    session: str | None = None  # a random id from the client, never an IP or cookie
    at: datetime | None = None  # defaults to now (UTC)


@dataclass
class GapGroup:
    """Searches that look alike: `key` is the most common normalised form among them."""

    key: str
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: list[str] = field(default_factory=list)  # redacted, up to MAX_EXAMPLES
    closest_article: str | None = None  # filled in by the caller, who knows the index


@dataclass
class ArticleFeedback:
    article_id: str
    not_helpful: int
    helpful: int
    missing: list[str] = field(default_factory=list)  # redacted, up to MAX_EXAMPLES


@dataclass
class GapReport:
    unanswered: list[GapGroup]  # zero results, most frequent first; survives purge()
    no_click: list[GapGroup]  # results shown but none clicked (raw rows in retention)
    not_helpful: list[ArticleFeedback]  # articles voted not helpful, most votes first


class QueryLog(Protocol):
    def record_search(self, record: SearchRecord) -> None: ...
    def record_click(self, search_id: str, article_id: str) -> None: ...
    def record_feedback(
        self, article_id: str, helpful: bool, missing: str | None, search_id: str | None = None
    ) -> None: ...
    def gaps(self, *, limit: int = 50) -> GapReport: ...
    def purge(self, now: datetime | None = None) -> int: ...
    def flush(self, timeout: float | None = None) -> bool: ...
    def close(self) -> None: ...


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
        }

    return {
        "unanswered": [group(g) for g in report.unanswered],
        "no_click": [group(g) for g in report.no_click],
        "not_helpful": [vars(f) | {"missing": list(f.missing)} for f in report.not_helpful],
    }


# --- normalisation and typo merging -----------------------------------------------------------

_STOP_TEXT = """a about after again all am an and any are as at be been before being but by can
could did do does doing don for from had has have having he her here hers him his how i if im in
into is it its just me more most my myself of on once only or other our ours over own s same she
should so some such t than that the their them then there these they this those through to too
until very was we were what when where which while who whom why will with would you your yours"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())  # English; "no", "not", "off", "out", "up" matter
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_TOKEN = re.compile(r"<[a-z-]+>|[^\W_]+")
# (suffix, replacement), first match wins: "ss", "us", "is" stay (address, status, tennis).
_SUFFIXES = (
    ("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("xes", "x"),
    ("ss", "ss"), ("us", "us"), ("is", "is"), ("s", ""), ("ing", ""), ("ed", ""),
)  # fmt: skip


def _stem(word: str) -> str:
    """A small suffix stripper: returns -> return, deliveries -> delivery, shipped -> ship."""
    suffix, replacement = next(((s, r) for s, r in _SUFFIXES if word.endswith(s)), ("", ""))
    stem = word[: len(word) - len(suffix)] + replacement
    if len(stem) < 3 or word.startswith("<"):
        return word  # bus, gas, need, <n>
    if suffix in ("ing", "ed") and len(stem) >= 4 and stem[-1] == stem[-2] not in "lsz":
        stem = stem[:-1]  # shipp(ed) -> ship, but miss(ing) -> miss
    return stem


@functools.lru_cache(maxsize=4096)  # customers repeat popular searches word for word
def normalise(query: str) -> str:
    """The form searches are grouped by: redacted, lowercase, unaccented, numbers as `<n>`,
    no punctuation or stop words, simple stems, sorted words ("Returns policy?" -> "policy
    return")."""
    text = unicodedata.normalize("NFKD", redact(query[:MAX_TEXT]).casefold())
    text = _NUMBER.sub(" <n> ", "".join(ch for ch in text if not unicodedata.combining(ch)))
    words = _TOKEN.findall(text)
    return " ".join(sorted({_stem(w) for w in [w for w in words if w not in _STOP_WORDS] or words}))


def _distance(a: str, b: str) -> int:
    """Edits from a to b (insert, delete, substitute, swap two neighbours)."""
    before, previous = [0] * (len(b) + 1), list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


def _words_close(a: str, b: str) -> bool:
    shortest = min(len(a), len(b))
    allowed = 0 if shortest < 5 or "<" in a + b else 1 if shortest < 9 else 2
    if a == b:
        return True
    # Lengths further apart than the allowed edits can never be close: skip the distance.
    return allowed > 0 and abs(len(a) - len(b)) <= allowed and _distance(a, b) <= allowed


def _forms_close(a: str, b: str) -> bool:
    """Same number of words, and each word of `a` pairs with an equal or near word of `b`."""
    if a.count(" ") != b.count(" "):
        return False
    rest, unmatched = b.split(), []
    for word in a.split():
        if word in rest:
            rest.remove(word)
        else:
            unmatched.append(word)
    for word in unmatched:
        near = next((other for other in rest if _words_close(word, other)), None)
        if near is None:
            return False
        rest.remove(near)
    return not rest


def _merge(groups: Iterable[GapGroup]) -> list[GapGroup]:
    """Fold each form into the most frequent earlier form it is close to."""
    merged: dict[int, list[GapGroup]] = {}  # by number of words
    for group in sorted(groups, key=lambda g: (-g.count, g.key)):
        same_length = merged.setdefault(len(group.key.split()), [])
        target = next((t for t in same_length if _forms_close(group.key, t.key)), None)
        if target is None:
            same_length.append(group)
            continue
        target.count += group.count
        target.first_seen = min(target.first_seen, group.first_seen)
        target.last_seen = max(target.last_seen, group.last_seen)
        extra = [e for e in group.examples if e not in target.examples]
        target.examples = (target.examples + extra)[:MAX_EXAMPLES]
    return sorted((g for gs in merged.values() for g in gs), key=lambda g: (-g.count, g.key))


# --- storage ------------------------------------------------------------------------------------

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 0 -> 1
        "CREATE TABLE searches (search_id TEXT PRIMARY KEY, at TEXT NOT NULL, query TEXT NOT NULL,"
        " norm TEXT NOT NULL, result_count INTEGER NOT NULL, top_result TEXT, category TEXT,"
        " corrected TEXT, session TEXT)",
        "CREATE INDEX searches_at ON searches (at)",
        "CREATE TABLE clicks (search_id TEXT NOT NULL, article_id TEXT NOT NULL, at TEXT NOT NULL)",
        "CREATE INDEX clicks_search ON clicks (search_id)",
        "CREATE INDEX clicks_at ON clicks (at)",
        "CREATE TABLE feedback (article_id TEXT NOT NULL, helpful INTEGER NOT NULL, missing TEXT,"
        " search_id TEXT, at TEXT NOT NULL)",
        "CREATE INDEX feedback_at ON feedback (at)",
        "CREATE INDEX feedback_article ON feedback (article_id, helpful)",
        "CREATE TABLE gap_groups (key TEXT PRIMARY KEY, count INTEGER NOT NULL,"
        " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, examples TEXT NOT NULL)",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_UNCLICKED = """
SELECT norm, query, at FROM searches s WHERE result_count > 0 AND norm != ''
AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.search_id) ORDER BY at DESC
LIMIT 5000"""  # the latest: grouping compares forms pairwise
_NOT_HELPFUL = """
SELECT article_id, SUM(helpful = 0), SUM(helpful = 1),
       (SELECT json_group_array(missing) FROM (SELECT missing FROM feedback m
        WHERE m.article_id = f.article_id AND helpful = 0 AND missing != ''
        GROUP BY missing ORDER BY MAX(at) DESC LIMIT :n))
FROM feedback f GROUP BY article_id HAVING SUM(helpful = 0) > 0
ORDER BY SUM(helpful = 0) DESC, article_id LIMIT :limit"""

_Write = Callable[[sqlite3.Connection], None]


def _iso(moment: datetime) -> str:
    """UTC, fixed width, so that text order is time order (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def _clean(text: str | None) -> str | None:
    """Redacted, bounded, and storable (lone surrogates cannot be encoded)."""
    if text is None:
        return None
    return redact(text[:MAX_TEXT]).encode("utf-8", "replace").decode("utf-8")


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def _open(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode, with the schema created or upgraded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if _schema_version(conn) != SCHEMA_VERSION:
            with _transaction(conn):  # another process may have migrated meanwhile: ask again
                version = _schema_version(conn)
                if version > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{path}: query log schema {version} is newer than this code"
                    )
                for statements in _MIGRATIONS[version:]:
                    for statement in statements:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


def _write_click(search_id: str, article_id: str, at: str, conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO clicks VALUES (?, ?, ?)", (search_id, article_id, at))


def _write_feedback(
    article_id: str,
    helpful: bool,
    missing: str | None,
    search_id: str | None,
    at: str,
    conn: sqlite3.Connection,
) -> None:
    row = (article_id, int(helpful), _clean(missing), search_id, at)
    conn.execute("INSERT INTO feedback VALUES (?, ?, ?, ?, ?)", row)


def _write_search(record: SearchRecord, at: str, conn: sqlite3.Connection) -> None:
    query = _clean(record.query) or ""
    norm = normalise(query)
    row = (record.search_id, at, query, norm, record.result_count, record.top_result,
           record.category, _clean(record.corrected), record.session)  # fmt: skip
    inserted = conn.execute("INSERT OR IGNORE INTO searches VALUES (?,?,?,?,?,?,?,?,?)", row)
    if record.result_count > 0 or not norm or inserted.rowcount != 1:
        return
    found = conn.execute("SELECT examples FROM gap_groups WHERE key = ?", (norm,)).fetchone()
    examples: list[str] = json.loads(found[0]) if found else []
    if query not in examples and len(examples) < MAX_EXAMPLES:
        examples.append(query)
    conn.execute(
        "INSERT INTO gap_groups VALUES (:key, 1, :at, :at, :examples) ON CONFLICT (key) DO UPDATE"
        " SET count = count + 1, first_seen = min(first_seen, :at),"
        " last_seen = max(last_seen, :at), examples = :examples",
        {"key": norm, "at": at, "examples": json.dumps(examples)},
    )


def _stored_groups(rows: Iterable[tuple[str, int, str, str, str]]) -> Iterator[GapGroup]:
    for key, count, first_seen, last_seen, examples in rows:
        first, last = datetime.fromisoformat(first_seen), datetime.fromisoformat(last_seen)
        yield GapGroup(key, count, first, last, json.loads(examples))


def _grouped(rows: Iterable[tuple[str, str, str]]) -> Iterable[GapGroup]:
    """(norm, query, at) rows, newest first, grouped by norm."""
    groups: dict[str, GapGroup] = {}
    for norm, query, at in rows:
        moment = datetime.fromisoformat(at)
        group = groups.setdefault(norm, GapGroup(norm, 0, moment, moment))
        group.count, group.first_seen = group.count + 1, moment
        if query not in group.examples and len(group.examples) < MAX_EXAMPLES:
            group.examples.append(query)
    return groups.values()


class SQLiteQueryLog:
    """`QueryLog` in one SQLite file. Starts its writer thread at once; call `close()` on
    shutdown so nothing queued is lost. Only `record_*` promise never to raise."""

    def __init__(self, path: Path, retention_days: int = 90) -> None:
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, not {retention_days}")
        self.path, self.retention_days = Path(path), retention_days
        self._queue: queue.Queue[_Write | threading.Event | None] = queue.Queue(_QUEUE_SIZE)
        self._conn: sqlite3.Connection | None = None  # the writer thread's own
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kb-querylog-writer", daemon=True)
        self._thread.start()

    def __enter__(self) -> SQLiteQueryLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record_search(self, record: SearchRecord) -> None:
        self._enqueue(partial(_write_search, record), record.at)

    def record_click(self, search_id: str, article_id: str) -> None:
        self._enqueue(partial(_write_click, search_id, article_id))

    def record_feedback(
        self, article_id: str, helpful: bool, missing: str | None, search_id: str | None = None
    ) -> None:
        self._enqueue(partial(_write_feedback, article_id, helpful, missing, search_id))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything recorded so far is written (or failed); False on timeout."""
        done = threading.Event()
        with self._lock:
            if self._closed:
                return True
            self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        """Write everything still queued, then stop the writer thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def purge(self, now: datetime | None = None) -> int:
        """Delete raw rows and example texts older than the retention period; counts stay."""
        cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=self.retention_days))
        with closing(_open(self.path)) as conn, _transaction(conn):
            deleted = [
                conn.execute(f"DELETE FROM {table} WHERE at < ?", (cutoff,)).rowcount
                for table in ("searches", "clicks", "feedback")
            ]
            # Example searches are customers' text too: they go with the raw rows.
            conn.execute("UPDATE gap_groups SET examples = '[]' WHERE last_seen < ?", (cutoff,))
        return sum(deleted)

    def gaps(self, *, limit: int = 50) -> GapReport:
        """What customers did not find: read from what is written (see `flush`)."""
        with closing(_open(self.path)) as conn:
            stored = conn.execute(
                "SELECT key, count, first_seen, last_seen, examples FROM gap_groups"
            )
            unanswered = _merge(_stored_groups(stored))
            no_click = _merge(_grouped(conn.execute(_UNCLICKED)))
            feedback = conn.execute(_NOT_HELPFUL, {"n": MAX_EXAMPLES, "limit": limit})
            not_helpful = [ArticleFeedback(a, n, h, json.loads(m)) for a, n, h, m in feedback]
        return GapReport(unanswered[:limit], no_click[:limit], not_helpful)

    def _enqueue(
        self, write: Callable[[str, sqlite3.Connection], None], at: datetime | None = None
    ) -> None:
        """Queue `write(at_iso, conn)` for the writer thread; never raises, never blocks."""
        try:
            item = partial(write, _iso(at or datetime.now(UTC)))
            with self._lock:  # so that nothing is queued behind close()'s stop sign
                if self._closed:
                    log.warning("query log is closed; an event was not recorded")
                    return
                self._queue.put_nowait(item)
        except queue.Full:
            log.warning("query log queue is full; an event was dropped")
        except Exception:
            log.exception("query log: could not queue an event")

    def _run(self) -> None:
        stopping = False
        while not stopping:
            writes: list[_Write] = []
            waiting: list[threading.Event] = []
            item = self._queue.get()
            if item is not None and not isinstance(item, threading.Event):
                # Let a batch gather: waking for every search would compete with answering them.
                time.sleep(_LINGER_SECONDS)
            while True:
                if item is None:
                    stopping = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    writes.append(item)
                if stopping or len(writes) >= _BATCH or self._queue.empty():
                    break
                item = self._queue.get_nowait()  # this thread is the only reader
            try:
                self._write(writes)
            finally:
                for event in waiting:
                    event.set()
        if self._conn is not None:
            self._conn.close()

    def _write(self, writes: list[_Write]) -> None:
        if not writes:
            return
        try:
            if self._conn is None:
                self._conn = _open(self.path)
            with _transaction(self._conn):
                for write in writes:
                    write(self._conn)
        except Exception:
            log.exception("query log %s: %d events could not be stored", self.path, len(writes))
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class NullQueryLog:
    """`QueryLog` that stores nothing: for `KB_LOG_SEARCHES=off`."""

    def record_search(self, record: SearchRecord) -> None:
        pass

    def record_click(self, search_id: str, article_id: str) -> None:
        pass

    def record_feedback(
        self, article_id: str, helpful: bool, missing: str | None, search_id: str | None = None
    ) -> None:
        pass

    def gaps(self, *, limit: int = 50) -> GapReport:
        return GapReport([], [], [])

    def purge(self, now: datetime | None = None) -> int:
        return 0

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        pass


class LogSettings(Protocol):
    """What `open_log` reads from the app's settings (kb_search.config.Settings has these)."""

    @property
    def log_db(self) -> Path: ...
    @property
    def log_retention_days(self) -> int: ...
    @property
    def log_searches(self) -> bool: ...


def open_log(settings: LogSettings) -> QueryLog:
    """The log the service uses: SQLite at `log_db`, or nothing when logging is off."""
    if not settings.log_searches:
        return NullQueryLog()
    return SQLiteQueryLog(settings.log_db, settings.log_retention_days)
