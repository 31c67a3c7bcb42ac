"""Grouping gaps: typos join their word, different words never do, the same on every store."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from kb_search.querylog.gaps import GapGroup, merge, normalise, words_close

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def groups(*forms: tuple[str, int]) -> list[GapGroup]:
    return [GapGroup(normalise(text), count, NOW, NOW) for text, count in forms]


def merged(*forms: tuple[str, int]) -> list[tuple[str, int, list[str]]]:
    return [(g.key, g.count, members) for g, members in merge(groups(*forms))]


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("Return policy?", "polici return"),
        ("RETURNS   policy", "polici return"),
        ("Where is my parcel?", "parcel where"),
        ("Wie lange dauert Rücksendung", "dauert lang rucksendung wie"),
        ("size 38 or 40", "<n> size"),
        ("order 123456 missing", "<order-number> miss order"),
        ("mail anna@example.com", "<email> mail"),
        ("where is my", "where"),  # only stop words: keep a word rather than nothing
    ],
)
def test_the_form_searches_are_grouped_by(query: str, form: str) -> None:
    assert normalise(query) == form


def test_typos_join_the_most_searched_spelling() -> None:
    result = merged(("return address", 5), ("retrun address", 2), ("return adress", 1), ("gift", 1))
    assert result[0] == ("address return", 8, ["address return", "address retrun", "adress return"])
    assert result[1][:2] == ("gift", 1)


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("delivery", "delivry", True),
        ("delivery", "deliveyr", True),  # two letters swapped is one typo
        ("size", "sale", False),  # short words must match exactly
        ("<order-number>", "<phone>", False),
        ("international", "internatoinal", True),
        ("international", "intrenatoinal", True),  # long words allow two
        ("account", "discount", False),
    ],
)
def test_which_words_are_typos_of_each_other(a: str, b: str, close: bool) -> None:
    assert words_close(a, b) is close


def test_forms_with_a_different_number_of_words_stay_apart() -> None:
    result = merged(("gift card", 3), ("gift card balance", 2))
    assert [(key, count) for key, count, _ in result] == [("card gift", 3), ("balanc card gift", 2)]


def test_many_distinct_forms_are_merged_correctly() -> None:
    # 3,000 forms: the old pairwise merge took two minutes here; blocking makes it linear.
    rng = random.Random(7)
    words = sorted({"".join(rng.choices("bcdfghjklmnpqrstvwz", k=8)) for _ in range(1000)})
    forms = [(f"{a} {b}", 1) for a, b in zip(words, words[1:] + words[:1], strict=True)]
    typos = [(f"{a[:3]}e{a[3:]} {b}", 1) for a, b in zip(words, words[1:] + words[:1], strict=True)]
    result = merged(*forms, *typos, *[(f"{w} {w[::-1]}", 1) for w in words])
    assert len(result) == 2 * len(words)  # each typo joined its form; the third set stayed apart
    assert sorted({count for _, count, _ in result}) == [1, 2]


def test_very_long_words_are_taken_as_typed() -> None:
    # Their typo neighbourhoods would fill memory: 400 such forms once took 2.4 GB.
    rng = random.Random(11)
    long_words = ["".join(rng.choices("abcdefghij", k=190)) for _ in range(300)]
    result = merged(*[(word, 1) for word in long_words], (long_words[0] + "x", 1))
    assert len(result) == len(long_words) + 1
