"""The query log in PostgreSQL: one database that every replica of the service writes to.

The same contract as `sqlite.SQLiteStore` (the same tables and columns, the same answers in the
same Python types), for several writers at once under READ COMMITTED:
- a batch is one transaction of a few set-wise statements (arrays `unnest`ed: one round trip a
  table, with RETURNING to say which rows are new), whatever its size;
- a retried batch counts once: searches are keyed by their id, clicks, feedback and contact
  events by their `event_id`, and only rows that were new are counted;
- counters (gap groups, daily figures) are added with upserts, never read and written back;
- the few facts a rule reads (was this search clicked before, the visit's last step, a click
  that another replica wrote before its search) are read and counted by one replica at a
  time: the end of each batch holds an advisory lock (TALLY_LOCK), and sees what the replica
  before it committed. The rest of the batch (most of its work) runs side by side;
- rows are locked in one order (by key, table after table), so writers wait, not deadlock;
- a database that cannot be reached raises `StoreBusy`, and the writer tries again;
- the schema is migrated under an advisory lock, and purged by one replica at a time.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

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
from kb_search.querylog.gaps import MAX_EXAMPLES, ArticleFeedback, GapGroup
from kb_search.querylog.sqlite import clean, clean_search
from kb_search.querylog.writer import Batch, StoreBusy
from kb_search.text import language as language_of

Connection = psycopg.Connection[tuple[Any, ...]]

# Advisory lock keys ("kb-log" and a number; each database has its own): migrating the
# schema, purging, and counting what a batch must read first (see above).
SCHEMA_LOCK = 0x6B62_2D6C_6F67_0001
PURGE_LOCK = 0x6B62_2D6C_6F67_0002
TALLY_LOCK = 0x6B62_2D6C_6F67_0003
PURGE_BATCH = 10_000  # rows one DELETE takes: each is its own short transaction
POOL_SIZE = 4  # the writer thread, and the dashboard's and reports' reads
CONNECT_SECONDS = 5.0  # how long a caller waits for a connection before StoreBusy
# SQLSTATE classes that pass: the connection (08), a rolled-back transaction (40: deadlock,
# serialization), resources (53: disk full, too many connections), operator intervention
# (57: shut down, starting up, cancelled) and system errors (58: I/O).
_BUSY_CLASSES = ("08", "40", "53", "57", "58")

_TEXT = 'TEXT COLLATE "C"'  # compared and sorted by code point, as SQLite does
_TIME = "TIMESTAMPTZ"


def _counters(names: Sequence[str]) -> str:
    return ", ".join(f"{name} BIGINT NOT NULL DEFAULT 0" for name in names)


# The logical schema of sqlite.py's SCHEMA_VERSION: the same tables and columns (times as
# timestamptz, days as date, flags as boolean), and each click, feedback and contact event's
# id, so that a batch retried after a lost acknowledgement is not counted twice.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 0 -> 1
        f"CREATE TABLE searches (search_id {_TEXT} PRIMARY KEY, at {_TIME} NOT NULL,"
        f" query {_TEXT} NOT NULL, norm {_TEXT} NOT NULL, result_count BIGINT NOT NULL,"
        f" top_result {_TEXT}, category {_TEXT}, corrected {_TEXT}, session {_TEXT},"
        f" language {_TEXT} NOT NULL DEFAULT 'en', topic {_TEXT},"
        # Set by the first click counted: whichever replica writes a search or its click first.
        " clicked BOOLEAN NOT NULL DEFAULT FALSE)",
        "CREATE INDEX searches_at ON searches (at)",
        "CREATE INDEX searches_session ON searches (session, at)",
        "CREATE INDEX searches_language ON searches (language, at)",
        "CREATE INDEX searches_norm ON searches (language, norm, at)",
        f"CREATE TABLE clicks (search_id {_TEXT} NOT NULL, article_id {_TEXT} NOT NULL,"
        f" at {_TIME} NOT NULL, language {_TEXT} NOT NULL DEFAULT 'en', position BIGINT,"
        f" event_id {_TEXT} PRIMARY KEY)",
        "CREATE INDEX clicks_search ON clicks (search_id)",
        "CREATE INDEX clicks_at ON clicks (at)",
        f"CREATE TABLE feedback (article_id {_TEXT} NOT NULL, helpful BOOLEAN NOT NULL,"
        f" missing {_TEXT}, search_id {_TEXT}, at {_TIME} NOT NULL, reason {_TEXT},"
        f" language {_TEXT} NOT NULL DEFAULT 'en', event_id {_TEXT} PRIMARY KEY)",
        "CREATE INDEX feedback_at ON feedback (at)",
        "CREATE INDEX feedback_article ON feedback (language, article_id, helpful)",
        # SQLite keeps no row of a contact event; here its id, while the raw rows last.
        f"CREATE TABLE contacts (event_id {_TEXT} PRIMARY KEY, at {_TIME} NOT NULL)",
        "CREATE INDEX contacts_at ON contacts (at)",
        f"CREATE TABLE gap_groups (language {_TEXT} NOT NULL, key {_TEXT} NOT NULL,"
        f" count BIGINT NOT NULL, first_seen {_TIME} NOT NULL, last_seen {_TIME} NOT NULL,"
        " PRIMARY KEY (language, key))",
        "CREATE INDEX gap_groups_count ON gap_groups (language, count, last_seen)",
        "CREATE INDEX gap_groups_last_seen ON gap_groups (last_seen)",
        f"CREATE TABLE gap_examples (language {_TEXT} NOT NULL, key {_TEXT} NOT NULL,"
        f" text {_TEXT} NOT NULL, at {_TIME} NOT NULL, PRIMARY KEY (language, key, text))",
        "CREATE INDEX gap_examples_at ON gap_examples (at)",
        f"CREATE TABLE daily (day DATE NOT NULL, language {_TEXT} NOT NULL,"
        f" category {_TEXT} NOT NULL, {_counters(daily.DAY_COUNTERS)},"
        " PRIMARY KEY (language, day, category))",
        # An identity is never given again, like SQLite's AUTOINCREMENT.
        f"CREATE TABLE forms (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        f" language {_TEXT} NOT NULL, norm {_TEXT} NOT NULL, last_seen {_TIME} NOT NULL,"
        " UNIQUE (language, norm))",
        "CREATE INDEX forms_last_seen ON forms (last_seen)",
        f"CREATE TABLE form_daily (day DATE NOT NULL, language {_TEXT} NOT NULL,"
        f" category {_TEXT} NOT NULL, form BIGINT NOT NULL, {_counters(daily.FORM_COUNTERS)},"
        " PRIMARY KEY (language, day, category, form))",
        "CREATE INDEX form_daily_form ON form_daily (language, form)",
        "CREATE INDEX form_daily_day ON form_daily (day)",  # for purging
        "CREATE INDEX daily_day ON daily (day)",
        f"CREATE TABLE article_daily (day DATE NOT NULL, language {_TEXT} NOT NULL,"
        f" article_id {_TEXT} NOT NULL, category {_TEXT} NOT NULL,"
        f" {_counters(daily.ARTICLE_COUNTERS)}, PRIMARY KEY (language, day, article_id))",
        "CREATE INDEX article_daily_day ON article_daily (day)",
        f"CREATE TABLE visits (language {_TEXT} NOT NULL, session {_TEXT} NOT NULL,"
        f" at {_TIME} NOT NULL, category {_TEXT} NOT NULL,"
        " clicked BOOLEAN NOT NULL DEFAULT FALSE, contacted BOOLEAN NOT NULL DEFAULT FALSE,"
        " PRIMARY KEY (language, session))",
        "CREATE INDEX visits_at ON visits (at)",
        "CREATE INDEX visits_session ON visits (session)",
        f"CREATE TABLE gap_marks (language {_TEXT} NOT NULL, form BIGINT NOT NULL,"
        f" state {_TEXT} NOT NULL, article_id {_TEXT}, at {_TIME} NOT NULL,"
        " PRIMARY KEY (language, form))",
        "CREATE INDEX gap_marks_at ON gap_marks (at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COUNTERS = {
    "daily": daily.DAY_COUNTERS,
    "form_daily": daily.FORM_COUNTERS,
    "article_daily": daily.ARTICLE_COUNTERS,
}
_ARRAY_TYPES = {"day": "date", "form": "bigint"}  # other key columns are text


def _upsert_sql(table: str) -> str:
    """Add each row's counters to the row of its key (made when missing)."""
    extra = ("category",) if table == "article_daily" else ()
    counters = _COUNTERS[table]
    columns = [*daily.KEYS[table], *extra, *counters]
    arrays = ", ".join(
        f"%s::{'bigint' if c in counters else _ARRAY_TYPES.get(c, 'text')}[]" for c in columns
    )
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    sets = "".join(f", {c} = excluded.{c}" for c in extra)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        f" ON CONFLICT ({', '.join(daily.KEYS[table])}) DO UPDATE SET {sums}{sets}"
    )


_UPSERTS = {table: _upsert_sql(table) for table in daily.KEYS}

_UNCLICKED = """
SELECT norm, query, at FROM searches s
WHERE language = %(language)s AND result_count > 0 AND norm <> ''
AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.search_id) ORDER BY at DESC
LIMIT %(limit)s"""
_NOT_HELPFUL = """
SELECT article_id, COUNT(*) FILTER (WHERE NOT helpful), COUNT(*) FILTER (WHERE helpful),
       ARRAY(SELECT m.missing FROM feedback m
        WHERE m.language = f.language AND m.article_id = f.article_id AND NOT m.helpful
        AND m.missing <> '' GROUP BY m.missing ORDER BY MAX(m.at) DESC LIMIT %(n)s),
       (SELECT json_object_agg(reason, n ORDER BY reason) FROM (SELECT r.reason, COUNT(*) AS n
        FROM feedback r WHERE r.language = f.language AND r.article_id = f.article_id
        AND NOT r.helpful AND r.reason IS NOT NULL GROUP BY r.reason) AS reasons)
FROM feedback f WHERE language = %(language)s GROUP BY language, article_id
HAVING COUNT(*) FILTER (WHERE NOT helpful) > 0
ORDER BY COUNT(*) FILTER (WHERE NOT helpful) DESC, article_id LIMIT %(limit)s"""
# As sqlite.py's: see there for what each one asks.
_SOON_AFTER = "s.at > {earlier}.at AND s.at <= {earlier}.at + %(minutes)s * interval '1 minute'"
_EVIDENCE = f"""
SELECT s.search_id, s.query, c.article_id FROM searches s JOIN clicks c USING (search_id)
WHERE s.language = %(language)s
UNION
SELECT z.search_id, z.query, c.article_id
FROM searches z
JOIN searches s ON s.session = z.session AND s.language = z.language
     AND {_SOON_AFTER.format(earlier="z")}
JOIN clicks c ON c.search_id = s.search_id
WHERE z.language = %(language)s AND z.result_count = 0 AND z.session IS NOT NULL
ORDER BY 1, 2, 3
"""
_REFORMULATIONS = f"""
SELECT u.search_id, u.query, c.article_id
FROM searches u
JOIN clicks c ON c.search_id = (
    SELECT s.search_id FROM searches s
    WHERE s.session = u.session AND s.language = u.language AND {_SOON_AFTER.format(earlier="u")}
      AND EXISTS (SELECT 1 FROM clicks k WHERE k.search_id = s.search_id)
    ORDER BY s.at LIMIT 1)
WHERE u.language = %(language)s AND u.session IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM clicks x WHERE x.search_id = u.search_id)
ORDER BY u.at, u.search_id, c.article_id
"""
_CLICK_COUNTS = """
WITH recent AS (
    SELECT search_id, norm, query, COALESCE(session, search_id) AS visit FROM searches
    WHERE language = %(language)s AND at >= %(since)s AND result_count > 0 AND norm <> ''
      AND category IS NULL),
searched AS (
    SELECT norm, COUNT(DISTINCT visit) AS visits, MAX(query) AS example FROM recent
    GROUP BY norm HAVING COUNT(DISTINCT visit) >= %(min_visits)s)
SELECT norm, NULL, visits, example FROM searched
UNION ALL
SELECT r.norm, c.article_id, COUNT(DISTINCT r.visit), NULL
FROM recent r JOIN searched USING (norm) JOIN clicks c USING (search_id)
GROUP BY r.norm, c.article_id
"""
# A form in the figures: its words while kept, else its number (`#12`).
_FORM_KEY = "COALESCE(f.norm, '#' || d.form)"
_WHOLE = re.compile(r"[0-9]{1,19}")
_DAY = "to_char({}, 'YYYY-MM-DD')"  # days as sqlite.py returns them


def _is_busy(error: psycopg.Error) -> bool:
    """An error that passes (see _BUSY_CLASSES); one without a SQLSTATE is the client's: no
    connection could be made, or it was lost."""
    if isinstance(error, PoolTimeout):
        return True
    if error.sqlstate is None:
        return isinstance(error, psycopg.OperationalError)
    return error.sqlstate[:2] in _BUSY_CLASSES


def safe_url(url: str) -> str:
    """The URL without its password, to show and to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port is not None:
        netloc += f":{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _text(value: str | None) -> str | None:
    """PostgreSQL text holds no NUL character (SQLite's does): it is stored as U+FFFD."""
    return None if value is None else value.replace("\x00", "\ufffd")


def _utc(moment: datetime) -> datetime:
    """Aware and in UTC, as sqlite.py returns times (a naive time is taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _configure(conn: Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")


class PostgresStore:
    """Stores events for the writer thread and answers the reports' questions, from a pool of
    connections to one PostgreSQL database (shared by every replica)."""

    name = "postgresql"

    def __init__(
        self, url: str, pool_size: int = POOL_SIZE, connect_seconds: float = CONNECT_SECONDS
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.connect_seconds = connect_seconds
        self._pool: ConnectionPool[Connection] | None = None
        self._closed = False
        self._migrated = False
        self._lock = threading.Lock()

    # --- connections ---------------------------------------------------------------------------

    def _open_pool(self) -> ConnectionPool[Connection] | None:
        """The pool, made on first use (the database may be down when the service starts);
        None once closed."""
        with self._lock:
            if self._pool is None and not self._closed:
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    open=False,
                    kwargs={"autocommit": True, "application_name": "kb_search"},
                    configure=_configure,
                    check=ConnectionPool.check_connection,  # a restarted server's are gone
                    timeout=self.connect_seconds,
                    # Short: after giving up, the next request tries again at once, so a
                    # database back after a long outage is not waited for minutes.
                    reconnect_timeout=10.0,
                    name="kb-querylog",
                )
                self._pool.open(wait=False)
            return self._pool

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection to the migrated database; StoreBusy while it cannot be had. Once the
        store is closed, each call opens and closes its own (as sqlite.py's reads do)."""
        try:
            pool = self._open_pool()
            if pool is None:
                with psycopg.connect(
                    self.url, autocommit=True, connect_timeout=max(1, round(self.connect_seconds))
                ) as own:
                    _configure(own)
                    self._migrate(own)
                    yield own
            else:
                with pool.connection() as conn:
                    self._migrate(conn)
                    yield conn
        except psycopg.Error as error:
            if _is_busy(error):
                raise StoreBusy(f"{safe_url(self.url)}: {error}") from error
            raise

    def _migrate(self, conn: Connection) -> int:
        """Create or upgrade the schema, once per store; under a lock, so that replicas
        starting together do not both migrate. The version found (0: none), or -1 when this
        store had migrated already."""
        if self._migrated:
            return -1
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS kb_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM kb_schema").fetchone()
            version = 0 if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{safe_url(self.url)}: query log schema {version} is newer than this code"
                )
            for steps in MIGRATIONS[version:]:
                for step in steps:
                    conn.execute(step)
            if row is None:
                conn.execute("INSERT INTO kb_schema VALUES (%s)", (SCHEMA_VERSION,))
            elif version != SCHEMA_VERSION:
                conn.execute("UPDATE kb_schema SET version = %s", (SCHEMA_VERSION,))
        self._migrated = True
        return version

    def close(self) -> None:
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.close()

    # --- writing (the writer thread) -----------------------------------------------------------

    def write(self, batch: Batch) -> None:
        searches = [group for group in batch if isinstance(group[0], SearchEvent)]
        others = [event for group in batch if not isinstance(group[0], SearchEvent)
                  for event in group]  # fmt: skip
        with self._connection() as conn, conn.transaction():
            tally = Tally()
            new_searches = _write_searches(conn, searches, tally)  # type: ignore[arg-type]
            steps = _insert_events(conn, others, tally)
            if new_searches or steps:  # one replica at a time from here to its commit
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (TALLY_LOCK,))
                _count_steps(conn, new_searches, steps, tally)
            _add(conn, tally)

    # --- reading (reports, any thread) ---------------------------------------------------------

    def _rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def gap_groups(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[GapGroup]:
        """The most searched groups of one language's unanswered searches, without examples."""
        rows = self._rows(
            "SELECT key, count, first_seen, last_seen FROM gap_groups WHERE language = %s"
            " ORDER BY count DESC, last_seen DESC LIMIT %s",
            (language, limit),
        )
        return [GapGroup(key, int(n), _utc(first), _utc(last)) for key, n, first, last in rows]

    def gap_examples(
        self, keys: Sequence[str], language: str = DEFAULT_LANGUAGE
    ) -> dict[str, list[tuple[str, datetime]]]:
        """The stored example searches of each of one language's group keys, newest first."""
        found: dict[str, list[tuple[str, datetime]]] = {}
        rows = self._rows(
            "SELECT key, text, at FROM gap_examples WHERE language = %s AND key = ANY(%s)"
            " ORDER BY at DESC",
            (language, list(keys)),
        )
        for key, text, at in rows:
            found.setdefault(key, []).append((text, _utc(at)))
        return found

    def unclicked(
        self, limit: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, datetime]]:
        """(form, query, time) of the latest searches with results and no click."""
        rows = self._rows(_UNCLICKED, {"limit": limit, "language": language})
        return [(norm, query, _utc(at)) for norm, query, at in rows]

    def not_helpful(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[ArticleFeedback]:
        """Articles voted not helpful in one language, with why and what was missing."""
        rows = self._rows(_NOT_HELPFUL, {"n": MAX_EXAMPLES, "limit": limit, "language": language})
        return [
            ArticleFeedback(a, int(n), int(h), list(m), dict(r or {})) for a, n, h, m, r in rows
        ]

    def evidence(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        """(search id, query, clicked article) for each search that led to a click."""
        rows = self._rows(_EVIDENCE, {"minutes": follow_up_minutes, "language": language})
        return [(str(s), str(q or ""), str(a)) for s, q, a in rows]

    def reformulations(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        """(search id, query, article clicked after) for each search that found nothing or was
        not clicked, with the article opened from the first search of the same visit, soon
        after, that was clicked."""
        rows = self._rows(_REFORMULATIONS, {"minutes": follow_up_minutes, "language": language})
        return [(str(s), str(q or ""), str(a)) for s, q, a in rows]

    def click_counts(
        self, since: datetime, min_visits: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str | None, int, str | None]]:
        """(form, None, visits, an example query) for each normalised search in `language` made
        by at least `min_visits` visits since `since`, and (form, article, visits that clicked
        it, None) for each article clicked after one of them."""
        params = {"since": _utc(since), "min_visits": min_visits, "language": language}
        rows = self._rows(_CLICK_COUNTS, params)
        return [(str(n), None if a is None else str(a), int(v), q) for n, a, v, q in rows]

    # --- the dashboard's figures (kb_search.querylog.insights) ---------------------------------

    def day_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[Any, ...]]:
        """(day, *DAY_COUNTERS) for each day from `start` to `end` (inclusive) with figures."""
        sums = ", ".join(f"SUM({name})::bigint" for name in daily.DAY_COUNTERS)
        return self._rows(
            f"SELECT {_DAY.format('day')}, {sums} FROM daily WHERE language = %s"
            " AND day BETWEEN %s::date AND %s::date AND (%s::text IS NULL OR category = %s)"
            " GROUP BY day ORDER BY day",
            (language, start, end, category, category),
        )

    def form_figures(
        self, start: str, end: str, since: str, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, int, int, int]]:
        """(form, searches, zero results, opened with results) from `since` to `end`, then the same
        three before `since` (from `start`), for each form searched since `since`. A form is
        its words, or `#<number>` once they are past retention."""

        def part(name: str, when: str) -> str:
            return f"SUM(CASE WHEN day {when} %(since)s::date THEN {name} ELSE 0 END)::bigint"

        names = ("searches", "zero_results", "clicked_with_results")
        sums = ", ".join(part(name, when) for when in (">=", "<") for name in names)
        return self._rows(
            f"SELECT {_FORM_KEY}, {sums} FROM form_daily d LEFT JOIN forms f ON f.id = d.form"
            " WHERE d.language = %(language)s AND day BETWEEN %(start)s::date AND %(end)s::date"
            " AND (%(category)s::text IS NULL OR category = %(category)s)"
            f" GROUP BY d.form, f.norm HAVING {part('searches', '>=')} > 0",
            {"start": start, "end": end, "since": since, "language": language,
             "category": category},
        )  # fmt: skip

    def gap_forms(
        self, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, str, str]]:
        """(form, searches, zero results, opened with results, first day, last day) of each form
        that ever found nothing, over every day kept."""
        first = _DAY.format("MIN(CASE WHEN zero_results > 0 THEN day END)")
        return self._rows(
            f"SELECT {_FORM_KEY}, SUM(searches)::bigint, SUM(zero_results)::bigint,"
            f" SUM(clicked_with_results)::bigint, {first}, {_DAY.format('MAX(day)')}"
            " FROM form_daily d LEFT JOIN forms f ON f.id = d.form WHERE d.language = %s"
            " AND (%s::text IS NULL OR category = %s) GROUP BY d.form, f.norm"
            " HAVING SUM(zero_results) > 0",
            (language, category, category),
        )

    def form_days(
        self, forms: Sequence[str], language: str, category: str | None
    ) -> list[tuple[str, int, int, int]]:
        """(day, searches, zero results, opened with results) of the forms together, by day."""
        with self._connection() as conn:
            ids = _form_ids(conn, language, forms)
            return conn.execute(
                f"SELECT {_DAY.format('day')}, SUM(searches)::bigint, SUM(zero_results)::bigint,"
                " SUM(clicked_with_results)::bigint FROM form_daily WHERE language = %s"
                " AND form = ANY(%s) AND (%s::text IS NULL OR category = %s)"
                " GROUP BY day ORDER BY day",
                (language, ids, category, category),
            ).fetchall()

    def article_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[str, str, int, int, int]]:
        """(article, category, clicks, helpful, not helpful) from `start` to `end`."""
        return self._rows(
            "SELECT article_id, MAX(category), SUM(clicks)::bigint, SUM(helpful)::bigint,"
            " SUM(not_helpful)::bigint FROM article_daily WHERE language = %s"
            " AND day BETWEEN %s::date AND %s::date AND (%s::text IS NULL OR category = %s)"
            " GROUP BY article_id",
            (language, start, end, category, category),
        )

    def latest_queries(self, forms: Sequence[str], language: str) -> dict[str, str]:
        """The latest search of each form still kept (redacted): how customers wrote it."""
        words = [form for form in forms if not form.startswith("#")]
        rows = self._rows(
            "SELECT DISTINCT ON (norm) norm, query FROM searches WHERE language = %s"
            " AND norm = ANY(%s) ORDER BY norm, at DESC",
            (language, words),
        )
        found = dict(rows)
        return {form: found[form] for form in words if form in found}  # in the order asked

    def missing_texts(
        self, articles: Sequence[str], start: str, end: str, language: str
    ) -> dict[str, list[str]]:
        """What was missing from each article, newest first (redacted; kept while the raw
        feedback is)."""
        found: dict[str, list[str]] = {}
        with self._connection() as conn:
            for article in articles:
                rows = conn.execute(
                    "SELECT missing FROM feedback WHERE language = %s AND article_id = %s"
                    " AND NOT helpful AND missing <> ''"
                    " AND (at AT TIME ZONE 'UTC')::date BETWEEN %s::date AND %s::date"
                    " GROUP BY missing ORDER BY MAX(at) DESC LIMIT %s",
                    (language, article, start, end, MAX_EXAMPLES),
                )
                found[article] = [row[0] for row in rows]
        return found

    def gap_marks(self, language: str) -> dict[str, tuple[str, str | None, datetime]]:
        """Each marked group's form: (answered or dismissed, the answering article, when)."""
        rows = self._rows(
            f"SELECT {_FORM_KEY}, state, article_id, at FROM gap_marks d"
            " LEFT JOIN forms f ON f.id = d.form WHERE d.language = %s",
            (language,),
        )
        return {key: (state, article, _utc(at)) for key, state, article, at in rows}

    def mark_gap(
        self, language: str, key: str, state: str | None, article: str | None, at: datetime
    ) -> None:
        """Mark the group of form `key` answered (by `article`) or dismissed; `state` None takes
        the mark back. ValueError for a form the log does not have."""
        with self._connection() as conn, conn.transaction():
            ids = _form_ids(conn, language, [key])
            if not ids:
                raise ValueError(f"no searches of {key[:60]!r} are kept")
            if state is None:
                conn.execute(
                    "DELETE FROM gap_marks WHERE language = %s AND form = %s", (language, ids[0])
                )
                return
            conn.execute(
                "INSERT INTO gap_marks VALUES (%s, %s, %s, %s, %s) ON CONFLICT (language, form)"
                " DO UPDATE SET state = excluded.state, article_id = excluded.article_id,"
                " at = excluded.at",
                (language, ids[0], state, article, _utc(at)),
            )

    def purge(self, cutoff: datetime, figures_cutoff: datetime | None = None) -> int:
        """Delete every row and text older than `cutoff`, and the daily figures older than
        `figures_cutoff`; returns raw rows deleted. One replica purges at a time: while
        another does, this returns 0 at once."""
        at = _utc(cutoff)
        with self._connection() as conn:
            locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (PURGE_LOCK,)).fetchone()
            if not locked or not locked[0]:
                return 0
            try:
                deleted = sum(
                    _delete(conn, table, "at", at) for table in ("searches", "clicks", "feedback")
                )
                for table, column in (("gap_examples", "at"), ("gap_groups", "last_seen"),
                                      ("visits", "at"), ("contacts", "at"),
                                      ("forms", "last_seen")):  # fmt: skip
                    _delete(conn, table, column, at)  # forms: the words, not their figures
                if figures_cutoff is not None:
                    day = _utc(figures_cutoff).date()
                    for table in daily.KEYS:
                        _delete(conn, table, "day", day)
                    _delete(conn, "gap_marks", "at", _utc(figures_cutoff))
            finally:
                with suppress(psycopg.Error):  # a lost connection lets go of it anyway
                    conn.execute("SELECT pg_advisory_unlock(%s)", (PURGE_LOCK,))
        return deleted

    def describe(self) -> dict[str, Any]:
        return {"url": safe_url(self.url)}

    def migrate(self) -> tuple[int, int]:
        """Create or upgrade the schema now, as the first write would: (before, after)."""
        try:
            with psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self.connect_seconds))
            ) as conn:
                self._migrated = False
                found = self._migrate(conn)
        except psycopg.Error as error:  # unreachable, or not allowed to make tables, say
            raise RuntimeError(str(error).strip()) from error
        return found, SCHEMA_VERSION


def _delete(conn: Connection, table: str, column: str, before: datetime | date) -> int:
    """Delete the rows of `table` whose `column` is before `before`, PURGE_BATCH at a time
    (each DELETE commits on its own: writers wait for no long purge)."""
    total = 0
    while True:
        count = conn.execute(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}"
            f" WHERE {column} < %s LIMIT %s))",
            (before, PURGE_BATCH),
        ).rowcount
        total += count
        if count < PURGE_BATCH:
            return total


def _form_ids(conn: Connection, language: str, keys: Sequence[str]) -> list[int]:
    """The numbers of forms given by their words or as `#<number>` (one the figures know: a
    mark never waits for words to come)."""
    numbers = [int(k[1:]) for k in keys if k[:1] == "#" and _WHOLE.fullmatch(k[1:])]
    known = {
        int(row[0])
        for row in conn.execute(
            "SELECT DISTINCT form FROM form_daily WHERE language = %s AND form = ANY(%s)",
            (language, [n for n in numbers if n < 2**63]),
        )
    }
    ids = [n for n in numbers if n in known]
    words = [k for k in keys if not k.startswith("#")]
    if words:
        rows = conn.execute(
            "SELECT id FROM forms WHERE language = %s AND norm = ANY(%s)", (language, words)
        )
        ids += [int(row[0]) for row in rows]
    return ids


# --- the writes of one batch, each set-wise ----------------------------------------------------


@dataclasses.dataclass
class _Group:
    """One group of searches alike, as stored: its texts redacted once."""

    events: list[SearchEvent]
    query: str
    corrected: str | None
    norm: str


def _prepared(group: list[SearchEvent]) -> _Group:
    first = group[0]
    query, corrected = clean_search(first.query, first.corrected)
    query = _text(query) or ""
    # Grouped by its own language's analysis (`query` is redacted already).
    return _Group(group, query, _text(corrected), language_of(first.language).normalise(query))


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as columns: one array each, for `unnest`."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _write_searches(conn: Connection, groups: list[list[SearchEvent]], tally: Tally) -> list[str]:
    """Every search of the batch, its visit, its form and its gap group, a statement each; the
    ids of those that were new."""
    if not groups:
        return []
    prepared = [_prepared(group) for group in groups]
    rows = [
        (e.search_id, _utc(e.at), g.query, g.norm, e.result_count, e.top_result, e.category,
         g.corrected, e.session, e.language, e.topic)
        for g in prepared for e in g.events
    ]  # fmt: skip
    inserted = {  # a retried batch is not counted twice
        row[0]
        for row in conn.execute(
            "INSERT INTO searches (search_id, at, query, norm, result_count, top_result,"
            " category, corrected, session, language, topic) SELECT * FROM unnest(%s::text[],"
            " %s::timestamptz[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::text[], %s::text[])"
            " ON CONFLICT (search_id) DO NOTHING RETURNING search_id",
            _columns(rows, 11),
        )
    }
    new_groups: list[tuple[_Group, list[SearchEvent]]] = []
    for group in prepared:
        new = [e for e in group.events if e.search_id in inserted]
        inserted.difference_update(e.search_id for e in new)  # a twin id counts once
        if new:
            new_groups.append((group, new))
    started = _new_visits(conn, [e for _, new in new_groups for e in new])
    forms = _form_numbers(conn, new_groups)
    for group, new in new_groups:
        form = forms.get((new[0].language, group.norm)) if group.norm else None
        tally.searches(new, form, [e for e in new if started.get(_visit_key(e)) is e])
    # Gaps: searches that found nothing, grouped by their words.
    _count_gaps(conn, [(g, new) for g, new in new_groups if g.norm and not new[0].result_count > 0])
    return [e.search_id for _, new in new_groups for e in new]


def _visit_key(event: SearchEvent) -> tuple[str, str]:
    return (event.language, event.session or "")


def _new_visits(
    conn: Connection, searches: list[SearchEvent]
) -> dict[tuple[str, str], SearchEvent]:
    """The searches that began a visit: the first of each visit not already logged."""
    first: dict[tuple[str, str], SearchEvent] = {}
    for event in searches:
        if event.session:
            first.setdefault(_visit_key(event), event)
    if not first:
        return {}
    rows = [(*key, _utc(e.at), e.topic or "") for key, e in sorted(first.items())]
    made = conn.execute(
        "INSERT INTO visits (language, session, at, category) SELECT * FROM unnest(%s::text[],"
        " %s::text[], %s::timestamptz[], %s::text[]) ON CONFLICT (language, session) DO NOTHING"
        " RETURNING language, session",
        _columns(rows, 4),
    ).fetchall()
    return {(lang, session): first[(lang, session)] for lang, session in made}


def _form_numbers(
    conn: Connection, groups: list[tuple[_Group, list[SearchEvent]]]
) -> dict[tuple[str, str], int]:
    """The number each searched form's figures are kept under (made when new)."""
    last: dict[tuple[str, str], datetime] = {}
    for group, new in groups:
        if group.norm:
            key = (new[0].language, group.norm)
            newest = max(_utc(e.at) for e in new)
            last[key] = max(last.get(key, newest), newest)
    if not last:
        return {}
    rows = [(*key, at) for key, at in sorted(last.items())]
    found = conn.execute(
        "INSERT INTO forms (language, norm, last_seen) SELECT * FROM unnest(%s::text[],"
        " %s::text[], %s::timestamptz[]) ON CONFLICT (language, norm)"
        " DO UPDATE SET last_seen = GREATEST(forms.last_seen, excluded.last_seen)"
        " RETURNING language, norm, id",
        _columns(rows, 3),
    ).fetchall()
    return {(lang, norm): int(form) for lang, norm, form in found}


def _count_gaps(conn: Connection, groups: list[tuple[_Group, list[SearchEvent]]]) -> None:
    """Add the searches that found nothing to their gap groups, and keep each group's newest
    few examples (not its first few forever)."""
    counts: dict[tuple[str, str], tuple[int, datetime, datetime]] = {}
    examples: dict[tuple[str, str, str], datetime] = {}
    for group, new in groups:
        key = (new[0].language, group.norm)
        times = [_utc(e.at) for e in new]
        n, first, last = counts.get(key, (0, min(times), max(times)))
        counts[key] = (n + len(new), min(first, *times), max(last, *times))
        example = (*key, group.query)
        examples[example] = max(examples.get(example, max(times)), max(times))
    if not counts:
        return
    conn.execute(
        "INSERT INTO gap_groups (language, key, count, first_seen, last_seen) SELECT * FROM"
        " unnest(%s::text[], %s::text[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])"
        " ON CONFLICT (language, key) DO UPDATE SET count = gap_groups.count + excluded.count,"
        " first_seen = LEAST(gap_groups.first_seen, excluded.first_seen),"
        " last_seen = GREATEST(gap_groups.last_seen, excluded.last_seen)",
        _columns(((*key, *value) for key, value in sorted(counts.items())), 5),
    )
    conn.execute(
        "INSERT INTO gap_examples (language, key, text, at) SELECT * FROM unnest(%s::text[],"
        " %s::text[], %s::text[], %s::timestamptz[]) ON CONFLICT (language, key, text)"
        " DO UPDATE SET at = GREATEST(gap_examples.at, excluded.at)",
        _columns(((*key, at) for key, at in sorted(examples.items())), 4),
    )
    conn.execute(
        "DELETE FROM gap_examples g USING (SELECT language, key, text, row_number() OVER"
        " (PARTITION BY language, key ORDER BY at DESC, text) AS n FROM gap_examples"
        " WHERE (language, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))) AS r"
        " WHERE g.language = r.language AND g.key = r.key AND g.text = r.text AND r.n > %s",
        [*_columns(sorted(counts), 2), MAX_EXAMPLES],
    )


def _inserted(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> set[str]:
    """The event ids of `rows` (the first column) that were new: a retry inserts none."""
    if not rows:
        return set()
    return {row[0] for row in conn.execute(sql, _columns(rows, len(rows[0])))}


Step = ClickEvent | ContactEvent


def _insert_events(conn: Connection, events: list[Event], tally: Tally) -> list[Step]:
    """Store the batch's clicks, feedback and contact-page views, and count what needs no
    other row (a click for its article, a vote); the new clicks and views, in order."""
    clicks = [e for e in events if isinstance(e, ClickEvent)]
    new = _inserted(
        conn,
        "INSERT INTO clicks (event_id, search_id, article_id, at, language, position)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[],"
        " %s::text[], %s::bigint[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [
            (e.event_id, e.search_id, e.article_id, _utc(e.at), e.language, e.position)
            for e in clicks
        ],
    )
    votes = [e for e in events if isinstance(e, FeedbackEvent)]
    new |= _inserted(
        conn,
        "INSERT INTO feedback (event_id, article_id, helpful, missing, search_id, at, reason,"
        " language) SELECT * FROM unnest(%s::text[], %s::text[], %s::boolean[], %s::text[],"
        " %s::text[], %s::timestamptz[], %s::text[], %s::text[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [(e.event_id, e.article_id, e.helpful, _text(clean(e.missing)), e.search_id, _utc(e.at),
          e.reason, e.language) for e in votes],
    )  # fmt: skip
    new |= _inserted(
        conn,
        "INSERT INTO contacts (event_id, at) SELECT * FROM unnest(%s::text[], %s::timestamptz[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [(e.event_id, _utc(e.at)) for e in events if isinstance(e, ContactEvent)],
    )
    steps: list[Step] = []
    for event in events:
        if isinstance(event, FeedbackEvent) and event.event_id in new:
            tally.feedback(event)
        elif isinstance(event, Step) and event.event_id in new:
            if isinstance(event, ClickEvent):
                tally.click(event, None, None)  # the article's figures
            steps.append(event)
    return steps


@dataclasses.dataclass(frozen=True)
class _Searched:
    """A clicked search as stored."""

    day: str
    language: str
    category: str
    form: int | None
    session: str | None
    found: bool


def _count_steps(
    conn: Connection, new_searches: list[str], steps: list[Step], tally: Tally
) -> None:
    """Count, for their searches and visits, the clicks another replica wrote before these
    new searches, then this batch's clicks and contact views in order. Under TALLY_LOCK."""
    clicks = [e for e in steps if isinstance(e, ClickEvent)]
    early: list[tuple[str, int | None]] = []
    if new_searches:
        early = [
            (search_id, position)
            for search_id, position in conn.execute(
                "SELECT search_id, position FROM clicks WHERE search_id = ANY(%s)"
                " AND NOT event_id = ANY(%s) ORDER BY at, event_id",
                (new_searches, [e.event_id for e in clicks]),
            )
        ]
    counted = [*early, *((e.search_id, e.position) for e in clicks)]
    searches = _searches(conn, {search_id for search_id, _ in counted})
    first = _first_clicks(conn, [search_id for search_id, _ in counted if search_id in searches])
    visits = _visits(
        conn,
        {(s.language, s.session) for s in searches.values() if s.session},
        {e.session for e in steps if isinstance(e, ContactEvent)},
    )
    before = dict(visits)
    keys_of: dict[str, list[tuple[str, str]]] = {}  # a session's visits, one a language
    for key in sorted(visits):
        keys_of.setdefault(key[1], []).append(key)
    for search_id, position in early:
        _click(searches[search_id], position, search_id in first, visits, tally)
        first.discard(search_id)
    for event in steps:
        if isinstance(event, ContactEvent):
            _contact(event, keys_of.get(event.session, []), visits, tally)
        elif (search := searches.get(event.search_id)) is not None:  # else: written later
            _click(search, event.position, event.search_id in first, visits, tally)
            first.discard(event.search_id)
    changed = sorted(key for key, visit in visits.items() if visit != before[key])
    if changed:
        conn.execute(
            "UPDATE visits v SET clicked = u.clicked, contacted = u.contacted FROM unnest("
            "%s::text[], %s::text[], %s::boolean[], %s::boolean[]) AS u(language, session,"
            " clicked, contacted) WHERE v.language = u.language AND v.session = u.session",
            _columns(((*key, visits[key].clicked, visits[key].contacted) for key in changed), 4),
        )


def _searches(conn: Connection, ids: set[str]) -> dict[str, _Searched]:
    """The stored searches of these ids (a click's may be unknown: not written yet, or
    purged)."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT s.search_id, s.at, s.language, COALESCE(s.topic, ''), f.id, s.session,"
        " s.result_count FROM searches s"
        " LEFT JOIN forms f ON f.language = s.language AND f.norm = s.norm"
        " WHERE s.search_id = ANY(%s)",
        (sorted(ids),),
    )
    return {
        search_id: _Searched(day_of(iso(at)), language, category,
                             None if form is None else int(form), session, results > 0)
        for search_id, at, language, category, form, session, results in rows
    }  # fmt: skip


def _first_clicks(conn: Connection, ids: list[str]) -> set[str]:
    """Mark the searches clicked; those that were not before (their first click is here)."""
    if not ids:
        return set()
    marked = conn.execute(
        "UPDATE searches SET clicked = TRUE WHERE search_id = ANY(%s) AND NOT clicked"
        " RETURNING search_id",
        (sorted(set(ids)),),
    )
    return {row[0] for row in marked}


def _visits(
    conn: Connection, keys: set[tuple[str, str]], sessions: set[str]
) -> dict[tuple[str, str], Visit]:
    """The visits of these (language, session) keys, and every language's of these sessions
    (a contact view ends a visit's self-service in each language it searched)."""
    if not keys and not sessions:
        return {}
    rows = conn.execute(
        "SELECT language, session, at, category, clicked, contacted FROM visits"
        " WHERE (language, session) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        " OR session = ANY(%s) ORDER BY language, session",
        [*_columns(sorted(keys), 2), sorted(sessions)],
    )
    return {
        (lang, session): Visit(day_of(iso(at)), category, bool(clicked), bool(contacted))
        for lang, session, at, category, clicked, contacted in rows
    }


def _click(
    search: _Searched,
    position: int | None,
    first: bool,
    visits: dict[tuple[str, str], Visit],
    tally: Tally,
) -> None:
    """Count a click for its search and visit, as sqlite.py does."""
    logged = LoggedSearch(search.day, search.language, search.category, search.form,
                          not first, found=search.found)  # fmt: skip
    key = (search.language, search.session or "")
    visit = visits.get(key) if search.session else None
    tally.search_clicked(logged, position, visit)
    if visit is not None and not visit.clicked:
        visits[key] = dataclasses.replace(visit, clicked=True)


def _contact(
    event: ContactEvent,
    keys: list[tuple[str, str]],
    visits: dict[tuple[str, str], Visit],
    tally: Tally,
) -> None:
    """A contact view ends the visit's self-service in every language it searched (`keys`:
    the session's visits)."""
    for language, session in keys:
        visit = visits[(language, session)]
        if visit.contacted and not visit.clicked:
            continue  # nothing changes
        tally.contact(dataclasses.replace(event, language=language), visit)
        visits[(language, session)] = dataclasses.replace(visit, clicked=False, contacted=True)


def _add(conn: Connection, tally: Tally) -> None:
    """Add the batch's daily figures: one upsert a table, rows in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in daily.KEYS}
    for table, where, counts, columns in tally.increments():
        values = [counts.get(name, 0) for name in _COUNTERS[table]]
        if any(values):  # as sqlite.py: no row for nothing
            rows[table].append((*where.values(), *columns.values(), *values))
    for table, found in rows.items():
        if found:
            found.sort()
            conn.execute(_UPSERTS[table], _columns(found, len(found[0])))
