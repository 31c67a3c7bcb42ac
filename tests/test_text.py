"""The one text analysis: index, search, synonyms and the log's groups split words alike."""

from __future__ import annotations

import random
import string
import threading

import pytest

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
        assert ("never", "came") in synonyms.expand(ENGLISH.words(query)), query
    assert ("email",) in synonyms.expand(ENGLISH.words("change my e-mail"))


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


SWEDISH_WORDS = ["paket", "retur", "etikett", "leverans", "adress", "betalning", "sätt", "faktura"]


def test_swedish_keeps_its_own_letters_apart() -> None:
    from kb_search.text import SWEDISH

    assert SWEDISH.words("Får jag ÅTERBETALNING för hår?") == [
        "får",
        "jag",
        "återbetalning",
        "för",
        "hår",
    ]
    assert SWEDISH.stems("far") != SWEDISH.stems("får")  # "får" (may) is a stop word, "far" not
    assert SWEDISH.words("café") == ["cafe"]  # other accents still fold


def test_swedish_reads_compounds_and_definite_forms_through_the_help_centers_words() -> None:
    from kb_search.text import SWEDISH

    swedish = SWEDISH.with_vocabulary(SWEDISH_WORDS)
    stems = swedish.stems
    assert set(stems("retur")) | set(stems("etikett")) <= set(stems("returetiketten"))
    assert set(stems("adress")) <= set(stems("leveransadress"))
    assert set(stems("sätt")) <= set(stems("betalningssätt"))  # the linking "s"
    assert stems("paketet") == stems("paket")  # Snowball leaves "paketet" whole
    assert stems("fakturan") == stems("faktura")
    assert SWEDISH.stems("paketet") == ["paketet"]  # without the words: as Snowball has it
    assert swedish.parts("storlek") == []  # "stor" + "lek": "lek" is no word of the help center
    assert swedish.without_own_letters("återbetalning") == "aterbetalning"


def test_swedish_leaves_everyday_words_and_stop_words_whole() -> None:
    from kb_search.text import SWEDISH

    words = [*SWEDISH_WORDS, "all", "tid", "kom", "mer", "chatt", "tar", "vara", "varan", "ska"]
    swedish = SWEDISH.with_vocabulary(words)
    for everyday in ("alltid", "kommer", "skapar"):  # not all + tid, kom + mer, ska + par
        assert swedish.parts(everyday) == [], everyday
    assert swedish.parts("chattar") == []  # "-ar" is an ending: no chatt + "tar"
    # "varan" (the item) is not read as "vara" (to be), a stop word: it stays a word.
    assert swedish.stems("varan") == ["varan"]
