"""The batching writer on both stores: nothing lost to floods or a refused event; on a SQLite
file, nothing lost to its locks or its vanishing either (PostgreSQL's outages: test_postgres.py).

Each case once lost rows: one hot zero-result query at 3,500 searches/s lost a quarter of them
("queue is full"), a 20 s lock lost 6.5 %, a deleted file swallowed every later row silently,
and one bad event took its whole batch with it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest

from kb_search.querylog import QueryLog, SearchEvent
from kb_search.querylog.sqlite import SQLiteStore
from tests.querylog.conftest import Backend


def search(query: str, results: int = 0, session: str = "visit-123") -> SearchEvent:
    return SearchEvent(uuid.uuid4().hex, query, results, None, None, None, session)


def count(db: Path, sql: str = "SELECT COUNT(*) FROM searches") -> int:
    with sqlite3.connect(db) as conn:
        found: int = conn.execute(sql).fetchone()[0]
    conn.close()
    return found


def test_a_flood_of_one_hot_search_is_stored_whole(backend: Backend) -> None:
    query_log = backend.log()
    flood = 50_000  # far more than the old queue of 10,000 held

    def customers() -> None:
        for n in range(flood // 4):  # each customer on a visit of their own
            query_log.record_search(search("do you sell gift wrapping", session=f"visit-{n:06d}"))

    threads = [threading.Thread(target=customers) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    query_log.close()

    assert backend.count() == flood
    assert backend.count("SELECT COUNT(DISTINCT session) FROM searches") == flood // 4
    assert backend.count("SELECT count FROM gap_groups") == flood
    assert backend.count("SELECT SUM(searches) FROM daily") == flood
    assert backend.count("SELECT SUM(visits) FROM daily") == flood // 4
    assert query_log.health()["dropped"] == 0


def test_a_locked_database_is_waited_for_not_dropped(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    query_log = QueryLog(SQLiteStore(db))
    query_log.record_search(search("warm up"))
    assert query_log.flush(timeout=10)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.perf_counter()
        for n in range(3000):
            query_log.record_search(search(f"while locked {n}"))
        assert time.perf_counter() - started < 2.0  # recording never waits for the store
        time.sleep(3)  # longer than SQLite's own wait for a lock
        health = query_log.health()
        assert health["retrying"] and "locked" in health["last_error"]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert query_log.flush(timeout=30)
    assert count(db) == 3001
    health = query_log.health()
    assert (health["dropped"], health["retrying"]) == (0, False)
    query_log.close()


def test_a_deleted_log_file_is_noticed_and_made_anew(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    query_log = QueryLog(SQLiteStore(db))
    query_log.record_search(search("before"))
    assert query_log.flush(timeout=10)
    for path in tmp_path.glob("log.sqlite3*"):
        path.unlink()  # an operator's clean-up, or a rotated disk
    for n in range(5):
        query_log.record_search(search(f"after {n}"))
    assert query_log.flush(timeout=10)
    assert count(db) == 5  # in the new file, not in the deleted one
    assert query_log.health()["recreated"] == 1
    query_log.close()


def test_one_event_the_store_refuses_is_dropped_alone(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    query_log = backend.log()
    query_log.record_search(search("fine 1"))
    query_log.record_search(search("impossible count", results=2**70))  # no 64-bit integer
    query_log.record_search(search("fine 2"))
    with caplog.at_level(logging.WARNING, logger="kb_search.querylog"):
        query_log.close()
    assert backend.count() == 2
    assert query_log.health()["dropped"] == 1
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_an_unwritable_store_is_retried_and_said_in_health(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("I am a file")
    query_log = QueryLog(SQLiteStore(not_a_directory / "querylog.db"))
    started = time.perf_counter()
    query_log.record_search(search("return label"))
    query_log.record_click("x" * 32, "101")
    assert time.perf_counter() - started < 1.0
    assert not query_log.flush(timeout=1)  # still waiting for a store that may come back
    health = query_log.health()
    assert health["retrying"] and health["written"] == 0
    assert "querylog.db" in health["last_error"]
    query_log.writer.close_seconds = 0.5
    query_log.close()  # gives up after close_seconds and says how many it lost
    assert query_log.health()["dropped"] == 2
