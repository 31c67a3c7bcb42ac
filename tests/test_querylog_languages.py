"""The query log per language, on a real SQLite file: every row keeps its language, every report
is one language's, and a log written before languages is English."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb_search.querylog import QueryLog, SearchEvent, to_dict
from kb_search.querylog.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from tests.querylog.test_sqlite import rows

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEEN = "2026-10-01T00:00:00.000000+00:00"


def search(
    query: str,
    language: str = "en",
    results: int = 0,
    *,
    session: str | None = "c0ffee",
    search_id: str | None = None,
    at: datetime = NOW,
) -> SearchEvent:
    return SearchEvent(
        search_id or uuid.uuid4().hex,
        query,
        results,
        "126" if results else None,
        None,
        None,
        session,
        at=at,
        language=language,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "querylog.sqlite3"


@pytest.fixture
def querylog(db: Path) -> Iterator[QueryLog]:
    log = QueryLog(SQLiteStore(db))
    yield log
    log.close()


def test_a_swedish_search_that_found_nothing_is_a_swedish_gap_only(querylog: QueryLog) -> None:
    querylog.record_search(search("presentinslagning till jul", "sv"))
    querylog.record_search(search("gift wrap", "en"))
    assert querylog.flush(timeout=10)

    (swedish,) = querylog.gaps(language="sv").unanswered
    assert (swedish.key, swedish.examples) == (
        "jul presentinslagning",
        ["presentinslagning till jul"],
    )
    (english,) = querylog.gaps().unanswered
    assert english.key == "gift wrap"
    assert querylog.gaps(language="sv").language == "sv"
    assert to_dict(querylog.gaps(language="sv"))["language"] == "sv"


def test_the_same_form_in_two_languages_is_two_groups(querylog: QueryLog, db: Path) -> None:
    for language in ("en", "sv", "sv"):
        querylog.record_search(search("xqzvy blorft", language))
    assert querylog.flush(timeout=10)

    assert rows(db, "SELECT language, key, count FROM gap_groups ORDER BY language") == [
        ("en", "blorft xqzvy", 1),
        ("sv", "blorft xqzvy", 2),
    ]
    assert [(g.key, g.count) for g in querylog.gaps().unanswered] == [("blorft xqzvy", 1)]
    assert [(g.key, g.count) for g in querylog.gaps(language="sv").unanswered] == [
        ("blorft xqzvy", 2)
    ]


def test_swedish_searches_are_grouped_by_the_swedish_analysis(querylog: QueryLog) -> None:
    # Swedish stems "presentinslagningar" to its singular; English analysis would not.
    querylog.record_search(search("presentinslagningar", "sv"))
    querylog.record_search(search("presentinslagning", "sv"))
    # "får" (may) is not "far" in Swedish: å is a letter, not an accented a.
    querylog.record_search(search("får returnera", "sv"))
    querylog.record_search(search("far returnera", "sv"))
    assert querylog.flush(timeout=10)

    groups = {g.key: g.count for g in querylog.gaps(language="sv").unanswered}
    assert groups["presentinslagning"] == 2
    assert groups["får returner"] == 1 and groups["far returner"] == 1


def test_searches_no_one_clicked_are_reported_per_language(querylog: QueryLog) -> None:
    querylog.record_search(search("storleksguide", "sv", results=3, search_id="sv-1"))
    querylog.record_search(search("size guide", "en", results=3, search_id="en-1"))
    querylog.record_search(search("spåra paket", "sv", results=3, search_id="sv-2"))
    querylog.record_click("sv-2", "103", language="sv")
    assert querylog.flush(timeout=10)

    assert [g.examples for g in querylog.gaps(language="sv").no_click] == [["storleksguide"]]
    assert [g.examples for g in querylog.gaps().no_click] == [["size guide"]]


def test_feedback_is_reported_in_the_language_it_was_given_in(querylog: QueryLog, db: Path) -> None:
    querylog.record_feedback("126", False, "inget om ombud", reason="unclear", language="sv")
    querylog.record_feedback("126", False, None, reason="outdated", language="sv")
    querylog.record_feedback("126", True, None, language="en")
    assert querylog.flush(timeout=10)

    (swedish,) = querylog.gaps(language="sv").not_helpful
    assert (swedish.not_helpful, swedish.helpful, swedish.missing) == (2, 0, ["inget om ombud"])
    assert swedish.reasons == {"unclear": 1, "outdated": 1}
    assert querylog.gaps().not_helpful == []  # the English readers found it helpful
    assert rows(db, "SELECT language, helpful FROM feedback ORDER BY language") == [
        ("en", 1),
        ("sv", 0),
        ("sv", 0),
    ]


def test_evidence_and_rephrasings_stay_within_their_language(db: Path) -> None:
    later = NOW + timedelta(minutes=1)
    with QueryLog(SQLiteStore(db)) as querylog:
        # One visit: a Swedish search found nothing, then an English one was clicked.
        querylog.record_search(search("qwzx", "sv", session="visit-1", search_id="a"))
        querylog.record_search(
            search("refund", "en", 2, session="visit-1", search_id="b", at=later)
        )
        querylog.record_click("b", "161")
        # Another visit, all Swedish: found nothing, said again, clicked.
        querylog.record_search(search("qwzx", "sv", session="visit-2", search_id="c"))
        querylog.record_search(
            search("återbetalning", "sv", 2, session="visit-2", search_id="d", at=later)
        )
        querylog.record_click("d", "161", language="sv")
        assert querylog.flush(timeout=10)
    store = SQLiteStore(db)

    assert sorted(store.evidence(10, "sv")) == [("c", "qwzx", "161"), ("d", "återbetalning", "161")]
    assert store.reformulations(10, "sv") == [("c", "qwzx", "161")]
    assert store.evidence(10) == [("b", "refund", "161")]
    assert store.reformulations(10) == []
    counts = store.click_counts(NOW - timedelta(days=1), 1, "sv")
    assert ("återbetalning", "161", 1, None) in counts
    assert all(form != "refund" for form, *_ in counts)


def test_retention_is_the_same_for_every_language(querylog: QueryLog, db: Path) -> None:
    old = NOW - timedelta(days=120)
    querylog.record_search(search("gammal sökning", "sv", at=old, search_id="old-sv"))
    querylog.record_search(search("old search", "en", at=old, search_id="old-en"))
    querylog.record_search(search("ny sökning", "sv", search_id="new-sv"))
    assert querylog.flush(timeout=10)

    assert querylog.purge(now=NOW) == 2
    assert rows(db, "SELECT search_id FROM searches") == [("new-sv",)]
    assert rows(db, "SELECT language, text FROM gap_examples") == [("sv", "ny sökning")]


def test_a_schema_3_log_is_upgraded_and_its_rows_are_english(tmp_path: Path) -> None:
    db = tmp_path / "v3.sqlite3"
    conn = sqlite3.connect(db)
    for steps in MIGRATIONS[:3]:  # the schema as version 3 left it
        for step in steps:
            conn.execute(step) if isinstance(step, str) else step(conn)
    conn.execute(
        "INSERT INTO searches VALUES ('s1', ?, 'gift wrap', 'gift wrap', 0, NULL, NULL, NULL,"
        " 'visit-1')",
        (SEEN,),
    )
    conn.execute("INSERT INTO clicks VALUES ('s1', '101', ?)", (SEEN,))
    conn.execute(
        "INSERT INTO feedback (article_id, helpful, missing, search_id, at, reason)"
        " VALUES ('101', 0, 'no wrapping', NULL, ?, 'unclear')",
        (SEEN,),
    )
    conn.execute("INSERT INTO gap_groups VALUES ('gift wrap', 4, ?, ?)", (SEEN, SEEN))
    conn.execute("INSERT INTO gap_examples VALUES ('gift wrap', 'gift wrap', ?)", (SEEN,))
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()

    with QueryLog(SQLiteStore(db)) as querylog:
        querylog.record_search(search("gift wraps", "en"))
        querylog.record_search(search("gift wrap", "sv"))
        assert querylog.flush(timeout=10)
        english, swedish = querylog.gaps(), querylog.gaps(language="sv")

    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    for table in ("searches", "clicks", "feedback"):
        assert ("en",) in rows(db, f"SELECT DISTINCT language FROM {table}"), table
    assert rows(db, "SELECT language FROM searches WHERE search_id = 's1'") == [("en",)]
    assert [(g.key, g.count) for g in english.unanswered] == [("gift wrap", 5)]
    assert english.unanswered[0].examples == ["gift wraps", "gift wrap"]
    assert [(f.article_id, f.missing) for f in english.not_helpful] == [("101", ["no wrapping"])]
    assert [(g.key, g.count) for g in swedish.unanswered] == [("gift wrap", 1)]
    assert swedish.not_helpful == []
