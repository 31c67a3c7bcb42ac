"""The store contract, on a real SQLite file and a real PostgreSQL database alike: privacy, gap
grouping, retention, replicas sharing one log."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb_search.cli import main
from kb_search.querylog import (
    ClickEvent,
    ContactEvent,
    FeedbackEvent,
    LogStore,
    QueryLog,
    SearchEvent,
    gaps,
    to_dict,
)
from kb_search.querylog.events import Event
from kb_search.querylog.insights import Period, insights
from kb_search.querylog.postgres import PostgresStore
from kb_search.querylog.sqlite import SQLiteStore
from tests.querylog.conftest import NOW, Backend, search


def test_an_email_in_a_query_is_never_stored(querylog: QueryLog, backend: Backend) -> None:
    querylog.record_search(search("refund to anna.svensson@gmail.com please", results=2))
    querylog.record_search(search("call 070-123 45 67 about order 1234567", results=0))
    querylog.close()

    stored = backend.rows("SELECT query, norm FROM searches ORDER BY query")
    assert stored == [
        ("call <phone> about order <order-number>", "<order-number> <phone> about call order"),
        ("refund to <email> please", "<email> refund"),
    ]
    everything = backend.everything()
    for secret in ("anna.svensson", "gmail", "123 45 67", "1234567"):
        assert secret not in everything


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
    querylog: QueryLog, backend: Backend
) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=120), now - timedelta(days=2)
    querylog.record_search(search("gift wrap", at=old, search_id="old"))
    querylog.record_search(search("gift wraps", at=recent, search_id="new"))
    querylog.record_click("new", "101")
    querylog.record_feedback("101", helpful=False, missing="no wrapping info")
    assert querylog.flush(timeout=10)

    assert querylog.purge(now=now) == 1  # retention is 90 days
    assert backend.rows("SELECT search_id FROM searches") == [("new",)]
    (group,) = querylog.gaps().unanswered
    assert (group.key, group.count) == ("gift wrap", 2)  # counts outlive the raw rows
    assert (group.first_seen, group.last_seen) == (old, recent)
    assert group.first_seen.tzinfo is UTC  # the same type from every store
    assert group.examples == ["gift wraps"]  # the 120-day-old text went with its row

    assert querylog.purge(now=now + timedelta(days=91)) == 3  # the search, click, feedback
    assert backend.count() == 0
    assert querylog.gaps().unanswered == []  # a group not searched within retention goes
    assert backend.count("SELECT COUNT(*) FROM gap_examples") == 0
    assert "wrap" not in backend.everything()  # no table keeps the words


def test_an_old_example_does_not_outlive_retention_in_a_popular_group(
    querylog: QueryLog, backend: Backend
) -> None:
    querylog.record_search(search("monogram towels", at=NOW - timedelta(days=300)))
    for day in range(1, 7):
        querylog.record_search(search(f"monogram towel{'!' * day}", at=NOW - timedelta(days=day)))
    querylog.record_search(search("monogram towels", at=NOW - timedelta(days=200)))
    assert querylog.flush(timeout=10)
    querylog.purge(now=NOW)

    texts = [t for (t,) in backend.rows("SELECT text FROM gap_examples")]
    assert "monogram towels" not in texts  # searched 300 and 200 days ago: past retention
    (group,) = querylog.gaps().unanswered
    # The newest five examples are kept, not the first five forever.
    assert group.examples == [f"monogram towel{'!' * day}" for day in range(1, 6)]


def test_close_loses_none_of_500_quick_searches(backend: Backend) -> None:
    log = backend.log()
    for n in range(500):
        log.record_search(search(f"query number {n}", results=n % 3))
    log.close()
    log.close()  # twice is harmless
    log.record_search(search("after close"))  # ignored, does not raise

    assert backend.count() == 500


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
    assert second.reasons == {}


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


def test_a_gap_can_be_marked_and_unmarked(querylog: QueryLog) -> None:
    querylog.record_search(search("gift wrap", at=NOW))
    assert querylog.flush(timeout=10)
    querylog.store.mark_gap("en", "gift wrap", "answered", "101", NOW)
    querylog.store.mark_gap("en", "gift wrap", "dismissed", None, NOW)  # a second thought
    assert querylog.store.gap_marks("en") == {"gift wrap": ("dismissed", None, NOW)}
    (group,) = querylog.gaps().unanswered
    assert group.mark is not None and group.mark.state == "dismissed"
    querylog.store.mark_gap("en", "gift wrap", None, None, NOW)
    assert querylog.store.gap_marks("en") == {}
    with pytest.raises(ValueError, match="no searches"):
        querylog.store.mark_gap("en", "never searched", "dismissed", None, NOW)


def test_two_replicas_can_share_one_log(backend: Backend) -> None:
    first, second = backend.log(), backend.log()
    for n in range(300):
        first.record_search(search(f"gift wrap {n}"))
        second.record_search(search(f"wrap gifts {n}"))
    first.close()
    second.close()

    assert backend.count() == 600
    assert backend.rows("SELECT key, count FROM gap_groups") == [("<n> gift wrap", 600)]


def test_text_that_cannot_be_encoded_is_stored_not_dropped(
    querylog: QueryLog, backend: Backend
) -> None:
    querylog.record_search(search("broken \ud800 text"))
    querylog.record_search(search("nul \x00 text"))  # PostgreSQL's text holds no NUL
    querylog.record_search(search("fine text"))
    querylog.close()
    assert querylog.health()["dropped"] == 0
    assert [q for (q,) in backend.rows("SELECT query FROM searches ORDER BY query")] == [
        "broken ? text",
        "fine text",
        "nul \x00 text" if backend.name == "sqlite" else "nul \ufffd text",
    ]


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
    querylog: QueryLog, backend: Backend, query: str, corrected: str | None, secrets: list[str]
) -> None:
    event = search(query)
    querylog.record_search(SearchEvent(event.search_id, query, 0, None, None, corrected))
    querylog.close()
    stored = backend.everything()
    assert not [secret for secret in secrets if secret in stored], stored


def test_a_retried_batch_of_every_kind_of_event_counts_once(backend: Backend) -> None:
    store = backend.store()
    searched = search("return label", results=3, search_id="s" * 32, at=NOW)
    batch = [
        [searched],
        [ClickEvent(searched.search_id, "101", at=NOW, position=2)],
        [FeedbackEvent("101", False, "no label", searched.search_id, at=NOW)],
        [ContactEvent("c0ffee", at=NOW)],
    ]
    for _ in range(2):  # written, then retried: the first acknowledgement was lost
        store.write(batch)  # type: ignore[arg-type]
    counts = backend.rows(
        "SELECT searches, clicked_searches, clicks, position_sum, not_helpful, visits,"
        " self_served, contacted FROM daily"
    )
    assert counts == [(1, 1, 1, 2, 1, 1, 0, 1)]
    assert backend.count("SELECT COUNT(*) FROM clicks") == 1
    assert backend.count("SELECT COUNT(*) FROM feedback") == 1


def _customers(seed: int = 7) -> list[list[Event]]:
    """Ten days of two languages' visits (some in both): searches that found nothing and were
    said again, clicks at a position, votes with reasons, contact views. Phases: what one
    replica would have written by then (searches before their clicks)."""
    rng = random.Random(seed)
    words = {
        "en": ["gift wrap", "retrun label", "return label", "size guide", "track parcel",
               "voucher code", "delivery time", "invoice copy"],
        "sv": ["presentinslagning", "returetikett", "storleksguide", "spåra paket"],
    }  # fmt: skip
    searches: list[Event] = []
    follow_ups: list[Event] = []
    for visit in range(80):
        language = "sv" if visit % 4 == 0 else "en"
        session = f"visit-{visit:04d}" if visit % 9 else None
        at = NOW - timedelta(days=rng.randrange(10), minutes=rng.randrange(600), seconds=visit)
        for step in range(rng.randrange(1, 4)):
            if visit % 5 == 1 and step == 1:  # some visits go on in the other language
                language = "sv" if language == "en" else "en"
            found = rng.choice((0, 0, 2, 5))
            category = "returns" if rng.random() < 0.2 else None
            event = SearchEvent(
                uuid.uuid4().hex, rng.choice(words[language]), found,
                f"{100 + rng.randrange(6)}" if found else None, category,
                "return label" if rng.random() < 0.1 else None, session,
                at=at + timedelta(minutes=3 * step, microseconds=rng.randrange(10**6)),
                language=language, topic=category or ("shipping" if found else None),
            )  # fmt: skip
            searches.append(event)
            if found and rng.random() < 0.6:
                follow_ups.append(ClickEvent(
                    event.search_id, event.top_result or "", at=event.at + timedelta(seconds=20),
                    language=language, position=rng.randrange(1, 4), topic="shipping",
                ))  # fmt: skip
        if rng.random() < 0.3:
            follow_ups.append(FeedbackEvent(
                f"{100 + rng.randrange(6)}", rng.random() < 0.4,
                rng.choice((None, "", "what about anna@example.com", "prices")), None,
                rng.choice((None, "outdated", "unclear")), at=at + timedelta(minutes=20),
                language=language, topic="shipping",
            ))  # fmt: skip
        if session and rng.random() < 0.3:
            follow_ups.append(ContactEvent(session, at=at + timedelta(minutes=30),
                                           language=language))  # fmt: skip
    return [searches, follow_ups]


def _answers(store: LogStore, language: str) -> dict[str, object]:
    """Every question a store answers, for one language, with no order where none is
    promised."""
    start, end, since = "2026-10-20", "2026-11-01", "2026-10-27"
    keys = [g.key for g in store.gap_groups(100, language)]
    return {
        "gap_groups": store.gap_groups(100, language),
        "gap_examples": store.gap_examples(keys, language),
        "unclicked": store.unclicked(1000, language),
        "not_helpful": store.not_helpful(100, language),
        "evidence": sorted(store.evidence(10, language)),
        "reformulations": sorted(store.reformulations(5, language)),
        "click_counts": sorted(store.click_counts(NOW - timedelta(days=30), 2, language), key=repr),
        "day_figures": store.day_figures(start, end, language, None),
        "day_figures_returns": store.day_figures(start, end, language, "returns"),
        "form_figures": sorted(store.form_figures(start, end, since, language, None)),
        "gap_forms": sorted(store.gap_forms(language, None)),
        "form_days": store.form_days(keys[:3], language, None),
        "article_figures": sorted(store.article_figures(start, end, language, None)),
        "latest_queries": store.latest_queries([*keys, "#1"], language),  # no words of a number
        "missing_texts": store.missing_texts(["100", "101", "102"], start, end, language),
        "gap_marks": store.gap_marks(language),
        "report": to_dict(gaps.report(store, 50, language)),
        "insights": repr(
            insights(store, Period.last(30, NOW.date()), language, None, {}, {}, NOW.date())
        ),
    }


def test_both_stores_answer_every_question_alike(tmp_path: Path, postgres_url: str) -> None:
    """The same customers logged in SQLite and in PostgreSQL: the same answers, in the same
    Python types (compared by repr), before and after retention."""
    logs = [QueryLog(SQLiteStore(tmp_path / "log.sqlite3")), QueryLog(PostgresStore(postgres_url))]
    for phase in _customers():
        for start in range(0, len(phase), 40):  # the same batches, grouped as the writer does
            batch: dict[object, list[Event]] = {}
            for event in phase[start : start + 40]:
                batch.setdefault(event.same_as(), []).append(event)
            for log in logs:
                log.store.write(list(batch.values()))
    for log in logs:
        log.store.mark_gap("en", "gift wrap", "answered", "101", NOW)
        log.store.mark_gap("sv", log.gaps(language="sv").unanswered[0].key, "dismissed", None, NOW)
    for language in ("en", "sv"):
        lite, pg = (_answers(log.store, language) for log in logs)
        assert all(lite[q] for q in ("unclicked", "evidence", "reformulations", "click_counts",
                                     "not_helpful", "form_figures", "gap_marks")), lite  # fmt: skip
        for question, answer in lite.items():
            assert repr(pg[question]) == repr(answer), f"{language}: {question}"
    purged = [log.purge(now=NOW + timedelta(days=85)) for log in logs]
    assert purged[0] == purged[1] > 0
    for language in ("en", "sv"):
        lite, pg = (_answers(log.store, language) for log in logs)
        for question, answer in lite.items():
            # A form past retention is its number, which each database gives its own way.
            same = re.sub(r"#\d+", "#", repr(answer)), re.sub(r"#\d+", "#", repr(pg[question]))
            assert same[1] == same[0], f"{language} after purge: {question}"
    for log in logs:
        log.close()


def test_kb_log_migrate_makes_the_tables_once_and_the_log_then_takes_searches(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    url = backend.location if backend.name == "postgres" else f"sqlite:///{backend.location}"
    assert main(["log", "migrate", "--log-url", url]) == 0
    created = re.fullmatch(r"query log (\S+): created, schema (\d+)\n", capsys.readouterr().out)
    assert created is not None
    assert backend.count() == 0  # the tables are there, empty
    assert main(["log", "migrate", "--log-url", url]) == 0
    assert capsys.readouterr().out.endswith(f": schema {created[2]}, up to date\n")
    with backend.log() as log:
        log.record_search(search("gift wrap"))
    assert backend.count() == 1
