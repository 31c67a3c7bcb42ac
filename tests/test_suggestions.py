"""`kb synonyms suggest`: customers' words learned from a real log filled through the real API."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load
from kb_search.cli import main
from kb_search.config import Settings
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.suggestions import suggest
from tests.conftest import copy_project


def visit(client: TestClient, session: str, queries: list[str], open_id: int | None) -> None:
    """A customer's visit: some searches, then opening an article from the last one."""
    body: dict = {}  # type: ignore[type-arg]
    for query in queries:
        body = client.get("/api/search", params={"q": query, "session": session}).json()
    if open_id is not None:
        reply = client.post(
            "/api/click", json={"search_id": body["search_id"], "article_id": open_id}
        )
        assert reply.status_code == 200


@pytest.fixture
def filled_log(settings: Settings) -> Settings:
    app = create_app(Settings.from_env({}, **{**vars(settings), "rate_limit": 1000}))
    with TestClient(app) as client:
        # "sendify" is not in the tracking article; customers type it and open that article
        visit(client, "visit-0001", ["sendify status"], 103)
        visit(client, "visit-0002", ["where is my sendify"], 103)
        visit(client, "visit-0003", ["sendify tracking for anna@example.com"], 103)
        # "shippment" is a typo of the article's "shipment": spelling correction's to fix
        visit(client, "visit-0011", ["shippment status"], 103)
        visit(client, "visit-0012", ["where is my shippment"], 103)
        # "qwzx" found nothing; the same customer then searched again and opened an article
        visit(client, "visit-0004", ["qwzx", "refund"], 161)
        visit(client, "visit-0005", ["qwzx please", "refund"], 161)
        # "thing" leads to articles in two categories: not a synonym of either
        visit(client, "visit-0006", ["thing never came"], 126)
        visit(client, "visit-0007", ["thing never came"], 126)
        visit(client, "visit-0008", ["thing wrong size"], 241)
        visit(client, "visit-0009", ["thing wrong size"], 241)
        # a single search is not enough evidence
        visit(client, "visit-0010", ["lonely wordz"], 223)
    return settings


def store(settings: Settings) -> SQLiteStore:
    assert settings.log_db is not None
    return SQLiteStore(settings.log_db)


def test_suggestions_come_from_clicks_and_follow_ups(filled_log: Settings) -> None:
    found = {
        (s.article.id, s.word): s for s in suggest(load(filled_log.docs_dir), store(filled_log))
    }
    assert found[(103, "sendify")].searches == 3
    assert found[(161, "qwzx")].searches == 2
    assert found[(161, "qwzx")].examples == ("qwzx", "qwzx please")
    assert all(
        word not in {"thing", "lonely", "wordz", "email", "anna", "shippment"} for _, word in found
    )
    assert all("<" not in word for _, word in found)
    assert all(s.confidence >= 0.6 for s in found.values())


def test_words_the_article_already_has_are_not_suggested(filled_log: Settings) -> None:
    words = {(s.article.id, s.word) for s in suggest(load(filled_log.docs_dir), store(filled_log))}
    assert (103, "tracking") not in words and (103, "status") not in words


def test_the_patch_applies_to_the_articles(
    filled_log: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path / "project")
    code = main(
        [
            "synonyms",
            "suggest",
            "--patch",
            "--docs-dir",
            str(project / "docs"),
            "--log-db",
            str(filled_log.log_db),
        ]
    )
    diff = capsys.readouterr().out
    assert code == 0 and "+synonyms: [" in diff and "qwzx" in diff
    subprocess.run(["git", "apply", "-"], input=diff, text=True, cwd=project, check=True)
    article = load(project / "docs").by_id(161)
    assert article is not None and "qwzx" in article.synonyms


def test_the_table_names_article_word_and_evidence(
    filled_log: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "synonyms",
            "suggest",
            "--docs-dir",
            str(filled_log.docs_dir),
            "--log-db",
            str(filled_log.log_db),
        ]
    )
    line = next(line for line in capsys.readouterr().out.splitlines() if "qwzx" in line)
    assert line.split()[:4] == ["161", "qwzx", "2", "searches"]


def test_patch_words_stay_words_in_yaml() -> None:
    import yaml

    from kb_search.suggestions import _with_synonyms

    text = "---\nid: 1\nsynonyms: [old]\nqueries:\n  - a\n---\nBody\n"
    meta = yaml.safe_load(_with_synonyms(text, ["old", "yes", "off", "null"]).split("---")[1])
    assert meta["synonyms"] == ["old", "yes", "off", "null"]


def learning_app(settings: Settings) -> TestClient:
    """The real app, lexical (no model to load), with room for many clicks from one client."""
    changes = {"rate_limit": 1000, "log_searches_per_minute": 1000, "semantic_weight": 0.0}
    return TestClient(create_app(Settings.from_env({}, **{**vars(settings), **changes})))


def rephrase(client: TestClient, session: str, failed: str, title: str, open_id: int) -> str:
    """A search whose results the customer passes over, then the article's title, opened."""
    first = client.get("/api/search", params={"q": failed, "session": session}).json()
    assert first["total"] > 0, failed  # results were shown: not a zero-result search
    visit(client, session, [title], open_id)
    return str(first["search_id"])


def test_a_search_passed_over_then_said_again_points_at_the_article(settings: Settings) -> None:
    with learning_app(settings) as client:
        ids = [
            rephrase(client, "visit-0001", "flimbo refund", "Request a refund", 161),
            rephrase(client, "visit-0002", "my flimbo money back", "Request a refund", 161),
        ]
    log = store(settings)
    assert {(s, a) for s, _, a in log.reformulations(5)} >= {(i, "161") for i in ids}
    assert not {s for s, _, _ in log.evidence(10)} & set(ids)  # clicks alone never saw these
    found = {(s.article.id, s.word): s for s in suggest(load(settings.docs_dir), log)}
    assert found[(161, "flimbo")].failed == 2
    assert found[(161, "flimbo")].examples == ("flimbo refund", "my flimbo money back")


def test_another_visit_or_a_search_much_later_is_no_reformulation(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from kb_search.querylog import QueryLog, SearchEvent

    log = SQLiteStore(tmp_path / "log.sqlite3")
    start = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    with QueryLog(log) as query_log:
        for search_id, session, minutes in [
            ("a" * 32, "visit-0001", 0),  # passed over ...
            ("b" * 32, "visit-0002", 1),  # ... and another customer's search, clicked
            ("c" * 32, "visit-0001", 6),  # the same customer, past REPHRASE_MINUTES, clicked
            ("d" * 32, "visit-0003", 0),  # passed over ...
            ("e" * 32, "visit-0003", 4),  # ... and said again within them, clicked
        ]:
            at = start + timedelta(minutes=minutes)
            query_log.record_search(
                SearchEvent(search_id, "flimbo refund", 5, "161", None, None, session, at)
            )
        for search_id in ("b" * 32, "c" * 32, "e" * 32):
            query_log.record_click(search_id, "161")
    assert log.reformulations(5) == [("d" * 32, "flimbo refund", "161")]


def test_words_that_name_no_article_are_not_suggested(settings: Settings) -> None:
    searches = [  # each word in two phrasings, failed and said again as the article's title
        "zorblat parcel stockholm 2024 wife aint several",
        "stockholm zorblat parcel for my wife aint 12kg current 2024",
        "parcel zorblat hasnt several current finland 12kg inte",
        "finland zorblat parcel hasnt inte",
    ]
    with learning_app(settings) as client:
        for number, text in enumerate(searches):
            rephrase(client, f"visit-{number:04d}", text, "Track your order", 103)
    words = {
        s.word for s in suggest(load(settings.docs_dir), store(settings)) if s.article.id == 103
    }
    # places, numbers, contractions, the commonest English and Swedish words ("inte": not):
    # only the customers' own word for the article is left
    assert words == {"zorblat"}


def test_the_other_words_of_one_sentence_searched_by_many_ride_along(settings: Settings) -> None:
    with learning_app(settings) as client:
        for number in range(4):
            visit(client, f"visit-{number:04d}", ["zorblat grandmother parcel tracking"], 103)
        for number in range(4, 6):  # one failed search, one word the article lacks
            rephrase(client, f"visit-{number:04d}", "flimbo parcel", "Track your order", 103)
    words = {s.word for s in suggest(load(settings.docs_dir), store(settings))}
    assert words == {"flimbo"}


def test_a_city_named_like_a_common_word_is_a_place_only_when_written_as_one() -> None:
    from collections import Counter

    from kb_search.suggestions import _place

    assert _place("stockholm", Counter({"delivery to stockholm": 1}))
    assert _place("finland", Counter({"delivery to finland": 1}))
    assert _place("mobile", Counter({"ship to Mobile Alabama": 1}))
    assert not _place("mobile", Counter({"pay with mobile": 1, "Mobile payment": 1}))
    assert not _place("parcel", Counter({"parcel": 1}))


def test_the_table_shows_example_searches(
    filled_log: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["synonyms", "suggest", "--docs-dir", str(filled_log.docs_dir), "--log-db",
          str(filled_log.log_db)])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    number = next(n for n, line in enumerate(lines) if line.split()[1:2] == ["qwzx"])
    assert "2 failed, then said again" in lines[number]
    assert lines[number + 1].split() == ["e.g.", "'qwzx',", "'qwzx", "please'"]
