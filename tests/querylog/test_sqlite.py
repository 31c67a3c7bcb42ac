"""What only the SQLite store has: its file (WAL, permissions, bytes on disk), its upgrades from
earlier schemas, and the URL that names it. The contract both stores keep is test_store.py."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb_search.config import Settings
from kb_search.querylog import QueryLog, open_log
from kb_search.querylog.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from tests.querylog.conftest import NOW, search


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


def test_an_email_in_a_query_is_in_no_file_of_the_log(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("refund to anna.svensson@gmail.com please", results=2))
    querylog.record_search(search("call 070-123 45 67 about order 1234567", results=0))
    querylog.close()

    raw = b"".join(f.read_bytes() for f in db.parent.iterdir())
    for secret in (b"anna.svensson", b"gmail", b"123 45 67", b"1234567"):
        assert secret not in raw


def test_the_schema_is_versioned_and_in_wal_mode(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("hello"))
    assert querylog.flush(timeout=10)
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


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


def test_the_log_is_readable_by_the_service_alone(querylog: QueryLog, db: Path) -> None:
    querylog.record_search(search("gift wrap"))
    assert querylog.flush(timeout=10)
    for path in db.parent.glob(db.name + "*"):
        assert path.stat().st_mode & 0o077 == 0, path
