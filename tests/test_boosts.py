"""Learned boosts: what customers of a repeated search open moves up, within bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search import boosts as learned_boosts
from kb_search import search as engine
from kb_search.app import create_app
from kb_search.articles import copy_help_center, load
from kb_search.boosts import MAX_MOVE, LearnedBoosts
from kb_search.cli import main
from kb_search.config import Settings
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.versions import LiveIndex, build
from tests.conftest import ROOT

QUERY = "parcel"  # finds a dozen of the real articles


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    """A copy of the real docs with a release of its own (so a test may change articles), a
    fresh query log, and limits that let one test client be many customers."""
    copy_help_center(ROOT / "docs", tmp_path / "docs")
    build(load(tmp_path / "docs"), tmp_path / "releases")
    return Settings.from_env(
        {},
        docs_dir=tmp_path / "docs",
        index_dir=tmp_path / "releases",
        log_db=tmp_path / "querylog.sqlite3",
        semantic_weight=0.0,
        rate_limit=1000,
        log_searches_per_minute=1000,
    )


def lexical(settings: Settings) -> list[int]:
    """QUERY's results on the current release, before anything is learned."""
    live = LiveIndex(settings.index_dir)
    try:
        return [r.id for r in engine.search(live.current(), QUERY).results]
    finally:
        live.close()


def ranked(client: TestClient, session: str = "visit-9999") -> list[int]:
    reply = client.get("/api/search", params={"q": QUERY, "session": session}).json()
    return [r["id"] for r in reply["results"]]


def customers(client: TestClient, opened: list[int], first: int = 0) -> None:
    """One visit per article in `opened`: it searches QUERY and opens that article."""
    for number, article in enumerate(opened, first):
        reply = client.get("/api/search", params={"q": QUERY, "session": f"visit-{number:04d}"})
        body = {"search_id": reply.json()["search_id"], "article_id": article}
        assert client.post("/api/click", json=body).status_code == 200
    assert client.app.state.service.log.flush(10)  # type: ignore[attr-defined]


def learned(settings: Settings) -> tuple[LiveIndex, learned_boosts.Boosts]:
    assert settings.log_db is not None
    live = LiveIndex(settings.index_dir)
    return live, LearnedBoosts(SQLiteStore(settings.log_db)).refresh(live.current())


def rewrite_an_article(settings: Settings) -> None:
    article = settings.docs_dir / "delivery" / "delivery-options.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nA new paragraph.\n", "utf-8")


@pytest.fixture
def quick_learning(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The service's background learning, relearning at once instead of every few minutes."""
    monkeypatch.setattr(learned_boosts, "REFRESH_SECONDS", 0.0)
    monkeypatch.setattr(learned_boosts, "CHECK_SECONDS", 0.05)
    monkeypatch.setattr(LiveIndex, "CHECK_SECONDS", 0.05)
    yield


def wait_for(check: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the service never learned it"
        time.sleep(0.05)


def test_the_article_customers_open_moves_up_at_most_max_move_places(
    shop: Settings, quick_learning: None
) -> None:
    with TestClient(create_app(shop)) as client:
        before = ranked(client)
        wanted = before[4]  # customers open the fifth result
        customers(client, [wanted] * 6 + [before[0]])
        wait_for(lambda: ranked(client) != before)
        after = ranked(client)
    assert after.index(wanted) == 4 - MAX_MOVE  # second: moved up, but not to the top
    assert sorted(after) == sorted(before)  # reordered only: nothing added, nothing dropped
    assert [i for i in after if i != wanted] == [i for i in before if i != wanted]


def test_a_boost_stays_out_of_exact_and_category_searches(
    shop: Settings, quick_learning: None
) -> None:
    """Learned from corrected searches in every category: "Search instead for" and a search
    within one category rank on their own."""
    live = LiveIndex(shop.index_dir)
    try:
        index = live.current()
        before = [r.id for r in engine.search(index, QUERY).results]

        def first_in_its_category(article: int) -> bool:
            category = index.records[str(article)]["category"]
            return engine.search(index, QUERY, category=category).results[0].id == article

        # Lower in the list, and not first in its category either: a boost would move it there.
        wanted = next(a for a in before[2:] if not first_in_its_category(a))
    finally:
        live.close()
    with TestClient(create_app(shop)) as client:
        customers(client, [wanted] * 6)
        wait_for(lambda: ranked(client) != before)
        exact = client.get("/api/search", params={"q": QUERY, "exact": "1"}).json()
        assert [r["id"] for r in exact["results"]] == before
    live, boosts = learned(shop)
    try:
        index = live.current()
        category = index.records[str(wanted)]["category"]
        within = engine.search(index, QUERY, category=category).results
        assert boosts.apply(QUERY, within) != within
        boosted = engine.search(index, QUERY, category=category, boosts=boosts).results
        assert [r.id for r in boosted] == [r.id for r in within]
    finally:
        live.close()


@pytest.mark.parametrize(
    "opened",
    [[4] * 3, [4] * 3 + [1] * 3],
    ids=["too few visits", "visits divided between two articles"],
)
def test_a_few_customers_or_divided_ones_move_nothing(shop: Settings, opened: list[int]) -> None:
    before = lexical(shop)
    with TestClient(create_app(shop)) as client:
        customers(client, [before[place] for place in opened])  # places in the results
    live, boosts = learned(shop)
    assert boosts.for_query(QUERY) is None
    live.close()


def test_one_customer_searching_again_and_again_is_one_visit(shop: Settings) -> None:
    wanted = lexical(shop)[4]
    with TestClient(create_app(shop)) as client:
        for _ in range(8):
            reply = client.get("/api/search", params={"q": QUERY, "session": "visit-0001"})
            body = {"search_id": reply.json()["search_id"], "article_id": wanted}
            client.post("/api/click", json=body)
    live, boosts = learned(shop)
    assert boosts.for_query(QUERY) is None
    live.close()


def test_boosts_start_afresh_when_the_articles_change(shop: Settings) -> None:
    wanted = lexical(shop)[4]
    with TestClient(create_app(shop)) as client:
        customers(client, [wanted] * 6)
    assert shop.log_db is not None
    learner = LearnedBoosts(SQLiteStore(shop.log_db))
    live = LiveIndex(shop.index_dir)
    first = live.current()
    learned_first = learner.refresh(first)
    assert learned_first.for_query(QUERY) is not None
    # New synonyms only: the articles customers saw are the same, the boost stays.
    synonyms = shop.docs_dir / "synonyms.yml"
    synonyms.write_text(synonyms.read_text(encoding="utf-8") + "- [flimbo, flambo]\n", "utf-8")
    build(load(shop.docs_dir), shop.index_dir)
    time.sleep(LiveIndex.CHECK_SECONDS)
    second = live.current()
    assert second.version != first.version
    boosts = learner.refresh(second)
    assert boosts.for_query(QUERY) is not None and boosts.fingerprint == learned_first.fingerprint
    restarted = LearnedBoosts(SQLiteStore(shop.log_db))  # a service started after the rebuild
    assert restarted.refresh(second).for_query(QUERY) is not None
    # An article rewritten: the clicks were on what customers no longer see.
    rewrite_an_article(shop)
    build(load(shop.docs_dir), shop.index_dir)
    time.sleep(LiveIndex.CHECK_SECONDS)
    third = live.current()
    boosts = learner.refresh(third)
    assert boosts.for_query(QUERY) is None and boosts.since > learned_first.since
    assert LearnedBoosts(SQLiteStore(shop.log_db)).refresh(third).for_query(QUERY) is None
    answer = engine.search(third, QUERY, boosts=boosts)
    assert [r.id for r in answer.results].index(wanted) == 4
    live.close()


def test_the_service_drops_boosts_at_a_release_with_other_articles(
    shop: Settings, quick_learning: None
) -> None:
    with TestClient(create_app(shop)) as client:
        before = ranked(client)
        customers(client, [before[4]] * 6)
        wait_for(lambda: ranked(client) != before)
        rewrite_an_article(shop)
        build(load(shop.docs_dir), shop.index_dir)
        wait_for(lambda: ranked(client) == before)


def test_learned_boosts_off(shop: Settings, quick_learning: None) -> None:
    off = Settings.from_env({}, **{**vars(shop), "learned_boosts": False})
    with TestClient(create_app(off)) as client:
        before = ranked(client)
        customers(client, [before[4]] * 6)
        assert client.app.state.service.learned == {}  # type: ignore[attr-defined]
        time.sleep(0.3)  # several rounds of the learning the service would do
        assert ranked(client) == before


def test_kb_explain_shows_the_boost_and_its_evidence(
    shop: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = lexical(shop)
    with TestClient(create_app(shop)) as client:
        customers(client, [before[4]] * 6 + [before[0]])
    where = ["--index-dir", str(shop.index_dir), "--log-db", str(shop.log_db)]
    assert main(["explain", QUERY, *where, "--semantic-weight", "0"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[1:2] == [str(before[4])])
    assert row.split()[0] == "2"
    assert "learned boost: moved up from 5 to 2: 6 of 7 visits that searched 'parcel'" in out
    assert "(86% of the clicks)" in out
    assert (
        main(["explain", QUERY, *where, "--semantic-weight", "0", "--learned-boosts", "off"]) == 0
    )
    out = capsys.readouterr().out
    assert "Learned boosts: off" in out and "learned boost:" not in out
