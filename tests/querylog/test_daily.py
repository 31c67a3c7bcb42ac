"""The daily figures on both stores: what counts where, once, in which language; how a gap is
followed over its life; and how a SQLite log of the previous schema gets its figures."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from kb_search.querylog import LogStore, SearchEvent
from kb_search.querylog.daily import FIGURES_RETENTION_DAYS
from kb_search.querylog.events import ClickEvent, ContactEvent
from kb_search.querylog.gaps import normalise
from kb_search.querylog.insights import Period, gap_lives, insights
from kb_search.querylog.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from tests.querylog.conftest import Backend

DAY = dt.datetime(2026, 10, 5, 9, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 30)


def searched(
    search_id: str, query: str, results: int, at: dt.datetime, language: str = "en"
) -> SearchEvent:
    top = "101" if results else None
    return SearchEvent(search_id, query, results, top, None, None, "visit-000001", at=at,
                       language=language, topic="returns" if results else None)  # fmt: skip


def figures(store: LogStore, language: str = "en") -> dict[str, int]:
    found = insights(store, Period.last(90, TODAY), language, None, {}, {}, TODAY)
    return {k: v for k, v in found.total.counts.items() if v}


def test_a_batch_written_twice_counts_once(backend: Backend) -> None:
    store = backend.store()
    batch = [
        [searched("a" * 32, "return label", 3, DAY), searched("b" * 32, "return label", 3, DAY)]
    ]
    store.write(batch)  # type: ignore[arg-type]
    store.write(batch)  # type: ignore[arg-type]  # retried after a lost acknowledgement
    store.close()
    assert figures(store) == {"searches": 2, "visits": 1}


def test_a_swedish_search_that_opens_an_english_article_counts_as_swedish(
    backend: Backend,
) -> None:
    with backend.log() as log:
        log.record_search(searched("c" * 32, "returetikett", 0, DAY, language="sv"))
        assert log.flush(timeout=10)
        log.writer.record(ClickEvent("c" * 32, "101", at=DAY, language="en", position=1))
        log.writer.record(ContactEvent("visit-000001", at=DAY, language="sv"))
        assert log.flush(timeout=10)
        swedish, english = figures(log.store, "sv"), figures(log.store, "en")
    assert swedish == {"searches": 1, "zero_results": 1, "clicked_searches": 1, "clicks": 1,
                       "positioned_clicks": 1, "position_sum": 1, "visits": 1,
                       "contacted": 1}  # fmt: skip
    assert english == {}  # the article's clicks are the English article's (article_daily)


def test_a_log_of_schema_4_gets_the_figures_of_what_it_kept(tmp_path: Path) -> None:
    db = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    for steps in MIGRATIONS[:4]:
        for step in steps:
            if isinstance(step, str):
                conn.execute(step)
    at = "2026-10-05T09:30:00.000000+00:00"
    conn.execute(
        "INSERT INTO searches (search_id, at, query, norm, result_count, top_result, category,"
        " corrected, session, language) VALUES ('s1', ?, 'return label', 'label return', 3,"
        " '101', NULL, NULL, 'v', 'en'), ('s2', ?, 'gift wrap', 'gift wrap', 0, NULL, NULL,"
        " NULL, 'v', 'en')",
        (at, at),
    )
    conn.execute("INSERT INTO clicks VALUES ('s1', '101', ?, 'en')", (at,))
    conn.execute("INSERT INTO feedback VALUES ('101', 0, 'sizes', NULL, ?, NULL, 'en')", (at,))
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    store = SQLiteStore(db)
    assert figures(store) == {"searches": 2, "zero_results": 1, "clicked_searches": 1,
                              "clicks": 1, "not_helpful": 1, "clicked_with_results": 1}  # fmt: skip
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    check.close()


def test_a_published_draft_answers_the_gap_its_searches_came_from(backend: Backend) -> None:
    """`kb draft` keeps a gap's searches in `queries`; once published, the dashboard takes the
    article's review date as the day the gap was answered and compares the days around it."""
    with backend.log() as log:
        for day in range(10):  # found nothing for ten days, then something for ten
            at = DAY + dt.timedelta(days=day)
            log.record_search(searched(f"{day:032x}", "gift wrap", 0 if day < 5 else 2, at))
        assert log.flush(timeout=10)
        answers = {normalise("Gift wrap?"): ("201", DAY.date() + dt.timedelta(days=5))}
        today = DAY.date() + dt.timedelta(days=10)
        [life] = gap_lives(log.store, "en", None, today, answers)
    assert (life.state, life.article_id, life.by_writer) == ("answered", "201", False)
    assert life.before and life.after and life.after.days == 5
    assert (life.before.zero_result_rate, life.after.zero_result_rate) == (1.0, 0.0)


def test_figures_are_kept_two_years_and_then_go(backend: Backend) -> None:
    with backend.log() as log:
        log.record_search(searched("d" * 32, "return label", 3, DAY))
        assert log.flush(timeout=10)
        log.purge(now=DAY + dt.timedelta(days=FIGURES_RETENTION_DAYS - 1))
        kept = insights(log.store, Period(DAY.date(), DAY.date()), "en", None, {}, {}, TODAY)
        assert kept.total.searches == 1
        log.purge(now=DAY + dt.timedelta(days=FIGURES_RETENTION_DAYS + 1))
        gone = insights(log.store, Period(DAY.date(), DAY.date()), "en", None, {}, {}, TODAY)
        assert gone.total.searches == 0


def test_a_click_written_before_its_search_counts_when_the_search_comes(
    backend: Backend,
) -> None:
    """Two processes: one writes a click while the other still holds its search."""
    first, second = backend.store(), backend.store()
    first.write([[ClickEvent("e" * 32, "101", at=DAY, position=2)]])  # type: ignore[list-item]
    second.write([[searched("e" * 32, "return label", 3, DAY)]])  # type: ignore[list-item]
    first.write([[ClickEvent("e" * 32, "102", at=DAY, position=1)]])  # type: ignore[list-item]
    assert figures(second) == {"searches": 1, "clicked_searches": 1, "clicked_with_results": 1,
                               "clicks": 2, "positioned_clicks": 2, "position_sum": 3,
                               "visits": 1, "self_served": 1}  # fmt: skip


def test_opening_an_article_offered_for_a_search_that_found_nothing_is_no_click_saved(
    backend: Backend,
) -> None:
    """A Swedish search that found nothing may open an English article offered instead: it
    is clicked, but it does not lower the no-click rate of the searches that found some."""
    with backend.log() as log:
        log.record_search(searched("f" * 32, "faktura", 2, DAY, language="sv"))  # not opened
        log.record_search(searched("g" * 32, "zzkvitto", 0, DAY, language="sv"))
        assert log.flush(timeout=10)
        log.writer.record(ClickEvent("g" * 32, "101", at=DAY, language="en", position=1))
        assert log.flush(timeout=10)
        found = insights(log.store, Period.last(90, TODAY), "sv", None, {}, {}, TODAY)
    assert found.total.rates["no_click_rate"] == 1.0  # the one search with results: unopened
    assert found.total.rates["click_through_rate"] == 0.5


def test_a_contact_from_a_page_of_another_language_ends_the_self_service(
    backend: Backend,
) -> None:
    with backend.log() as log:
        log.record_search(searched("h" * 32, "returetikett", 3, DAY, language="sv"))
        assert log.flush(timeout=10)
        log.writer.record(ClickEvent("h" * 32, "101", at=DAY, language="en", position=1))
        assert log.flush(timeout=10)
        assert figures(log.store, "sv")["self_served"] == 1
        log.writer.record(ContactEvent("visit-000001", at=DAY, language="en"))
        assert log.flush(timeout=10)
        swedish = figures(log.store, "sv")
    assert "self_served" not in swedish and swedish["contacted"] == 1
