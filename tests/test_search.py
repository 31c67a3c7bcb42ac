"""A customer's words to results, on a real index of the real articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.search import search
from kb_search.spelling import MAX_CORRECTIONS, correct_all
from kb_search.versions import LiveIndex, OpenIndex


@pytest.fixture(scope="module")
def index(index_root: Path) -> OpenIndex:
    return LiveIndex(index_root).current()


def test_the_cache_never_hands_one_customers_text_to_another(index: OpenIndex) -> None:
    first = search(index, "retrun jane example.com", cache_size=100)
    second = search(index, "retrun jane@example.com", cache_size=100)
    assert first.corrected == "return jane example.com"
    # Same words, so the same results from the cache, but the second customer's own text.
    assert second.corrected == "return jane@example.com"
    assert second.query == "retrun jane@example.com"
    assert [r.id for r in second.results] == [r.id for r in first.results]


def test_spelling_correction_is_bounded_per_query(index: OpenIndex) -> None:
    typos = ["retrun", "pasword", "shiping", "delivry", "adress", "refnud"]
    corrected = correct_all(index, typos)
    assert corrected[:MAX_CORRECTIONS] == ["return", "password", "shipping"]
    assert corrected[MAX_CORRECTIONS:] == typos[MAX_CORRECTIONS:]  # left as typed
    nonsense = "qwzxvbnmlkjhgfdsapoiuy"  # longer than anybody mistypes a word
    assert correct_all(index, [nonsense]) == [nonsense]


def test_a_word_only_a_writers_synonym_has_finds_its_article(index: OpenIndex) -> None:
    assert all("rebate" not in record["title"].lower() for record in index.records.values())
    assert "rebate" in index.synonyms.vocabulary
    top = search(index, "rebate").results[0]
    assert top.category == "refunds"
