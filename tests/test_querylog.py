"""The query log on a real SQLite file: privacy, gap grouping, retention and failure."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb_search.config import Settings
from kb_search.querylog import (
    SCHEMA_VERSION,
    NullQueryLog,
    QueryLog,
    SearchRecord,
    SQLiteQueryLog,
    normalise,
    open_log,
    to_dict,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def search(
    query: str,
    results: int = 0,
    *,
    search_id: str | None = None,
    at: datetime | None = None,
) -> SearchRecord:
    return SearchRecord(
        search_id=search_id or uuid.uuid4().hex,
        query=query,
        result_count=results,
        top_result="101" if results else None,
        category=None,
        corrected=None,
        session="c0ffee",
        at=at,
    )


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "querylog.db"


@pytest.fixture
def querylog(db: Path) -> Iterator[SQLiteQueryLog]:
    log = SQLiteQueryLog(db)
    yield log
    log.close()


def test_an_email_in_a_query_is_never_stored(querylog: SQLiteQueryLog, db: Path) -> None:
    querylog.record_search(search("refund to anna.svensson@gmail.com please", results=2))
    querylog.record_search(search("call 070-123 45 67 about order 1234567", results=0))
    querylog.close()

    stored = rows(db, "SELECT query, norm FROM searches ORDER BY query")
    assert stored == [
        ("call <phone> about order <order-number>", "<order-number> <phone> call order"),
        ("refund to <email> please", "<email> please refund"),
    ]
    raw = b"".join(f.read_bytes() for f in db.parent.iterdir())
    for secret in (b"anna.svensson", b"gmail", b"123 45 67", b"1234567"):
        assert secret not in raw


def test_the_schema_is_versioned_and_in_wal_mode(querylog: SQLiteQueryLog, db: Path) -> None:
    querylog.record_search(search("hello"))
    assert querylog.flush(timeout=10)
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("Return policy?", "policy return"),
        ("RETURNS   policy", "policy return"),
        ("Where is my parcel?", "parcel"),
        ("Wie lange dauert Rücksendung", "dauert lange rucksendung wie"),
        ("shipping costs to Norway 2024", "<n> cost norway ship"),
        ("size 38 or 40", "<n> size"),
        ("order 123456 missing", "<order-number> miss order"),
        ("deliveries delayed", "delay delivery"),
        ("where is my", "is my where"),  # only stop words: keep them rather than nothing
    ],
)
def test_normalise(query: str, form: str) -> None:
    assert normalise(query) == form


def test_typos_and_word_order_land_in_one_group(querylog: SQLiteQueryLog) -> None:
    for query in ("retrun policy", "return policy", "policy return", "returns policy"):
        querylog.record_search(search(query))
    querylog.record_search(search("gift wrapping"))
    assert querylog.flush(timeout=10)

    top, other = querylog.gaps().unanswered
    assert (top.key, top.count) == ("policy return", 4)
    assert sorted(top.examples) == [
        "policy return",
        "retrun policy",
        "return policy",
        "returns policy",
    ]
    assert (other.key, other.count) == ("gift wrap", 1)


def test_differing_order_numbers_group_together(querylog: SQLiteQueryLog) -> None:
    querylog.record_search(search("order 123456 missing"))
    querylog.record_search(search("order 987654 missing"))
    assert querylog.flush(timeout=10)

    (group,) = querylog.gaps().unanswered
    assert group.count == 2
    assert group.examples == ["order <order-number> missing"]


def test_purge_removes_old_raw_rows_but_keeps_gap_counts(
    querylog: SQLiteQueryLog, db: Path
) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=120), now - timedelta(days=2)
    querylog.record_search(search("gift wrapping", at=old, search_id="old"))
    querylog.record_search(search("gift wrap", at=recent, search_id="new"))
    querylog.record_click("new", "101")
    querylog.record_feedback("101", helpful=False, missing="no wrapping info")
    assert querylog.flush(timeout=10)

    assert querylog.purge(now=now) == 1  # retention is 90 days
    assert rows(db, "SELECT search_id FROM searches") == [("new",)]
    assert querylog.purge(now=now + timedelta(days=91)) == 3  # the search, click, feedback
    assert rows(db, "SELECT COUNT(*) FROM searches") == [(0,)]

    (group,) = querylog.gaps().unanswered
    assert (group.key, group.count) == ("gift wrap", 2)
    assert (group.first_seen, group.last_seen) == (old, recent)
    assert group.examples == []  # customers' own words go with the raw rows


def test_close_loses_none_of_500_quick_searches(db: Path) -> None:
    log = SQLiteQueryLog(db)
    for n in range(500):
        log.record_search(search(f"query number {n}", results=n % 3))
    log.close()
    log.close()  # twice is harmless
    log.record_search(search("after close"))  # ignored, does not raise

    assert rows(db, "SELECT COUNT(*) FROM searches") == [(500,)]


def test_an_unwritable_store_is_logged_and_search_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("I am a file")
    log = SQLiteQueryLog(not_a_directory / "querylog.db")
    with caplog.at_level(logging.ERROR, logger="kb_search.querylog"):
        log.record_search(search("return label"))
        log.record_click("x", "101")
        log.record_feedback("101", helpful=True, missing=None)
        assert log.flush(timeout=10)
        log.close()

    errors = [r for r in caplog.records if r.name == "kb_search.querylog"]
    assert errors
    assert all(r.levelno == logging.ERROR for r in errors)
    assert "could not be stored" in errors[0].getMessage()


def test_searches_with_results_but_no_click(querylog: SQLiteQueryLog) -> None:
    querylog.record_search(search("size guide", results=4, search_id="a"))
    querylog.record_search(search("size guides", results=4, search_id="b"))
    querylog.record_search(search("track parcel", results=2, search_id="c"))
    querylog.record_click("c", "101")
    assert querylog.flush(timeout=10)

    report = querylog.gaps()
    assert report.unanswered == []
    (group,) = report.no_click
    assert (group.key, group.count) == ("guide size", 2)
    assert sorted(group.examples) == ["size guide", "size guides"]


def test_articles_voted_not_helpful(querylog: SQLiteQueryLog) -> None:
    for _ in range(3):
        querylog.record_feedback("101", helpful=False, missing="what if EB-123456 is late")
    querylog.record_feedback("101", helpful=True, missing=None, search_id="s1")
    querylog.record_feedback("102", helpful=False, missing=None)
    querylog.record_feedback("103", helpful=True, missing=None)
    assert querylog.flush(timeout=10)

    worst, second = querylog.gaps().not_helpful
    assert (worst.article_id, worst.not_helpful, worst.helpful) == ("101", 3, 1)
    assert worst.missing == ["what if <order-number> is late"]
    assert (second.article_id, second.not_helpful, second.missing) == ("102", 1, [])


def test_the_report_is_json_and_gaps_can_be_annotated(querylog: SQLiteQueryLog) -> None:
    log: QueryLog = querylog  # the app depends on the protocol only
    log.record_search(search("gift wrapping", at=NOW))
    log.record_feedback("101", helpful=False, missing="no wrapping")
    assert log.flush(timeout=10)
    report = log.gaps(limit=10)
    report.unanswered[0].closest_article = "101"

    data = json.loads(json.dumps(to_dict(report)))
    assert data["unanswered"] == [
        {
            "key": "gift wrap",
            "count": 1,
            "first_seen": "2026-11-01T12:00:00+00:00",
            "last_seen": "2026-11-01T12:00:00+00:00",
            "examples": ["gift wrapping"],
            "closest_article": "101",
        }
    ]
    assert data["not_helpful"] == [
        {"article_id": "101", "not_helpful": 1, "helpful": 0, "missing": ["no wrapping"]}
    ]


def test_recording_does_not_wait_for_a_locked_store(querylog: SQLiteQueryLog, db: Path) -> None:
    querylog.record_search(search("warm up"))
    assert querylog.flush(timeout=10)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.perf_counter()
        for n in range(200):
            querylog.record_search(search(f"while locked {n}"))
        assert time.perf_counter() - started < 1.0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert querylog.flush(timeout=10)  # the writer waited for the lock, then wrote
    assert rows(db, "SELECT COUNT(*) FROM searches") == [(201,)]


def test_two_replicas_can_share_one_log(db: Path) -> None:
    first, second = SQLiteQueryLog(db), SQLiteQueryLog(db)
    for n in range(300):
        first.record_search(search(f"gift wrap {n}"))
        second.record_search(search(f"wrapping gifts {n}"))
    first.close()
    second.close()

    assert rows(db, "SELECT COUNT(*) FROM searches") == [(600,)]
    assert rows(db, "SELECT key, count FROM gap_groups") == [("<n> gift wrap", 600)]


def test_text_that_cannot_be_encoded_is_stored_not_dropped(
    querylog: SQLiteQueryLog, db: Path
) -> None:
    querylog.record_search(search("broken \ud800 text"))
    querylog.record_search(search("fine text"))
    querylog.close()
    assert rows(db, "SELECT query FROM searches ORDER BY query") == [
        ("broken ? text",),
        ("fine text",),
    ]


def test_open_log_follows_the_settings(tmp_path: Path) -> None:
    db = tmp_path / "querylog.sqlite3"
    settings = Settings.from_env({}, log_db=db, log_retention_days=30)
    query_log = open_log(settings)
    assert isinstance(query_log, SQLiteQueryLog)
    assert query_log.retention_days == 30
    query_log.record_search(search("gift wrap"))
    query_log.close()
    assert rows(db, "SELECT COUNT(*) FROM searches") == [(1,)]

    off = open_log(Settings.from_env({"KB_LOG_SEARCHES": "off"}, log_db=tmp_path / "off.db"))
    assert isinstance(off, NullQueryLog)
    off.record_search(search("gift wrap"))
    off.close()
    assert off.gaps().unanswered == []
    assert not (tmp_path / "off.db").exists()
