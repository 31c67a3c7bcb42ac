"""What only the PostgreSQL store has to show: one database written by several replicas at once
(no figure lost, one migration, one purge), a server that goes away and comes back, and a URL
whose password is never shown. The contract both stores keep is test_store.py."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from kb_search.cli import main
from kb_search.config import Settings
from kb_search.querylog import (
    ClickEvent,
    ContactEvent,
    FeedbackEvent,
    QueryLog,
    SearchEvent,
    open_log,
)
from kb_search.querylog.events import Event
from kb_search.querylog.postgres import PURGE_LOCK, SCHEMA_VERSION, PostgresStore, safe_url
from kb_search.querylog.sqlite import SQLiteStore
from tests.pg import PostgresServer, free_port

DAY = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
T = TypeVar("T")


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(row) for row in conn.execute(sql.encode()).fetchall()]


def searched(n: int, query: str, results: int, session: str, topic: str | None) -> SearchEvent:
    return SearchEvent(f"{n:032x}", query, results, "101" if results else None, None, None,
                       session, at=DAY + timedelta(seconds=n), topic=topic)  # fmt: skip


def together(*work: Callable[[], T]) -> list[T | None]:
    """Run each function in a thread of its own, started at the same moment; their results."""
    start = threading.Barrier(len(work))
    results: list[T | None] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work[index]()
        except BaseException as error:  # the test fails with it, below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_the_schema_is_sqlites_with_event_ids_and_versioned(
    postgres_url: str, tmp_path: Path
) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(4)]  # replicas starting together
    together(*(lambda store=store: store.gap_groups(10) for store in stores))
    for store in stores:
        store.close()
    assert rows(postgres_url, "SELECT version FROM kb_schema") == [(SCHEMA_VERSION,)]

    lite = tmp_path / "log.sqlite3"
    SQLiteStore(lite).gap_groups(10)
    with sqlite3.connect(lite) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        sqlite_columns = {
            (table, column[1])
            for table in tables
            if table != "sqlite_sequence"
            for column in conn.execute(f"PRAGMA table_info({table})")
        }
    conn.close()
    pg_columns = set(
        rows(
            postgres_url,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'",
        )
    )
    ids = {("clicks", "event_id"), ("feedback", "event_id"), ("contacts", "event_id"),
           ("contacts", "at"), ("kb_schema", "version")}  # fmt: skip
    assert pg_columns == sqlite_columns | ids


def test_a_schema_newer_than_the_code_is_not_touched(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    store.gap_groups(10)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE kb_schema SET version = version + 1")
    newer = PostgresStore(postgres_url)
    with pytest.raises(RuntimeError, match="newer than this code"):
        newer.gap_groups(10)
    newer.close()


def test_a_postgresql_url_opens_the_shared_log_and_its_password_is_never_shown(
    postgres_url: str,
) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:hunter2@") + "?password=hunter2"
    settings = Settings.from_env({"KB_LOG_URL": with_password})
    with open_log(settings) as log:  # trust authentication: the password is not checked
        assert isinstance(log.store, PostgresStore)
        log.record_search(searched(1, "gift wrap", 0, "visit-0001", None))
        assert log.flush(timeout=10)
        health = log.health()
    assert health["backend"] == "postgresql"
    assert health["url"] == safe_url(with_password) == postgres_url
    assert "hunter2" not in str(health)
    assert rows(postgres_url, "SELECT COUNT(*) FROM searches") == [(1,)]


def _write_in_batches(store: PostgresStore, events: Sequence[Event], per_batch: int = 5) -> None:
    for start in range(0, len(events), per_batch):
        store.write([[event] for event in events[start : start + per_batch]])


def test_two_replicas_writing_at_once_lose_no_figure(postgres_url: str) -> None:
    """Two stores on one database, each writing many small batches from its own thread: every
    counter is the hand count. First their searches and votes share only the day's counters;
    then they search the same words in the same visits, click the same searches, and open the
    contact page in the same visits."""
    replicas = [PostgresStore(postgres_url), PostgresStore(postgres_url)]

    def run(work: Callable[[int], Sequence[Event]]) -> None:
        made = [work(0), work(1)]
        together(*(lambda r=r: _write_in_batches(replicas[r], made[r]) for r in range(2)))

    # Alone but for the counters: a word and visits of each replica's own.
    words = ("blanket", "candle")
    run(lambda r: [
        event
        for n in range(300)
        for event in (
            searched(10_000 + 2 * n + r, words[r], 0, f"replica{r}-{n:04d}", None),
            FeedbackEvent("101", n % 3 == 0, None, at=DAY),
        )
    ])  # fmt: skip
    votes = 2 * 300
    helpful = 2 * len(range(0, 300, 3))
    # Together on every row: the same words, the same visits.
    visits = [f"visit-{n:04d}" for n in range(120)]
    texts = [("gift wrap", 0, None), ("return label", 3, "returns"), ("size guide", 2, "sizes")]
    every = [
        searched(n, *texts[n % 3][:2], visits[n % len(visits)], texts[n % 3][2])
        for n in range(1200)
    ]
    run(lambda r: every[r::2])
    clicked = [e for e in every if e.result_count and n_of(e) % 4 != 1]
    # Each replica clicks every clicked search once: two clicks, one clicked search each.
    run(lambda r: [
        ClickEvent(e.search_id, e.top_result or "", at=e.at, position=1 + r) for e in clicked
    ])  # fmt: skip
    contacted = visits[::2]  # both replicas see the same contact views (two tabs, say)
    run(lambda r: [ContactEvent(v, at=DAY + timedelta(hours=1)) for v in contacted * 2])
    for store in replicas:
        store.close()

    zero = sum(1 for e in every if e.result_count == 0)
    assert rows(
        postgres_url,
        "SELECT SUM(searches), SUM(zero_results), SUM(visits), SUM(clicked_searches),"
        " SUM(clicks), SUM(position_sum), SUM(self_served), SUM(contacted), SUM(helpful),"
        " SUM(not_helpful) FROM daily",
    ) == [
        (
            len(every) + 600,
            zero + 600,
            len(visits) + 600,
            len(clicked),
            2 * len(clicked),
            3 * len(clicked),  # positions 1 and 2
            len({e.session for e in clicked} - set(contacted)),
            len(contacted),
            helpful,
            votes - helpful,
        )
    ]
    assert rows(postgres_url, "SELECT key, count FROM gap_groups ORDER BY key") == [
        ("blanket", 300),
        ("candl", 300),
        ("gift wrap", zero),
    ]
    assert rows(
        postgres_url,
        "SELECT f.norm, SUM(searches), SUM(clicked_searches) FROM form_daily d"
        " JOIN forms f ON f.id = d.form WHERE f.norm LIKE '%% %%' GROUP BY f.norm ORDER BY f.norm",
    ) == [
        ("gift wrap", zero, 0),
        ("guid size", len(every) // 3, sum(1 for e in clicked if e.query == "size guide")),
        ("label return", len(every) // 3, sum(1 for e in clicked if e.query == "return label")),
    ]
    assert rows(postgres_url, "SELECT SUM(clicks), SUM(helpful) FROM article_daily") == [
        (2 * len(clicked), helpful)
    ]


def test_clicks_racing_their_searches_on_another_replica_count_once(postgres_url: str) -> None:
    """A customer's search is written by one replica while their click is written by another,
    at the same moment (batch by batch in step): whichever commits first, the click counts
    once for its search."""
    replicas = [PostgresStore(postgres_url), PostgresStore(postgres_url)]
    every = [searched(n, f"size guide {n % 7}", 2, f"visit-{n:04d}", None) for n in range(600)]
    clicks = [ClickEvent(e.search_id, "101", at=e.at, position=1) for e in every]
    step = threading.Barrier(2)

    def in_step(store: PostgresStore, events: Sequence[Event]) -> None:
        for start in range(0, len(events), 10):
            step.wait()
            store.write([[event] for event in events[start : start + 10]])

    together(
        functools.partial(in_step, replicas[0], every),
        functools.partial(in_step, replicas[1], clicks),
    )
    for store in replicas:
        store.close()
    assert rows(
        postgres_url,
        "SELECT SUM(searches), SUM(clicked_searches), SUM(clicks), SUM(self_served) FROM daily",
    ) == [(600, 600, 600, 600)]


def n_of(event: SearchEvent) -> int:
    return int(event.search_id, 16)


def test_a_retried_batch_counts_once_even_when_another_replica_wrote_meanwhile(
    postgres_url: str,
) -> None:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    search = searched(1, "return label", 3, "visit-0001", "returns")
    click = ClickEvent(search.search_id, "101", at=DAY, position=1)
    vote = FeedbackEvent("101", True, None, search.search_id, at=DAY)
    batch = [[search], [click], [vote]]
    first.write(batch)  # type: ignore[arg-type]
    second.write([[ClickEvent(search.search_id, "102", at=DAY, position=2)]])
    first.write(batch)  # type: ignore[arg-type]  # its acknowledgement was lost: retried
    for store in (first, second):
        store.close()
    assert rows(
        postgres_url,
        "SELECT SUM(searches), SUM(clicked_searches), SUM(clicks), SUM(position_sum),"
        " SUM(helpful), SUM(self_served) FROM daily",
    ) == [(1, 1, 2, 3, 1, 1)]


def _old_searches(url: str, count: int) -> None:
    """`count` searches, a year old, written as one batch."""
    store = PostgresStore(url)
    old = DAY - timedelta(days=365)
    store.write([[SearchEvent(uuid.uuid4().hex, "gift wrap", 0, None, None, None, None,
                              at=old + timedelta(seconds=n)) for n in range(count)]])  # fmt: skip
    store.close()


def test_one_replica_purges_and_the_others_go_on_at_once(postgres_url: str) -> None:
    _old_searches(postgres_url, 25_000)  # three bounded deletes
    busy = psycopg.connect(postgres_url, autocommit=True)
    busy.execute("SELECT pg_advisory_lock(%s)", (PURGE_LOCK,))  # another replica is purging
    store = PostgresStore(postgres_url)
    try:
        started = time.monotonic()
        assert store.purge(DAY) == 0
        assert time.monotonic() - started < 2  # it did not wait for the other
        assert rows(postgres_url, "SELECT COUNT(*) FROM searches") == [(25_000,)]
    finally:  # the other replica is done (unlocked now: a closed connection's lock goes
        busy.execute("SELECT pg_advisory_unlock(%s)", (PURGE_LOCK,))  # only once the server
        busy.close()  # notices)
    assert store.purge(DAY) == 25_000
    store.close()

    _old_searches(postgres_url, 25_000)
    replicas = [PostgresStore(postgres_url), PostgresStore(postgres_url)]
    started = time.monotonic()
    deleted = together(*(lambda store=store: store.purge(DAY) for store in replicas))
    assert sorted(n or 0 for n in deleted) == [0, 25_000]
    assert time.monotonic() - started < 30
    for store in replicas:
        store.close()
    assert rows(postgres_url, "SELECT COUNT(*) FROM searches") == [(0,)]


def test_events_wait_for_a_database_that_went_away_and_are_written_when_it_is_back(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    log = QueryLog(PostgresStore(postgres_url, connect_seconds=0.5))
    log.record_search(searched(0, "warm up", 0, "visit-0000", None))
    assert log.flush(timeout=10)
    postgres_server.stop()
    try:
        for n in range(1, 2001):
            log.record_search(searched(n, f"while down {n % 50}", n % 2, f"visit-{n:04d}", None))
            if n % 2:
                log.record_click(f"{n:032x}", "101", position=1)
        assert not log.flush(timeout=2)
        health = log.health()
        # Every event since the stop waits, those in the batch being retried too.
        assert health["retrying"] and health["dropped"] == 0 and health["queued"] == 3000
    finally:
        postgres_server.start()
    assert log.flush(timeout=60)
    health = log.health()
    assert (health["dropped"], health["retrying"], health["queued"]) == (0, False, 0)
    log.close()
    assert rows(postgres_url, "SELECT COUNT(*) FROM searches") == [(2001,)]
    assert rows(postgres_url, "SELECT COUNT(*) FROM clicks") == [(1000,)]


def test_an_unreachable_database_is_retried_and_said_in_health() -> None:
    url = f"postgresql://kb:hunter2@127.0.0.1:{free_port()}/kb"  # nothing listens there
    log = QueryLog(PostgresStore(url, connect_seconds=0.3))
    started = time.perf_counter()
    log.record_search(searched(1, "return label", 3, "visit-0001", None))
    log.record_click(f"{1:032x}", "101")
    assert time.perf_counter() - started < 1.0
    assert not log.flush(timeout=1)  # still waiting for a database that may come back
    health = log.health()
    assert health["retrying"] and health["written"] == 0
    assert safe_url(url) in health["last_error"]
    assert "hunter2" not in str(health)
    log.writer.close_seconds = 0.5
    log.close()  # gives up after close_seconds and says how many it lost
    assert log.health()["dropped"] == 2


def test_kb_log_migrate_says_an_unreachable_database_plainly_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://kb:hunter2@127.0.0.1:{free_port()}/kb"  # nothing listens there
    assert main(["log", "migrate", "--log-url", url]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.startswith("kb: the query log postgresql://kb@127.0.0.1:")
    assert "cannot be migrated: connection failed" in err and "hunter2" not in err
