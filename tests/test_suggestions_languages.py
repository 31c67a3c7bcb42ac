"""`kb synonyms suggest --lang sv`: Swedish customers' words for the Swedish articles, from a real
log filled through the real API, read with the Swedish analysis."""

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

TRACKING = 103  # "Spåra din beställning" in Swedish, "Track your order" in English


def visit(client: TestClient, session: str, query: str, lang: str, open_id: int) -> None:
    """A customer's visit: one search in `lang`, then opening an article from it."""
    body = client.get("/api/search", params={"q": query, "session": session, "lang": lang}).json()
    assert body["search_id"], body
    reply = client.post("/api/click", json={"search_id": body["search_id"], "article_id": open_id})
    assert reply.status_code == 200


@pytest.fixture
def filled_log(settings: Settings) -> Settings:
    app = create_app(Settings.from_env({}, **{**vars(settings), "rate_limit": 1000}))
    with TestClient(app) as client:
        # "sendify" is in no Swedish article; Swedish customers type it and open tracking.
        # "steget" is "the step" and "lagerstatus" "stock status": the article says "steg" and
        # "lager" and "status", so it has those words, as the Swedish index reads them.
        visit(client, "visit-sv-1", "sendify steget lagerstatus", "sv", TRACKING)
        visit(client, "visit-sv-2", "steget lagerstatus sendify spårning", "sv", TRACKING)
        visit(client, "visit-sv-3", "var är mitt sendify", "sv", TRACKING)
        # English customers have a word of their own for the same article.
        visit(client, "visit-en-1", "parcelio status", "en", TRACKING)
        visit(client, "visit-en-2", "where is my parcelio", "en", TRACKING)
    return settings


def words(settings: Settings, language: str) -> dict[tuple[int, str], int]:
    assert settings.log_db is not None
    center = load(settings.docs_dir).in_language(language)
    return {
        (s.article.id, s.word): s.searches for s in suggest(center, SQLiteStore(settings.log_db))
    }


def test_swedish_suggestions_come_from_swedish_searches_only(filled_log: Settings) -> None:
    swedish = words(filled_log, "sv")
    assert swedish[(TRACKING, "sendify")] == 3
    assert (TRACKING, "parcelio") not in swedish


def test_definite_forms_and_compounds_of_the_articles_words_are_not_suggested(
    filled_log: Settings,
) -> None:
    swedish = words(filled_log, "sv")
    assert (TRACKING, "steget") not in swedish and (TRACKING, "lagerstatus") not in swedish


def test_english_suggestions_have_no_swedish_evidence(filled_log: Settings) -> None:
    english = words(filled_log, "en")
    assert english[(TRACKING, "parcelio")] == 2
    assert not [word for _, word in english if word in {"sendify", "steget", "lagerstatus"}]


def test_the_swedish_patch_applies_to_the_swedish_articles(
    filled_log: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path / "project")
    code = main(
        ["synonyms", "suggest", "--lang", "sv", "--patch", "--docs-dir",
         str(project / "docs"), "--log-db", str(filled_log.log_db)]
    )  # fmt: skip
    diff = capsys.readouterr().out
    assert code == 0
    assert "+++ b/translations/sv/orders/track-your-order.md" in diff and "parcelio" not in diff
    subprocess.run(["git", "apply", "-"], input=diff, text=True, cwd=project, check=True)
    swedish = load(project / "docs").in_language("sv").by_id(TRACKING)
    english = load(project / "docs").by_id(TRACKING)
    assert swedish is not None and "sendify" in swedish.synonyms
    assert english is not None and "sendify" not in english.synonyms


def test_the_table_lists_the_swedish_words(
    filled_log: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["synonyms", "suggest", "--lang", "sv", "--docs-dir", str(filled_log.docs_dir),
         "--log-db", str(filled_log.log_db)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    line = next(line for line in out.splitlines() if "sendify" in line)
    assert line.split()[:4] == [str(TRACKING), "sendify", "3", "searches"]
    assert "Spåra din beställning" in line
