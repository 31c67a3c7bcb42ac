"""Typos are corrected, real words never: on a real index of the real articles.

tests/spelling/real_words.txt holds words customers type that the help center does not use
(places, brands, what they buy, Swedish); tests/spelling/typos.txt misspellings of words it
does use. The API's "Search instead for" (exact=1) is tested here too.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.search import search
from kb_search.spelling import (
    MAX_CORRECTABLE_LENGTH,
    MAX_CORRECTIONS,
    correct,
    correct_all,
    is_real_word,
    needs_correction,
)
from kb_search.text import ENGLISH
from kb_search.versions import LiveIndex, OpenIndex

LISTS = Path(__file__).parent / "spelling"


def _lines(name: str) -> list[str]:
    text = (LISTS / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


REAL_WORDS = _lines("real_words.txt")
TYPOS = [tuple(line.split(",")) for line in _lines("typos.txt")]


@pytest.fixture(scope="module")
def index(index_root: Path) -> OpenIndex:
    return LiveIndex(index_root).current()


def folded(word: str) -> str:
    """The word as the search sees it ("malmö" -> "malmo")."""
    [only] = ENGLISH.words(word)
    return only


def test_the_lists_are_what_they_say(index: OpenIndex) -> None:
    assert len(REAL_WORDS) >= 50 and len(TYPOS) >= 50
    assert [w for w in REAL_WORDS if folded(w) in index.vocabulary] == []
    assert [t for t, _ in TYPOS if t in index.vocabulary] == []
    assert [right for _, right in TYPOS if right not in index.vocabulary] == []


@pytest.mark.parametrize("word", REAL_WORDS)
def test_a_real_word_is_left_as_it_is(index: OpenIndex, word: str) -> None:
    assert not needs_correction(index, folded(word))
    assert correct(index, folded(word)) == folded(word)


@pytest.mark.parametrize(("typo", "intended"), TYPOS)
def test_a_typo_is_corrected_to_the_word_meant(index: OpenIndex, typo: str, intended: str) -> None:
    assert correct(index, typo) == intended


@pytest.mark.parametrize(
    "query",
    [
        "do you ship to australia",  # was "austria"
        "vegan leather",  # was "vegan later"
        "when can I expect my parcel",  # was "exact"
        "var är mitt paket",  # Swedish; was "vat"
    ],
)
def test_a_customers_real_words_are_searched_as_they_are(index: OpenIndex, query: str) -> None:
    assert search(index, query).corrected is None


def test_real_words_do_not_use_up_the_corrections(index: OpenIndex) -> None:
    words = ["australia", "vegan", "leather", "expect", "retrun", "pasword", "shiping", "refnd"]
    assert correct_all(index, words) == [*words[:4], "return", "password", "shipping", "refnd"]
    assert MAX_CORRECTIONS == 3
    too_long = "pasword" * 3
    assert len(too_long) > MAX_CORRECTABLE_LENGTH and correct(index, too_long) == too_long


def test_looking_up_a_word_is_cheap() -> None:
    is_real_word("warm")  # the lists load once, on the first word
    words = [folded(w) for w in REAL_WORDS] + [t for t, _ in TYPOS]
    start = time.perf_counter()
    for _ in range(100):
        for word in words:
            is_real_word(word)
    per_word = (time.perf_counter() - start) / (100 * len(words))
    assert per_word < 50e-6, f"{per_word * 1e6:.1f} µs a word"


def test_exact_searches_the_words_as_typed(index: OpenIndex) -> None:
    corrected = search(index, "fogot pasword", cache_size=100)
    exact = search(index, "fogot pasword", cache_size=100, correct=False)
    assert corrected.corrected == "forgot password" and corrected.results
    # Its own cache entry: not the corrected answer.
    assert exact.corrected is None and exact.results == []


def _search(client: TestClient, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _logged(client: TestClient) -> list[tuple[str, str | None]]:
    service = client.app.state.service  # type: ignore[attr-defined]
    service.log.flush()
    with sqlite3.connect(service.settings.log_db) as db:
        return db.execute("SELECT query, corrected FROM searches ORDER BY rowid").fetchall()


def test_search_instead_for_the_words_typed_is_a_search_of_its_own(client: TestClient) -> None:
    shown = _search(client, q="retrun polcy")
    assert shown["corrected"] == "return policy"
    instead = _search(client, q="retrun polcy", exact="1")
    assert instead["query"] == "retrun polcy" and instead["corrected"] is None
    assert instead["search_id"] and instead["search_id"] != shown["search_id"]
    assert _logged(client) == [("retrun polcy", "return policy"), ("retrun polcy", None)]


@pytest.mark.parametrize("value", ["2", "yes", "true", "-1", "1.0", "\uff11"])
def test_exact_is_0_or_1(client: TestClient, value: str) -> None:
    response = client.get("/api/search", params={"q": "retrun", "exact": value})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "exact must be a whole number from 0 to 1",
        "status": 400,
    }


def test_exact_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    names = [p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]]
    assert "exact" in names
    assert document["components"]["schemas"]["Exact"]["enum"] == [0, 1]
