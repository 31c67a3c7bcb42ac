"""The query log in one SQLite file: the only module that speaks SQL to it.

Writes come from the batching writer (one transaction per batch; a hot search is one
`executemany`); reads return raw figures that `gaps.py` and `suggestions.py` work on.
Every stored text is redacted first and carries its time, so retention reaches all of it.
Every row carries its language, and every read answers for one language.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from kb_search.querylog import daily
from kb_search.querylog.daily import LoggedSearch, Tally, Visit, day_of
from kb_search.querylog.events import (
    DEFAULT_LANGUAGE,
    ClickEvent,
    ContactEvent,
    Event,
    FeedbackEvent,
    SearchEvent,
    iso,
)
from kb_search.querylog.gaps import MAX_EXAMPLES, ArticleFeedback, GapGroup, normalise
from kb_search.querylog.writer import Batch, StoreBusy
from kb_search.redact import redact
from kb_search.text import PLACEHOLDER
from kb_search.text import language as language_of

log = logging.getLogger("kb_search.querylog")

MAX_TEXT = 1000  # characters of a query or feedback text that are kept; the app allows fewer
# SQLite's own wait for a lock; past it the writer backs off and tries again.
_LOCK_WAIT_SECONDS = 1.0
# Errors that pass: another writer holds the lock, the disk is full, the file cannot be opened.
_BUSY = ("locked", "busy", "full", "disk i/o", "unable to open", "readonly")


def _upgrade_texts(conn: sqlite3.Connection) -> None:
    """Version 1 grouped by its own stemmer and redacted less (no names, passwords, codes):
    redact every stored text again and group again with the search's analysis."""
    conn.create_function("kb_clean", 1, clean, deterministic=True)
    conn.create_function("kb_normalise", 1, normalise, deterministic=True)
    conn.execute(
        "UPDATE searches SET query = kb_clean(query), corrected = kb_clean(corrected),"
        " norm = kb_normalise(kb_clean(query))"
    )
    conn.execute("UPDATE feedback SET missing = kb_clean(missing)")
    conn.execute(
        "INSERT INTO gap_groups2 SELECT kb_normalise(key), SUM(count), MIN(first_seen),"
        " MAX(last_seen) FROM gap_groups GROUP BY kb_normalise(key)"
    )
    # Version 1 kept a group's first examples, so they are as old as the group itself.
    conn.execute(
        "INSERT OR IGNORE INTO gap_examples SELECT kb_normalise(g.key), kb_clean(e.value),"
        " g.first_seen FROM gap_groups g, json_each(g.examples) e"
    )


def _counters(names: Sequence[str]) -> str:
    return ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in names)


def _count_what_was_logged(conn: sqlite3.Connection) -> None:
    """The daily figures of the searches, clicks and feedback still kept, counted as they
    would have been live (visits, click positions and categories were not recorded before
    version 5: a search counts under its category filter, feedback under none)."""
    conn.execute(
        "UPDATE searches SET clicked = 1 WHERE search_id IN (SELECT search_id FROM clicks)"
    )
    searches = conn.execute(
        "SELECT substr(at, 1, 10), language, COALESCE(category, ''), norm, COUNT(*),"
        " SUM(result_count = 0), SUM(clicked), SUM(clicked * (result_count > 0)),"
        " (SELECT COUNT(*) FROM clicks c WHERE c.search_id IN (SELECT search_id FROM searches x"
        " WHERE substr(x.at, 1, 10) = substr(s.at, 1, 10) AND x.language = s.language"
        " AND COALESCE(x.category, '') = COALESCE(s.category, '') AND x.norm = s.norm)),"
        " MAX(at) FROM searches s GROUP BY 1, 2, 3, 4"
    ).fetchall()
    for day, language, category, norm, count, zero, clicked, found, clicks, last in searches:
        where = {"day": day, "language": language, "category": category}
        counts = {"searches": count, "zero_results": zero, "clicked_searches": clicked,
                  "clicked_with_results": found}  # fmt: skip
        _add(conn, "daily", where, {**counts, "clicks": clicks})
        if norm:
            form = str(_form_id(conn, language, norm, last))
            _add(conn, "form_daily", {**where, "form": form}, counts)
    articles = conn.execute(
        "SELECT substr(c.at, 1, 10), c.language, c.article_id, COUNT(*) FROM clicks c"
        " GROUP BY 1, 2, 3"
    ).fetchall()
    for day, language, article, count in articles:
        _add(conn, "article_daily", {"day": day, "language": language, "article_id": article},
             {"clicks": count}, category="")  # fmt: skip
    votes = conn.execute(
        "SELECT substr(at, 1, 10), language, article_id, SUM(helpful = 1), SUM(helpful = 0)"
        " FROM feedback GROUP BY 1, 2, 3"
    ).fetchall()
    for day, language, article, helpful, not_helpful in votes:
        counts = {"helpful": helpful, "not_helpful": not_helpful}
        _add(conn, "daily", {"day": day, "language": language, "category": ""}, counts)
        _add(conn, "article_daily", {"day": day, "language": language, "article_id": article},
             counts, category="")  # fmt: skip


def _form_id(conn: sqlite3.Connection, language: str, norm: str, at: str) -> int:
    """The number a normalised search's figures are kept under (made when new)."""
    form: int = conn.execute(
        "INSERT INTO forms (language, norm, last_seen) VALUES (?, ?, ?)"
        " ON CONFLICT (language, norm) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)"
        " RETURNING id",
        (language, norm, at),
    ).fetchone()[0]
    return form


def _add(
    conn: sqlite3.Connection,
    table: str,
    where: dict[str, str],
    counts: dict[str, int],
    **columns: str,
) -> None:
    """Add `counts` to the row of `table` keyed by `where` (made when missing): an upsert, so
    that writers never read a figure to write it back."""
    counts = {name: n for name, n in counts.items() if n}
    if not counts:
        return
    names = [*where, *columns, *counts]
    keys = ", ".join(where)
    sums = ", ".join(f"{name} = {name} + excluded.{name}" for name in counts)
    sets = "".join(f", {name} = excluded.{name}" for name in columns)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        f" ON CONFLICT ({keys}) DO UPDATE SET {sums}{sets}",
        [*where.values(), *columns.values(), *counts.values()],
    )


Migration = Sequence[str | Callable[[sqlite3.Connection], None]]
MIGRATIONS: tuple[Migration, ...] = (
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
    (  # 1 -> 2: example searches get their own time, so retention reaches each of them
        "CREATE TABLE gap_groups2 (key TEXT PRIMARY KEY, count INTEGER NOT NULL,"
        " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)",
        "CREATE TABLE gap_examples (key TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL,"
        " PRIMARY KEY (key, text))",
        _upgrade_texts,
        "DROP TABLE gap_groups",
        "ALTER TABLE gap_groups2 RENAME TO gap_groups",
        "CREATE INDEX gap_groups_count ON gap_groups (count, last_seen)",
        "CREATE INDEX gap_groups_last_seen ON gap_groups (last_seen)",
        "CREATE INDEX gap_examples_at ON gap_examples (at)",
        "CREATE INDEX searches_session ON searches (session, at)",
    ),
    (  # 2 -> 3: why an article was not helpful, picked from a short list
        "ALTER TABLE feedback ADD COLUMN reason TEXT",
    ),
    (  # 3 -> 4: every row in its language; what was logged before is English
        "ALTER TABLE searches ADD COLUMN language TEXT NOT NULL DEFAULT 'en'",
        "ALTER TABLE clicks ADD COLUMN language TEXT NOT NULL DEFAULT 'en'",
        "ALTER TABLE feedback ADD COLUMN language TEXT NOT NULL DEFAULT 'en'",
        "CREATE INDEX searches_language ON searches (language, at)",
        "DROP INDEX feedback_article",
        "CREATE INDEX feedback_article ON feedback (language, article_id, helpful)",
        # Gap groups are keyed per language: the same form in two languages is two groups.
        "CREATE TABLE gap_groups2 (language TEXT NOT NULL, key TEXT NOT NULL,"
        " count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,"
        " PRIMARY KEY (language, key))",
        "INSERT INTO gap_groups2 SELECT 'en', key, count, first_seen, last_seen FROM gap_groups",
        "DROP TABLE gap_groups",
        "ALTER TABLE gap_groups2 RENAME TO gap_groups",
        "CREATE INDEX gap_groups_count ON gap_groups (language, count, last_seen)",
        "CREATE INDEX gap_groups_last_seen ON gap_groups (last_seen)",
        "CREATE TABLE gap_examples2 (language TEXT NOT NULL, key TEXT NOT NULL,"
        " text TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (language, key, text))",
        "INSERT INTO gap_examples2 SELECT 'en', key, text, at FROM gap_examples",
        "DROP TABLE gap_examples",
        "ALTER TABLE gap_examples2 RENAME TO gap_examples",
        "CREATE INDEX gap_examples_at ON gap_examples (at)",
    ),
    (  # 4 -> 5: daily figures that outlive the raw rows (the dashboard's), and gap marks
        "ALTER TABLE searches ADD COLUMN topic TEXT",
        # Set by the first click counted: whichever process writes a search or its click first.
        "ALTER TABLE searches ADD COLUMN clicked INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE clicks ADD COLUMN position INTEGER",
        # Each event once, however often its batch is tried (a lost acknowledgement).
        "ALTER TABLE clicks ADD COLUMN event_id TEXT",
        "CREATE UNIQUE INDEX clicks_event ON clicks (event_id)",
        "ALTER TABLE feedback ADD COLUMN event_id TEXT",
        "CREATE UNIQUE INDEX feedback_event ON feedback (event_id)",
        "CREATE TABLE contacts (event_id TEXT PRIMARY KEY, at TEXT NOT NULL)",
        "CREATE INDEX contacts_at ON contacts (at)",
        "CREATE INDEX searches_norm ON searches (language, norm, at)",
        f"CREATE TABLE daily (day TEXT NOT NULL, language TEXT NOT NULL, category TEXT NOT NULL,"
        f" {_counters(daily.DAY_COUNTERS)}, PRIMARY KEY (language, day, category))",
        # A normalised search's words live while it is searched within retention; its
        # figures, by number only, for as long as the figures.
        # AUTOINCREMENT: a number is never given again to other words.
        "CREATE TABLE forms (id INTEGER PRIMARY KEY AUTOINCREMENT, language TEXT NOT NULL,"
        " norm TEXT NOT NULL, last_seen TEXT NOT NULL, UNIQUE (language, norm))",
        "CREATE INDEX forms_last_seen ON forms (last_seen)",
        f"CREATE TABLE form_daily (day TEXT NOT NULL, language TEXT NOT NULL,"
        f" category TEXT NOT NULL, form INTEGER NOT NULL, {_counters(daily.FORM_COUNTERS)},"
        " PRIMARY KEY (language, day, category, form))",
        # A form's days (a gap's life) without reading the language's whole history; and the
        # few forms that ever found nothing.
        "CREATE INDEX form_daily_form ON form_daily (language, form, day)",
        "CREATE INDEX form_daily_zero ON form_daily (language, form) WHERE zero_results > 0",
        "CREATE INDEX form_daily_day ON form_daily (day)",  # for purging
        "CREATE INDEX daily_day ON daily (day)",
        f"CREATE TABLE article_daily (day TEXT NOT NULL, language TEXT NOT NULL,"
        f" article_id TEXT NOT NULL, category TEXT NOT NULL, {_counters(daily.ARTICLE_COUNTERS)},"
        " PRIMARY KEY (language, day, article_id))",
        "CREATE INDEX article_daily_day ON article_daily (day)",
        # One row a visit that searched, while the raw rows last: the self-service share.
        "CREATE TABLE visits (language TEXT NOT NULL, session TEXT NOT NULL, at TEXT NOT NULL,"
        " category TEXT NOT NULL, clicked INTEGER NOT NULL DEFAULT 0,"
        " contacted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (language, session))",
        "CREATE INDEX visits_at ON visits (at)",
        "CREATE INDEX visits_session ON visits (session)",
        "CREATE TABLE gap_marks (language TEXT NOT NULL, form INTEGER NOT NULL,"
        " state TEXT NOT NULL, article_id TEXT, at TEXT NOT NULL, PRIMARY KEY (language, form))",
        "CREATE INDEX gap_marks_at ON gap_marks (at)",
        _count_what_was_logged,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_UNCLICKED = """
SELECT norm, query, at FROM searches s
WHERE language = :language AND result_count > 0 AND norm != ''
AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.search_id) ORDER BY at DESC
LIMIT :limit"""
_NOT_HELPFUL = """
SELECT article_id, SUM(helpful = 0), SUM(helpful = 1),
       (SELECT json_group_array(missing) FROM (SELECT missing FROM feedback m
        WHERE m.language = f.language AND m.article_id = f.article_id AND helpful = 0
        AND missing != '' GROUP BY missing ORDER BY MAX(at) DESC LIMIT :n)),
       (SELECT json_group_object(reason, n) FROM (SELECT reason, COUNT(*) AS n FROM feedback r
        WHERE r.language = f.language AND r.article_id = f.article_id AND helpful = 0
        AND reason IS NOT NULL GROUP BY reason))
FROM feedback f WHERE language = :language GROUP BY article_id HAVING SUM(helpful = 0) > 0
ORDER BY SUM(helpful = 0) DESC, article_id LIMIT :limit"""
# A search that was clicked, and a search that found nothing but was followed, in the same
# visit, the same language and soon after, by a search that was clicked.
_EVIDENCE = """
SELECT s.search_id, s.query, c.article_id FROM searches s JOIN clicks c USING (search_id)
WHERE s.language = :language
UNION
SELECT z.search_id, z.query, c.article_id
FROM searches z
JOIN searches s ON s.session = z.session AND s.language = z.language AND s.at > z.at
     AND julianday(s.at) - julianday(z.at) <= :minutes / 1440.0
JOIN clicks c ON c.search_id = s.search_id
WHERE z.language = :language AND z.result_count = 0 AND z.session IS NOT NULL
"""
# A search that failed (it found nothing, or nothing it showed was opened), and the first search
# of the same visit, in the same language, soon after, that was clicked: the customer said it
# again in other words (a visit that switches language translates, it does not rephrase).
_REFORMULATIONS = """
SELECT u.search_id, u.query, c.article_id
FROM searches u
JOIN clicks c ON c.search_id = (
    SELECT s.search_id FROM searches s
    WHERE s.session = u.session AND s.language = u.language AND s.at > u.at
      AND julianday(s.at) - julianday(u.at) <= :minutes / 1440.0
      AND EXISTS (SELECT 1 FROM clicks k WHERE k.search_id = s.search_id)
    ORDER BY s.at LIMIT 1)
WHERE u.language = :language AND u.session IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM clicks x WHERE x.search_id = u.search_id)
"""
# Per normalised search since a time: the visits that made it (a row with no article), and per
# article the visits that clicked it. A visit counts once however often it searched or clicked;
# a search without a visit id is a visit of its own. Category-filtered searches rank otherwise.
_CLICK_COUNTS = """
WITH recent AS (
    SELECT search_id, norm, query, COALESCE(session, search_id) AS visit FROM searches
    WHERE language = :language AND at >= :since AND result_count > 0 AND norm != ''
      AND category IS NULL),
searched AS (
    SELECT norm, COUNT(DISTINCT visit) AS visits, MAX(query) AS example FROM recent
    GROUP BY norm HAVING COUNT(DISTINCT visit) >= :min_visits)
SELECT norm, NULL, visits, example FROM searched
UNION ALL
SELECT r.norm, c.article_id, COUNT(DISTINCT r.visit), NULL
FROM recent r JOIN searched USING (norm) JOIN clicks c USING (search_id)
GROUP BY r.norm, c.article_id
"""


_WHOLE = re.compile(r"[0-9]{1,19}")
# A form in the figures: its words while kept, else its number (`#12`).
_FORM_KEY = "COALESCE(f.norm, '#' || d.form)"


def _form_ids(conn: sqlite3.Connection, language: str, keys: Sequence[str]) -> list[int]:
    """The numbers of forms given by their words or as `#<number>`."""
    numbers = [int(k[1:]) for k in keys if k[:1] == "#" and _WHOLE.fullmatch(k[1:])]
    ids = [
        n
        for n in numbers
        if n < 2**63  # and that the figures know: a mark never waits for words to come
        and conn.execute(
            "SELECT 1 FROM form_daily WHERE language = ? AND form = ? LIMIT 1", (language, n)
        ).fetchone()
    ]
    words = [k for k in keys if not k.startswith("#")]
    for start in range(0, len(words), 500):
        chunk = words[start : start + 500]
        rows = conn.execute(
            f"SELECT id FROM forms WHERE language = ? AND norm IN ({','.join('?' * len(chunk))})",
            [language, *chunk],
        )
        ids += [row[0] for row in rows]
    return ids


def clean(text: str | None) -> str | None:
    """Redacted, bounded, and storable: full-width and other look-alike characters folded
    (NFKC: a full-width at sign makes an email too), invisible format characters (zero-width spaces,
    right-to-left overrides) dropped, lone surrogates replaced."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text[:MAX_TEXT].encode("utf-8", "replace").decode())
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return redact(visible)


def clean_search(query: str, corrected: str | None) -> tuple[str, str | None]:
    """A search's text and its spelling-corrected form, each redacted, and neither revealing
    what the other hid: a misspelled cue ("pasword Sommar2024!") is recognised only in the
    corrected form, and a correction can mangle what redaction recognised ("dot" -> "do")."""
    text, fixed = clean(query) or "", clean(corrected)
    if fixed is None:
        return text, None
    hidden_in_text, hidden_in_fixed = (
        len(PLACEHOLDER.findall(text)),
        len(PLACEHOLDER.findall(fixed)),
    )
    if hidden_in_fixed > hidden_in_text:
        return fixed, fixed  # the customer's own spelling is lost; their data is not stored
    if hidden_in_fixed < hidden_in_text:
        return text, None
    return text, fixed


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


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode, with the schema created or upgraded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # customers' words: for the service's user only (SQLite's own
        path.touch(mode=0o600)  # -wal and -shm files copy these permissions)
    conn = sqlite3.connect(path, timeout=_LOCK_WAIT_SECONDS, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # 64 MB of pages (the default is 2 MB): a big log's indexes of random ids stay in memory.
        conn.execute("PRAGMA cache_size = -65536")
        # Deleted text is overwritten, not left in free pages (not every SQLite build does it).
        conn.execute("PRAGMA secure_delete = ON")
        if _schema_version(conn) != SCHEMA_VERSION:
            with _transaction(conn):  # another process may have migrated meanwhile: ask again
                version = _schema_version(conn)
                if version > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{path}: query log schema {version} is newer than this code"
                    )
                for steps in MIGRATIONS[version:]:
                    for step in steps:
                        conn.execute(step) if isinstance(step, str) else step(conn)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


def _write_searches(conn: sqlite3.Connection, group: list[SearchEvent], tally: Tally) -> None:
    """Searches alike but for id and time: one redaction, one insert, one gap-count update."""
    first = group[0]
    query, corrected = clean_search(first.query, first.corrected)
    # Grouped by its own language's analysis (`query` is redacted already).
    norm = language_of(first.language).normalise(query)
    ids = [e.search_id for e in group]
    stored = {  # a retried batch is not counted twice
        row[0]
        for start in range(0, len(ids), 500)
        for row in conn.execute(
            "SELECT search_id FROM searches WHERE search_id IN"
            f" ({','.join('?' * len(ids[start : start + 500]))})",
            ids[start : start + 500],
        )
    }
    new = [e for e in group if e.search_id not in stored]
    if not new:
        return
    rows = [
        (e.search_id, iso(e.at), query, norm, e.result_count, e.top_result, e.category,
         corrected, e.session, e.language, e.topic)
        for e in new
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO searches (search_id, at, query, norm, result_count, top_result,"
        " category, corrected, session, language, topic) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    visits = [
        e
        for e in new
        if e.session
        and conn.execute(
            "INSERT OR IGNORE INTO visits (language, session, at, category) VALUES (?, ?, ?, ?)",
            (e.language, e.session, iso(e.at), e.topic or ""),
        ).rowcount
    ]
    form = _form_id(conn, first.language, norm, max(row[1] for row in rows)) if norm else None
    tally.searches(new, form, visits)
    _count_early_clicks(conn, new, form, tally)
    if first.result_count > 0 or not norm:
        return
    times = sorted(row[1] for row in rows)
    group_of = {"language": first.language, "key": norm}
    conn.execute(
        "INSERT INTO gap_groups VALUES (:language, :key, :n, :first, :last)"
        " ON CONFLICT (language, key) DO UPDATE SET count = count + :n,"
        " first_seen = min(first_seen, :first), last_seen = max(last_seen, :last)",
        {**group_of, "n": len(new), "first": times[0], "last": times[-1]},
    )
    conn.execute(
        "INSERT INTO gap_examples VALUES (?, ?, ?, ?) ON CONFLICT (language, key, text)"
        " DO UPDATE SET at = max(at, excluded.at)",
        (first.language, norm, query, times[-1]),
    )
    conn.execute(  # the newest few examples of a group are kept, not its first few forever
        "DELETE FROM gap_examples WHERE language = :language AND key = :key AND text NOT IN"
        " (SELECT text FROM gap_examples WHERE language = :language AND key = :key"
        " ORDER BY at DESC LIMIT :n)",
        {**group_of, "n": MAX_EXAMPLES},
    )


def _visit(conn: sqlite3.Connection, language: str, session: str | None) -> Visit | None:
    row = conn.execute(
        "SELECT at, category, clicked, contacted FROM visits WHERE language = ? AND session = ?",
        (language, session),
    ).fetchone()
    return None if row is None else Visit(day_of(row[0]), row[1], bool(row[2]), bool(row[3]))


def _first_click(conn: sqlite3.Connection, search_id: str) -> bool:
    """Whether this is the first click counted for the search (and mark it counted)."""
    marked = conn.execute(
        "UPDATE searches SET clicked = 1 WHERE search_id = ? AND clicked = 0", (search_id,)
    )
    return marked.rowcount == 1


def _search_clicked(
    conn: sqlite3.Connection,
    tally: Tally,
    search: tuple[str, str, str, int | None, str | None, int, str],
    position: int | None,
) -> None:
    """Count a click for its search (at, language, topic, form, session, results, id)."""
    at, language, topic, form, session, results, search_id = search
    visit = _visit(conn, language, session) if session else None
    first = _first_click(conn, search_id)
    logged = LoggedSearch(day_of(at), language, topic, form, not first, found=results > 0)
    tally.search_clicked(logged, position, visit)
    if visit is not None and not visit.clicked:
        conn.execute(
            "UPDATE visits SET clicked = 1 WHERE language = ? AND session = ?", (language, session)
        )


_SEARCH_OF_CLICK = (
    "SELECT at, s.language, COALESCE(topic, ''), f.id, session, result_count, search_id"
    " FROM searches s LEFT JOIN forms f ON f.language = s.language AND f.norm = s.norm"
)


def _write_click(conn: sqlite3.Connection, event: ClickEvent, tally: Tally) -> None:
    row = conn.execute(_SEARCH_OF_CLICK + " WHERE search_id = ?", (event.search_id,)).fetchone()
    stored = conn.execute(
        "INSERT OR IGNORE INTO clicks (search_id, article_id, at, language, position, event_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (event.search_id, event.article_id, iso(event.at), event.language, event.position,
         event.event_id),
    )  # fmt: skip
    if not stored.rowcount:
        return  # written before: a batch tried again
    tally.click(event, None, None)  # the article's figures
    if row is not None:  # else: its search is not written yet (counted then), or was purged
        _search_clicked(conn, tally, row, event.position)


def _count_early_clicks(
    conn: sqlite3.Connection, new: list[SearchEvent], form: int | None, tally: Tally
) -> None:
    """Clicks another process wrote before these searches: counted for them now."""
    ids = [e.search_id for e in new]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        early = conn.execute(
            f"SELECT search_id, position FROM clicks WHERE search_id IN"
            f" ({','.join('?' * len(chunk))}) ORDER BY at",
            chunk,
        ).fetchall()
        for search_id, position in early:
            row = conn.execute(_SEARCH_OF_CLICK + " WHERE search_id = ?", (search_id,)).fetchone()
            _search_clicked(conn, tally, row, position)


def _write_contact(conn: sqlite3.Connection, event: ContactEvent, tally: Tally) -> None:
    """A contact view ends the visit's self-service in every language it searched (a Swedish
    visit may write to us from the English article it was offered)."""
    stored = conn.execute(
        "INSERT OR IGNORE INTO contacts VALUES (?, ?)", (event.event_id, iso(event.at))
    )
    if not stored.rowcount:
        return  # written before: a batch tried again
    rows = conn.execute(
        "SELECT language, at, category, clicked, contacted FROM visits WHERE session = ?",
        (event.session,),
    ).fetchall()
    for language, at, category, clicked, contacted in rows:
        visit = Visit(day_of(at), category, bool(clicked), bool(contacted))
        if visit.contacted and not visit.clicked:
            continue  # nothing changes
        tally.contact(replace(event, language=language), visit)
        conn.execute(
            "UPDATE visits SET clicked = 0, contacted = 1 WHERE language = ? AND session = ?",
            (language, event.session),
        )


def _write_event(conn: sqlite3.Connection, event: Event, tally: Tally) -> None:
    if isinstance(event, ClickEvent):
        _write_click(conn, event, tally)
    elif isinstance(event, ContactEvent):
        _write_contact(conn, event, tally)
    elif isinstance(event, FeedbackEvent):
        stored = conn.execute(
            "INSERT OR IGNORE INTO feedback (article_id, helpful, missing, search_id, at, reason,"
            " language, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.article_id,
                int(event.helpful),
                clean(event.missing),
                event.search_id,
                iso(event.at),
                event.reason,
                event.language,
                event.event_id,
            ),
        )
        if stored.rowcount:  # else written before: a batch tried again
            tally.feedback(event)


def _stored_groups(rows: Iterable[tuple[str, int, str, str]]) -> list[GapGroup]:
    return [
        GapGroup(key, count, datetime.fromisoformat(first), datetime.fromisoformat(last))
        for key, count, first, last in rows
    ]


class SQLiteStore:
    """Stores events for the writer thread and answers the reports' questions."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None  # the writer thread's own
        self._identity: tuple[int, int] | None = None
        self.recreated = 0  # times the file vanished (deleted, replaced) and was made anew

    # --- writing (the writer thread) -----------------------------------------------------------

    def write(self, batch: Batch) -> None:
        try:
            conn = self._connection()
            with _transaction(conn):
                tally = Tally()
                for group in batch:
                    if isinstance(group[0], SearchEvent):
                        _write_searches(conn, group, tally)  # type: ignore[arg-type]
                    else:
                        for event in group:
                            _write_event(conn, event, tally)
                for table, where, counts, columns in tally.increments():
                    _add(conn, table, where, counts, **columns)
        except sqlite3.OperationalError as error:
            self.close()
            if any(word in str(error).lower() for word in _BUSY):
                raise StoreBusy(f"{self.path}: {error}") from error
            raise
        except OSError as error:  # the folder cannot be made or read
            self.close()
            raise StoreBusy(f"{self.path}: {error}") from error

    def _connection(self) -> sqlite3.Connection:
        """The open connection, or a new one when the file was deleted or replaced."""
        try:
            stat = os.stat(self.path)
            identity: tuple[int, int] | None = (stat.st_dev, stat.st_ino)
        except FileNotFoundError:
            identity = None
        if self._conn is not None and identity != self._identity:
            log.warning("query log %s was deleted or replaced; starting a new file", self.path)
            self.recreated += 1
            self.close()
        if self._conn is None:
            self._conn = connect(self.path)
            stat = os.stat(self.path)
            self._identity = (stat.st_dev, stat.st_ino)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn, self._identity = None, None

    # --- reading (reports, any thread) ---------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(connect(self.path)) as conn:
                yield conn
        except sqlite3.OperationalError as error:  # locked by an upgrade, say: try later
            raise StoreBusy(f"the query log is busy: {error}") from error

    def gap_groups(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[GapGroup]:
        """The most searched groups of one language's unanswered searches, without examples."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT key, count, first_seen, last_seen FROM gap_groups WHERE language = ?"
                " ORDER BY count DESC, last_seen DESC LIMIT ?",
                (language, limit),
            )
            return _stored_groups(rows)

    def gap_examples(
        self, keys: Sequence[str], language: str = DEFAULT_LANGUAGE
    ) -> dict[str, list[tuple[str, datetime]]]:
        """The stored example searches of each of one language's group keys, newest first."""
        found: dict[str, list[tuple[str, datetime]]] = {}
        with self._reading() as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT key, text, at FROM gap_examples"
                    f" WHERE language = ? AND key IN ({marks}) ORDER BY at DESC",
                    [language, *chunk],
                )
                for key, text, at in rows:
                    found.setdefault(key, []).append((text, datetime.fromisoformat(at)))
        return found

    def unclicked(
        self, limit: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, datetime]]:
        """(form, query, time) of the latest searches with results and no click."""
        with self._reading() as conn:
            rows = conn.execute(_UNCLICKED, {"limit": limit, "language": language}).fetchall()
        return [(norm, query, datetime.fromisoformat(at)) for norm, query, at in rows]

    def not_helpful(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[ArticleFeedback]:
        """Articles voted not helpful in one language, with why and what was missing."""
        params = {"n": MAX_EXAMPLES, "limit": limit, "language": language}
        with self._reading() as conn:
            rows = conn.execute(_NOT_HELPFUL, params).fetchall()
        return [ArticleFeedback(a, n, h, json.loads(m), json.loads(r)) for a, n, h, m, r in rows]

    def evidence(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        """(search id, query, clicked article) for each search that led to a click."""
        params = {"minutes": follow_up_minutes, "language": language}
        with self._reading() as conn:
            rows = conn.execute(_EVIDENCE, params).fetchall()
        return [(str(s), str(q or ""), str(a)) for s, q, a in rows]

    def reformulations(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        """(search id, query, article clicked after) for each search that found nothing or was
        not clicked, with the article opened from the first search of the same visit, soon
        after, that was clicked."""
        params = {"minutes": follow_up_minutes, "language": language}
        with self._reading() as conn:
            rows = conn.execute(_REFORMULATIONS, params).fetchall()
        return [(str(s), str(q or ""), str(a)) for s, q, a in rows]

    def click_counts(
        self, since: datetime, min_visits: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str | None, int, str | None]]:
        """(form, None, visits, an example query) for each normalised search in `language` made
        by at least `min_visits` visits since `since`, and (form, article, visits that clicked
        it, None) for each article clicked after one of them."""
        params = {"since": iso(since), "min_visits": min_visits, "language": language}
        with self._reading() as conn:
            rows = conn.execute(_CLICK_COUNTS, params).fetchall()
        return [(str(n), None if a is None else str(a), int(v), q) for n, a, v, q in rows]

    # --- the dashboard's figures (kb_search.querylog.insights) ---------------------------------

    def day_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[Any, ...]]:
        """(day, *DAY_COUNTERS) for each day from `start` to `end` (inclusive) with figures."""
        sums = ", ".join(f"SUM({name})" for name in daily.DAY_COUNTERS)
        with self._reading() as conn:
            return conn.execute(
                f"SELECT day, {sums} FROM daily WHERE language = ? AND day BETWEEN ? AND ?"
                " AND (? IS NULL OR category = ?) GROUP BY day ORDER BY day",
                (language, start, end, category, category),
            ).fetchall()

    def form_figures(
        self, start: str, end: str, since: str, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, int, int, int]]:
        """(form, searches, zero results, opened with results) from `since` to `end`, then the same
        three before `since` (from `start`), for each form searched since `since`. A form is
        its words, or `#<number>` once they are past retention."""
        with self._reading() as conn:
            return conn.execute(
                f"SELECT {_FORM_KEY}, SUM(searches * (day >= :since)),"
                " SUM(zero_results * (day >= :since)), SUM(clicked_with_results * (day >= :since)),"
                " SUM(searches * (day < :since)), SUM(zero_results * (day < :since)),"
                " SUM(clicked_with_results * (day < :since)) FROM form_daily d"
                " LEFT JOIN forms f ON f.id = d.form WHERE d.language = :language"
                " AND day BETWEEN :start AND :end AND (:category IS NULL OR category = :category)"
                " GROUP BY d.form HAVING SUM(searches * (day >= :since)) > 0",
                {"start": start, "end": end, "since": since, "language": language,
                 "category": category},
            ).fetchall()  # fmt: skip

    def gap_forms(
        self, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, str, str]]:
        """(form, searches, zero results, opened with results, first day, last day) of each form
        that ever found nothing, over every day kept."""
        with self._reading() as conn:
            return conn.execute(
                f"SELECT {_FORM_KEY}, SUM(searches), SUM(zero_results), SUM(clicked_with_results),"
                " MIN(CASE WHEN zero_results > 0 THEN day END), MAX(day) FROM form_daily d"
                " LEFT JOIN forms f ON f.id = d.form WHERE d.language = :language"
                " AND d.form IN (SELECT form FROM form_daily WHERE language = :language"
                " AND zero_results > 0) AND (:category IS NULL OR category = :category)"
                " GROUP BY d.form HAVING SUM(zero_results) > 0",
                {"language": language, "category": category},
            ).fetchall()

    def form_days(
        self, forms: Sequence[str], language: str, category: str | None
    ) -> list[tuple[str, int, int, int]]:
        """(day, searches, zero results, opened with results) of the forms together, by day."""
        with self._reading() as conn:
            ids = _form_ids(conn, language, forms)
            marks = ",".join("?" * len(ids))
            return conn.execute(
                "SELECT day, SUM(searches), SUM(zero_results), SUM(clicked_with_results)"
                " FROM form_daily INDEXED BY form_daily_form"
                f" WHERE language = ? AND form IN ({marks})"
                " AND (? IS NULL OR category = ?) GROUP BY day ORDER BY day",
                [language, *ids, category, category],
            ).fetchall()

    def article_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[str, str, int, int, int]]:
        """(article, category, clicks, helpful, not helpful) from `start` to `end`."""
        with self._reading() as conn:
            return conn.execute(
                "SELECT article_id, MAX(category), SUM(clicks), SUM(helpful), SUM(not_helpful)"
                " FROM article_daily WHERE language = ? AND day BETWEEN ? AND ?"
                " AND (? IS NULL OR category = ?) GROUP BY article_id",
                (language, start, end, category, category),
            ).fetchall()

    def latest_queries(self, forms: Sequence[str], language: str) -> dict[str, str]:
        """The latest search of each form still kept (redacted): how customers wrote it."""
        found: dict[str, str] = {}
        with self._reading() as conn:
            for form in forms:
                if form.startswith("#"):
                    continue
                row = conn.execute(
                    "SELECT query FROM searches WHERE language = ? AND norm = ?"
                    " ORDER BY at DESC LIMIT 1",
                    (language, form),
                ).fetchone()
                if row:
                    found[form] = row[0]
        return found

    def missing_texts(
        self, articles: Sequence[str], start: str, end: str, language: str
    ) -> dict[str, list[str]]:
        """What was missing from each article, newest first (redacted; kept while the raw
        feedback is)."""
        found: dict[str, list[str]] = {}
        with self._reading() as conn:
            for article in articles:
                rows = conn.execute(
                    "SELECT missing FROM feedback WHERE language = ? AND article_id = ?"
                    " AND helpful = 0 AND missing != '' AND substr(at, 1, 10) BETWEEN ? AND ?"
                    " GROUP BY missing ORDER BY MAX(at) DESC LIMIT ?",
                    (language, article, start, end, MAX_EXAMPLES),
                )
                found[article] = [row[0] for row in rows]
        return found

    def gap_marks(self, language: str) -> dict[str, tuple[str, str | None, datetime]]:
        """Each marked group's form: (answered or dismissed, the answering article, when)."""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_FORM_KEY}, state, article_id, at FROM gap_marks d"
                " LEFT JOIN forms f ON f.id = d.form WHERE d.language = ?",
                (language,),
            ).fetchall()
        return {
            key: (state, article, datetime.fromisoformat(at)) for key, state, article, at in rows
        }

    def mark_gap(
        self, language: str, key: str, state: str | None, article: str | None, at: datetime
    ) -> None:
        """Mark the group of form `key` answered (by `article`) or dismissed; `state` None takes
        the mark back. ValueError for a form the log does not have."""
        with self._reading() as conn, _transaction(conn):
            ids = _form_ids(conn, language, [key])
            if not ids:
                raise ValueError(f"no searches of {key[:60]!r} are kept")
            conn.execute(
                "DELETE FROM gap_marks WHERE language = ? AND form = ?", (language, ids[0])
            )
            if state is not None:
                conn.execute(
                    "INSERT INTO gap_marks VALUES (?, ?, ?, ?, ?)",
                    (language, ids[0], state, article, iso(at)),
                )

    def purge(self, cutoff: datetime, figures_cutoff: datetime | None = None) -> int:
        """Delete every row and text older than `cutoff`, and the daily figures older than
        `figures_cutoff`; returns raw rows deleted."""
        at = iso(cutoff)
        with self._reading() as conn, _transaction(conn):
            deleted = [
                conn.execute(f"DELETE FROM {table} WHERE at < ?", (at,)).rowcount
                for table in ("searches", "clicks", "feedback")
            ]
            conn.execute("DELETE FROM gap_examples WHERE at < ?", (at,))
            conn.execute("DELETE FROM gap_groups WHERE last_seen < ?", (at,))
            conn.execute("DELETE FROM visits WHERE at < ?", (at,))
            conn.execute("DELETE FROM contacts WHERE at < ?", (at,))
            conn.execute("DELETE FROM forms WHERE last_seen < ?", (at,))  # the words, not figures
            if figures_cutoff is not None:
                day = iso(figures_cutoff)[:10]
                for table in daily.KEYS:
                    conn.execute(f"DELETE FROM {table} WHERE day < ?", (day,))
                conn.execute("DELETE FROM gap_marks WHERE at < ?", (iso(figures_cutoff),))
                # Figures of forms whose words are gone remain, by number, until here.
        with self._reading() as conn:
            # The write-ahead log still holds the deleted rows' pages until checkpointed.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(deleted)

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "recreated": self.recreated}

    def migrate(self) -> tuple[int, int]:
        """Create or upgrade the schema now, as the first write would: (before, after)."""
        before = 0
        if self.path.exists():
            with closing(sqlite3.connect(self.path)) as conn:
                before = _schema_version(conn)
        connect(self.path).close()
        return before, SCHEMA_VERSION
