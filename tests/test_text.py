"""The one text analysis: index, search, synonyms and the log's groups split words alike."""

from __future__ import annotations

import random
import string
import threading

import pytest

from kb_search.search import words_of
from kb_search.synonyms import Synonyms
from kb_search.text import ENGLISH


def test_analysis_folds_accents_case_plurals_and_stop_words() -> None:
    assert ENGLISH.stems("Retúrns") == ENGLISH.stems("return")
    assert ENGLISH.stems("Where is my order?") == ["where", "order"]
    assert ENGLISH.stems("parcels") == ENGLISH.stems("parcel")


@pytest.mark.parametrize(
    "typed", ["didn't arrive", "didn\u2019t arrive", "didnt arrive", "DIDN'T ARRIVE"]
)
def test_apostrophes_do_not_split_or_separate_words(typed: str) -> None:
    assert ENGLISH.words(typed) == ["didnt", "arrive"]


def test_writers_synonyms_are_split_exactly_as_customers_words() -> None:
    synonyms = Synonyms([["didn't arrive", "never came"], ["e-mail", "email"]])
    for query in ("it didnt arrive", "it didn\u2019t arrive", "it didn't arrive"):
        assert ("never", "came") in synonyms.expand(words_of(query)), query
    assert ("email",) in synonyms.expand(words_of("change my e-mail"))


def test_the_logs_grouping_form_is_the_searchs_stems_sorted() -> None:
    assert ENGLISH.normalise("Returns policy?") == "polici return"
    assert ENGLISH.normalise("order <order-number> missing 12") == "<n> <order-number> miss order"
    assert ENGLISH.normalise("where is my") == "where"  # only stop words: keep a word


def test_many_threads_can_analyse_at_once() -> None:
    # Whoosh's own stem cache has no lock: once full, evictions raced with other threads.
    rng = random.Random(3)
    failures: list[BaseException] = []

    def analyse() -> None:
        words = ["".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(30_000)]
        try:
            for start in range(0, len(words), 50):
                ENGLISH.stems(" ".join(words[start : start + 50]))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=analyse) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
