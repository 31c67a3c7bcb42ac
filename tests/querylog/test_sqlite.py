"""The query log on a real SQLite file: privacy, gap grouping, retention, upgrades."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb_search.config import Settings
from kb_search.querylog import QueryLog, SearchEvent, open_log, to_dict
from kb_search.querylog.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def search(
    query: str,
    results: int = 0,
    *,
    search_id: str | None = None,
    at: datetime | None = None,
) -> SearchEvent:
    return SearchEvent(
        search_id=search_id or uuid.uuid4().hex,
        query=query,
        result_count=results,
        top_result="101" if results else None,
        category=None,
        corrected=None,
        session="c0ffee",
        at=at or datetime.now(UTC),
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
def querylog(db: Path) -> Iterator[QueryLog]:
    log = QueryLog(SQLiteStore(db))
    yield log
    log.close()


def test_an_email_in_a_query_is_never_stored(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("refund to anna.svensson@gmail.com please", results=2))
    querylog.record_search(search("call 070-123 45 67 about order 1234567", results=0))
    querylog.close()

    stored = rows(db, "SELECT query, norm FROM searches ORDER BY query")
    assert stored == [
        ("call <phone> about order <order-number>", "<order-number> <phone> about call order"),
        ("refund to <email> please", "<email> refund"),
    ]
    raw = b"".join(f.read_bytes() for f in db.parent.iterdir())
    for secret in (b"anna.svensson", b"gmail", b"123 45 67", b"1234567"):
        assert secret not in raw


def test_the_schema_is_versioned_and_in_wal_mode(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("hello"))
    assert querylog.flush(timeout=10)
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_typos_and_word_order_land_in_one_group(querylog: QueryLog) -> None:
    for query in ("retrun policy", "return policy", "policy return", "returns policy"):
        querylog.record_search(search(query))
    querylog.record_search(search("gift wrap"))
    assert querylog.flush(timeout=10)

    top, other = querylog.gaps().unanswered
    assert (top.key, top.count) == ("polici return", 4)
    assert sorted(top.examples) == [
        "policy return",
        "retrun policy",
        "return policy",
        "returns policy",
    ]
    assert (other.key, other.count) == ("gift wrap", 1)


def test_differing_order_numbers_group_together(querylog: QueryLog) -> None:
    querylog.record_search(search("order 123456 missing"))
    querylog.record_search(search("order 987654 missing"))
    assert querylog.flush(timeout=10)

    (group,) = querylog.gaps().unanswered
    assert group.count == 2
    assert group.examples == ["order <order-number> missing"]


def test_purge_removes_every_row_and_text_older_than_retention(
    querylog: QueryLog, db: Path
) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=120), now - timedelta(days=2)
    querylog.record_search(search("gift wrap", at=old, search_id="old"))
    querylog.record_search(search("gift wraps", at=recent, search_id="new"))
    querylog.record_click("new", "101")
    querylog.record_feedback("101", helpful=False, missing="no wrapping info")
    assert querylog.flush(timeout=10)

    assert querylog.purge(now=now) == 1  # retention is 90 days
    assert rows(db, "SELECT search_id FROM searches") == [("new",)]
    (group,) = querylog.gaps().unanswered
    assert (group.key, group.count) == ("gift wrap", 2)  # counts outlive the raw rows
    assert (group.first_seen, group.last_seen) == (old, recent)
    assert group.examples == ["gift wraps"]  # the 120-day-old text went with its row

    assert querylog.purge(now=now + timedelta(days=91)) == 3  # the search, click, feedback
    assert rows(db, "SELECT COUNT(*) FROM searches") == [(0,)]
    assert querylog.gaps().unanswered == []  # a group not searched within retention goes
    assert rows(db, "SELECT COUNT(*) FROM gap_examples") == [(0,)]


def test_an_old_example_does_not_outlive_retention_in_a_popular_group(
    querylog: QueryLog, db: Path
) -> None:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    querylog.record_search(search("monogram towels", at=now - timedelta(days=300)))
    for day in range(1, 7):
        querylog.record_search(search(f"monogram towel{'!' * day}", at=now - timedelta(days=day)))
    querylog.record_search(search("monogram towels", at=now - timedelta(days=200)))
    assert querylog.flush(timeout=10)
    querylog.purge(now=now)

    texts = [t for (t,) in rows(db, "SELECT text FROM gap_examples")]
    assert "monogram towels" not in texts  # searched 300 and 200 days ago: past retention
    (group,) = querylog.gaps().unanswered
    # The newest five examples are kept, not the first five forever.
    assert group.examples == [f"monogram towel{'!' * day}" for day in range(1, 6)]


def test_close_loses_none_of_500_quick_searches(db: Path) -> None:
    log = QueryLog(SQLiteStore(db))
    for n in range(500):
        log.record_search(search(f"query number {n}", results=n % 3))
    log.close()
    log.close()  # twice is harmless
    log.record_search(search("after close"))  # ignored, does not raise

    assert rows(db, "SELECT COUNT(*) FROM searches") == [(500,)]


def test_searches_with_results_but_no_click(querylog: QueryLog) -> None:
    querylog.record_search(search("size guide", results=4, search_id="a"))
    querylog.record_search(search("size guides", results=4, search_id="b"))
    querylog.record_search(search("track parcel", results=2, search_id="c"))
    querylog.record_click("c", "101")
    assert querylog.flush(timeout=10)

    report = querylog.gaps()
    assert report.unanswered == []
    (group,) = report.no_click
    assert (group.key, group.count) == ("guid size", 2)
    assert sorted(group.examples) == ["size guide", "size guides"]


def test_articles_voted_not_helpful(querylog: QueryLog) -> None:
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


def test_the_report_is_json_and_gaps_can_be_annotated(querylog: QueryLog) -> None:
    log: QueryLog = querylog  # the app depends on the protocol only
    log.record_search(search("gift wrapping", at=NOW))
    log.record_feedback("101", helpful=False, missing="no wrapping", reason="not_answered")
    log.record_feedback("101", helpful=False, missing=None, reason="not_answered")
    log.record_feedback("101", helpful=False, missing=None, reason="outdated")
    assert log.flush(timeout=10)
    report = log.gaps(limit=10)
    report.unanswered[0].closest_article = "101"

    data = json.loads(json.dumps(to_dict(report)))
    assert data["unanswered"] == [
        {
            "key": "gift wrapp",
            "count": 1,
            "first_seen": "2026-11-01T12:00:00+00:00",
            "last_seen": "2026-11-01T12:00:00+00:00",
            "examples": ["gift wrapping"],
            "closest_article": "101",
            "mark": None,
        }
    ]
    assert data["not_helpful"] == [
        {
            "article_id": "101",
            "not_helpful": 3,
            "helpful": 0,
            "missing": ["no wrapping"],
            "reasons": {"not_answered": 2, "outdated": 1},
        }
    ]


def test_two_replicas_can_share_one_log(db: Path) -> None:
    first, second = QueryLog(SQLiteStore(db)), QueryLog(SQLiteStore(db))
    for n in range(300):
        first.record_search(search(f"gift wrap {n}"))
        second.record_search(search(f"wrap gifts {n}"))
    first.close()
    second.close()

    assert rows(db, "SELECT COUNT(*) FROM searches") == [(600,)]
    assert rows(db, "SELECT key, count FROM gap_groups") == [("<n> gift wrap", 600)]


def test_text_that_cannot_be_encoded_is_stored_not_dropped(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("broken \ud800 text"))
    querylog.record_search(search("fine text"))
    querylog.close()
    assert rows(db, "SELECT query FROM searches ORDER BY query") == [
        ("broken ? text",),
        ("fine text",),
    ]


def test_open_log_follows_the_settings(tmp_path: Path) -> None:
    db = tmp_path / "querylog.sqlite3"
    settings = Settings.from_env({"KB_LOG_URL": f"sqlite:///{db}", "KB_LOG_RETENTION_DAYS": "30"})
    query_log = open_log(settings)
    assert query_log.retention_days == 30
    query_log.record_search(search("gift wrap"))
    query_log.close()
    assert rows(db, "SELECT COUNT(*) FROM searches") == [(1,)]

    old_name = Settings.from_env({"KB_LOG_DB": str(tmp_path / "old-name.db")})
    with open_log(old_name) as query_log:
        query_log.record_search(search("gift wrap"))
    assert rows(tmp_path / "old-name.db", "SELECT COUNT(*) FROM searches") == [(1,)]

    off = open_log(Settings.from_env({"KB_LOG_SEARCHES": "off"}, log_db=tmp_path / "off.db"))
    off.record_search(search("gift wrap"))
    off.close()
    assert off.gaps().unanswered == []
    assert not (tmp_path / "off.db").exists()


def test_a_log_written_by_the_first_version_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(db)
    for statement in MIGRATIONS[0]:
        conn.execute(str(statement))
    conn.execute(
        "INSERT INTO gap_groups VALUES ('policy return', 7, ?, ?, ?)",
        ("2026-10-01T00:00:00.000000+00:00", "2026-10-30T00:00:00.000000+00:00",
         json.dumps(["retrun policy", "return policy"])),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO gap_groups VALUES ('gift wrap', 2, ?, ?, '[]')",
        ("2026-10-01T00:00:00.000000+00:00",) * 2,
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    with QueryLog(SQLiteStore(db)) as query_log:
        query_log.record_search(search("return policy", at=NOW))
        assert query_log.flush(timeout=10)
        top, other = query_log.gaps().unanswered
    assert (top.key, top.count) == ("polici return", 8)  # the old group, in the new form
    assert top.examples == ["return policy", "retrun policy"]
    assert (other.key, other.count, other.examples) == ("gift wrap", 2, [])
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_purged_text_is_gone_from_the_files_while_the_log_runs(
    querylog: QueryLog, db: Path
) -> None:
    now = datetime.now(UTC)
    querylog.record_search(search("zanzibarian towels", at=now - timedelta(days=200)))
    querylog.record_feedback("101", helpful=False, missing="zanzibarian sizes")
    querylog.record_search(search("gift wrap", at=now))
    assert querylog.flush(timeout=10)
    querylog.purge(now=now + timedelta(days=91))  # the feedback is now past retention too
    raw = b"".join(f.read_bytes() for f in db.parent.iterdir() if f.is_file())
    assert b"zanzibarian" not in raw  # neither in the database nor in its write-ahead log


@pytest.mark.parametrize(
    ("query", "corrected", "secrets"),
    [
        ("anna at example dot com", "anna at example do come", ["anna", "example"]),
        ("pasword Sommar2024!", "password Sommar2024!", ["Sommar2024", "sommar"]),
        ("my nmae is Anna Karlsson", "my name is Anna Karlsson", ["Anna", "Karlsson", "karlsson"]),
        ("anna\uff20example.com cant log in", None, ["anna", "example"]),
        ("refund for anna\u200b@example.com", None, ["anna", "example"]),
    ],
)
def test_neither_the_query_nor_its_correction_stores_what_the_other_hides(
    querylog: QueryLog, db: Path, query: str, corrected: str | None, secrets: list[str]
) -> None:
    event = search(query)
    querylog.record_search(SearchEvent(event.search_id, query, 0, None, None, corrected))
    querylog.close()
    stored = " ".join(
        str(value)
        for table in ("searches", "gap_groups", "gap_examples")
        for row in rows(db, f"SELECT * FROM {table}")
        for value in row
    )
    assert not [secret for secret in secrets if secret in stored], stored


def test_the_log_is_readable_by_the_service_alone(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("gift wrap"))
    assert querylog.flush(timeout=10)
    for path in db.parent.glob(db.name + "*"):
        assert path.stat().st_mode & 0o077 == 0, path
