"""Spelling: which of a customer's words are typos, and what they meant instead.

A word is corrected only when it is NOT a word of a language customers write and its correction
IS a word of the help center. The index's own vocabulary is not enough to tell a typo: the help
center never says "australia", "leather" or "expect", and replacing them with the closest word
it has ("austria", "later", "exact") answers a question nobody asked. Customers write English
and Swedish, also on the English help center ("var är mitt paket": not "vat").

Whether a word is a word of those languages comes from wordfreq's small word lists: every word
that appears at least REAL_WORD_ZIPF on the Zipf scale (3 = once per million words of text).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from kb_search.schema import SPELL_FIELD
from kb_search.text import WORD_PATTERN, language

if TYPE_CHECKING:
    from kb_search.versions import OpenIndex

# Spelling correction is the costly part of a search: at most this many unknown words of one
# query are corrected, and words longer than this are taken as they are (nobody mistypes a
# 21-letter word into a help center; random strings are not worth 8 ms each).
MAX_CORRECTIONS = 3
MAX_CORRECTABLE_LENGTH = 20
# An unknown word this long with no close spelling is completed ("unsub" -> "unsubscribe").
MIN_COMPLETION = 4
# The languages customers write in, whatever the help center's own language is.
CUSTOMER_LANGUAGES = ("en", "sv")
# A word at least this common in one of them is a real word, never a typo. Measured on the 82
# real words and 68 typos of tests/spelling: at 2.5, 5 typos pass as words ("recieved",
# "seperate", "untill", "becuase", "oder"); at 3.5, 6 real words become typos ("suede",
# "helsinki", "polyester", "fedex"...); at 3.0 none of either. Brands wordfreq does not know
# ("budbee", "instabox"; "zalando" is 2.9) are left alone only while no article word is close.
# wordfreq's small lists stop at 3.0: lower needs its large lists (10x the words, 3 s to load).
REAL_WORD_ZIPF = 3.0

_SINGLE_WORD = re.compile(WORD_PATTERN)


@functools.cache  # once per process and language: 0.3 s (two threads may both)
def _real_words(folded_as: str) -> frozenset[str]:
    """Every word of the customer languages' lists, folded as the index of language
    `folded_as` folds ("malmö" is "malmo" in English, itself in Swedish), so it is looked up
    in the same form as the customer's word."""
    import wordfreq  # its lists load on first use, not with every `kb` command

    listed: list[str] = []
    for listed_language in CUSTOMER_LANGUAGES:
        # Buckets of words, most common first; bucket i holds the words at -i centibels.
        for rank, bucket in enumerate(wordfreq.get_frequency_list(listed_language, "small")):
            if wordfreq.cB_to_zipf(-rank) < REAL_WORD_ZIPF:
                break
            listed.extend(word for word in bucket if _SINGLE_WORD.fullmatch(word))
    # One analysis for all: each entry is exactly one word, so each gives exactly one.
    return frozenset(language(folded_as).words(" ".join(listed)))


def is_real_word(word: str, folded_as: str = "en") -> bool:
    """A word (lowercase, folded) of a language customers write: "australia", "paket"."""
    return word in _real_words(folded_as)


def needs_correction(index: OpenIndex, word: str) -> bool:
    """A word the index does not know, short enough to be a typo of one it does, and no
    real word of the customer's language (those are left alone, known or not)."""
    return not (
        len(word) < 3
        or len(word) > MAX_CORRECTABLE_LENGTH
        or word.isdigit()
        or index.language.is_stop_word(word)
        or word in index.vocabulary
        or is_real_word(word, index.language.code)
    )


def correct_all(index: OpenIndex, words: list[str]) -> list[str]:
    """Each word, or its correction: the first MAX_CORRECTIONS unknown words are corrected."""
    budget = MAX_CORRECTIONS
    corrected = []
    for word in words:
        if budget and needs_correction(index, word):
            budget -= 1
            word = correct(index, word)
        corrected.append(word)
    return corrected


def correct(index: OpenIndex, word: str) -> str:
    """The closest word the articles have, for a typo; else the word as it is.

    Both the suggestion and the completion come from the articles' own words (the spelling
    field), so a correction is always a word of the help center.
    """
    if not needs_correction(index, word):
        return word
    if word in index.plain_spellings:  # "aterbetalning": the one word it can be
        return index.plain_spellings[word]
    with index.searcher() as searcher:
        corrector = searcher.corrector(SPELL_FIELD)
        suggestions = corrector.suggest(word, limit=1, maxdist=1 if len(word) < 6 else 2, prefix=1)
    if suggestions:
        return str(suggestions[0])
    return index.completion(word) if len(word) >= MIN_COMPLETION else word


def corrected_text(text: str, words: list[str], corrected: list[str]) -> str | None:
    """The customer's own text with the misspelled words replaced, punctuation and all.

    Rebuilding it from words would drop the '@' and '+' that redaction needs to recognise an
    email or a phone number before the corrected query is logged.
    """
    if corrected == words:
        return None
    result = text
    for wrong, right in zip(words, corrected, strict=True):
        if wrong != right:
            result = re.sub(
                rf"(?<!\w){re.escape(wrong)}(?!\w)", right, result, count=1, flags=re.IGNORECASE
            )
    return " ".join(result.split())
