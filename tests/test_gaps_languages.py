"""Gaps per language: `GET /api/gaps?lang=sv` through the real app and `kb gaps --lang sv` on the
same real SQLite log show the Swedish customers' searches only."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.cli import main
from kb_search.config import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}
SWEDISH_MISS = "xqzvy presentinslagningar"  # nothing has these words, in either language
ENGLISH_MISS = "xqzvy blorft qwzzk"


@pytest.fixture
def logged(settings: Settings) -> Iterator[TestClient]:
    """The real app, after a Swedish and an English customer each searched for what no article
    has, and a Swedish customer passed over the results of a search that found some."""
    with TestClient(create_app(settings)) as client:
        for query, lang in ((SWEDISH_MISS, "sv"), (SWEDISH_MISS, "sv"), (ENGLISH_MISS, "en")):
            body = client.get("/api/search", params={"q": query, "lang": lang}).json()
            assert body["total"] == 0, body
        assert client.get("/api/search", params={"q": "var är mitt paket", "lang": "sv"}).json()[
            "results"
        ]
        client.app.state.service.log.flush()  # type: ignore[attr-defined]
        yield client


def gaps(client: TestClient, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/gaps", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def examples(report: dict, kind: str = "unanswered") -> list[str]:  # type: ignore[type-arg]
    return [e for group in report[kind] for e in group["examples"]]


def test_the_swedish_gaps_have_the_swedish_searches_only(logged: TestClient) -> None:
    swedish = gaps(logged, lang="sv")
    assert swedish["language"] == "sv"
    assert examples(swedish) == [SWEDISH_MISS]
    assert swedish["unanswered"][0]["count"] == 2
    assert examples(swedish, "no_click") == ["var är mitt paket"]
    # The closest article is found in the Swedish index, for the Swedish words.
    assert swedish["no_click"][0]["closest_article"] is not None


def test_the_english_gaps_are_the_default_and_have_no_swedish_search(logged: TestClient) -> None:
    for english in (gaps(logged), gaps(logged, lang="en"), gaps(logged, lang="")):
        assert english["language"] == "en"
        assert examples(english) == [ENGLISH_MISS]
        assert examples(english, "no_click") == []


def test_an_unknown_language_is_a_400_in_the_one_error_shape(logged: TestClient) -> None:
    response = logged.get("/api/gaps", params={"lang": "de"}, headers=ADMIN)
    assert response.status_code == 400
    body = response.json()
    assert body == {"ok": False, "error": body["error"], "status": 400}
    assert "en, sv" in body["error"]
    # The admin token is asked for first: without it, not even the languages are told.
    assert logged.get("/api/gaps", params={"lang": "de"}).status_code == 401


def test_kb_gaps_lang_sv_shows_the_swedish_gaps(
    logged: TestClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = ["--index-dir", str(settings.index_dir), "--log-db", str(settings.log_db)]

    assert main(["gaps", "--lang", "sv", *paths]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Searches and feedback in Swedish:")
    assert SWEDISH_MISS in out and ENGLISH_MISS not in out

    assert main(["gaps", *paths]) == 0
    out = capsys.readouterr().out
    assert ENGLISH_MISS in out and SWEDISH_MISS not in out

    assert main(["gaps", "--lang", "sv", "--json", *paths]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["language"] == "sv" and examples(report) == [SWEDISH_MISS]

    assert main(["gaps", "--lang", "sv", "--csv", *paths]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(row["kind"], row["examples"], row["language"]) for row in rows} == {
        ("unanswered", SWEDISH_MISS, "sv"),
        ("no_click", "var är mitt paket", "sv"),
    }

    assert main(["gaps", "--lang", "sv", "--markdown", *paths]) == 0
    assert capsys.readouterr().out.startswith("## What customers did not find in Swedish\n")


def test_kb_gaps_with_an_unknown_language_names_the_languages(
    logged: TestClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = ["--index-dir", str(settings.index_dir), "--log-db", str(settings.log_db)]
    assert main(["gaps", "--lang", "de", *paths]) == 2
    err = capsys.readouterr().err
    assert "--lang de: the help center's languages are en, sv" in err
    assert "Traceback" not in err
