"""Learned boosts per language: Swedish customers' clicks reorder Swedish searches only, read
with the Swedish analysis, from a real SQLite log and a real release with its Swedish index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_search import search as engine
from kb_search.articles import copy_help_center, load
from kb_search.boosts import MIN_VISITS, LearnedBoosts, built_at, learn, query_key
from kb_search.querylog import QueryLog, SearchEvent
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.versions import LiveIndex, OpenIndex, build
from tests.conftest import ROOT

QUERY = "paketet har inte kommit"


@pytest.fixture
def release(index_root: Path) -> Iterator[OpenIndex]:
    """The real release (its first language's index, holding the Swedish one too)."""
    live = LiveIndex(index_root)
    yield live.current()
    live.close()


def customers(log_db: Path, language: str, article_id: int, visits: int = MIN_VISITS) -> None:
    """Visits that each search QUERY in `language` and open `article_id`."""
    with QueryLog(SQLiteStore(log_db)) as query_log:
        for number in range(visits):
            search_id = uuid.uuid4().hex
            event = SearchEvent(search_id, QUERY, 5, None, None, None, f"{language}-{number}",
                                language=language)  # fmt: skip
            query_log.record_search(event)
            query_log.record_click(search_id, str(article_id), language=language)


def test_swedish_clicks_boost_the_swedish_search_only(release: OpenIndex, tmp_path: Path) -> None:
    swedish_index = release.in_language("sv")
    results = engine.search(swedish_index, QUERY).results
    wanted = results[2].id  # customers open the third result
    log_db = tmp_path / "querylog.sqlite3"
    customers(log_db, "sv", wanted)
    store = SQLiteStore(log_db)

    swedish = LearnedBoosts(store, "sv").refresh(release)
    assert swedish.language == "sv"
    assert list(swedish.by_query) == [query_key(QUERY, "sv")]
    boost = swedish.for_query("Paketet har inte kommit?")
    assert boost is not None and (boost.article_id, boost.clicks) == (str(wanted), MIN_VISITS)
    assert swedish.apply(QUERY, results)[0].id == wanted  # moved up in the Swedish results

    english = LearnedBoosts(store).refresh(release)  # English by default, as before
    assert english.language == "en" and not english


def test_the_boosts_of_one_language_are_never_applied_to_another(
    release: OpenIndex, tmp_path: Path
) -> None:
    log_db = tmp_path / "querylog.sqlite3"
    customers(log_db, "en", 103)
    swedish_index = release.in_language("sv")
    english, swedish = LearnedBoosts(SQLiteStore(log_db)), LearnedBoosts(SQLiteStore(log_db), "sv")
    english.refresh(release)
    swedish.refresh(release)

    assert english.current(release) is not None and english.current(swedish_index) is None
    assert swedish.current(swedish_index) is not None and swedish.current(release) is None
    # Learned for this release, whichever of its indexes asks: not learned again at once.
    assert not english.due(swedish_index) and not swedish.due(release)


def test_each_language_learns_its_own_article_for_the_same_words(
    release: OpenIndex, tmp_path: Path
) -> None:
    log_db = tmp_path / "querylog.sqlite3"
    customers(log_db, "sv", 126)
    customers(log_db, "en", 103)
    store = SQLiteStore(log_db)
    since = built_at(release)

    swedish = learn(store, release, since, language="sv")
    english = learn(store, release, since)
    assert {b.article_id for b in swedish.by_query.values()} == {"126"}
    assert {b.article_id for b in english.by_query.values()} == {"103"}
    # The same words, read by each language: Swedish drops "har" and "inte" as stop words.
    assert list(swedish.by_query) != list(english.by_query)


def test_a_language_the_help_center_cannot_analyse_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        LearnedBoosts(SQLiteStore(tmp_path / "querylog.sqlite3"), "xx")


def test_a_rebuild_with_the_same_swedish_articles_keeps_the_swedish_evidence(
    tmp_path: Path,
) -> None:
    docs = copy_help_center(ROOT / "docs", tmp_path / "docs")
    root = tmp_path / "releases"
    first = build(load(docs), root)
    build(load(docs), root)
    live = LiveIndex(root)
    try:
        newest = live.current()
        assert newest.folder != first
        boosts = LearnedBoosts(SQLiteStore(tmp_path / "querylog.sqlite3"), "sv").refresh(newest)
        older = OpenIndex.open(first)
        try:
            assert boosts.since == built_at(older.in_language("sv"))
        finally:
            older.close()
    finally:
        live.close()
