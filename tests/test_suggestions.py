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
        # "shippment" is not in the tracking article; customers type it and open that article
        visit(client, "visit-0001", ["shippment status"], 103)
        visit(client, "visit-0002", ["where is my shippment"], 103)
        visit(client, "visit-0003", ["shippment tracking for anna@example.com"], 103)
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
    assert found[(103, "shippment")].searches == 3
    assert found[(161, "qwzx")].searches == 2
    assert all(word not in {"thing", "lonely", "wordz", "email", "anna"} for _, word in found)
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
