"""A result's snippet: the sentence that answers the customer's words, with those words marked.

Built from the section's passages (kb_search.sections): whole sentences of its paragraphs and
list items, or a table row read as "first cell: the others" when that row is the only place the
words are. Never a run of table cells or headings, never longer than MAX_CHARS visible
characters, and never cut inside a phone number or an amount ("+46 8 520 277 00", "€4.95",
"1 000 kr"). The result is HTML: escaped text, matched words in <mark> (the API's contract).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from whoosh.analysis import Analyzer

from kb_search.text import ENGLISH, Language

MAX_CHARS = 200
ELLIPSIS = "\u2026"
# A table row counts a quarter less than a sentence with the same words: prose reads better.
ROW_WEIGHT = 0.75

# Where a sentence may end: after . ! or ? (and a closing quote or bracket), before a space and
# a capital, a digit or an opening quote. "e.g. this" does not end one.
_SENTENCE_END = re.compile(
    r"[.!?][\"'\u201d\u2019)\]]*\s+(?=[A-Z0-9\"'\u201c\u2018(\u20ac+$\u00a3])"
)
_ABBREVIATIONS = frozenset("e.g. i.e. etc. approx. incl. no. nr. vs. mr. mrs. ms. dr. st.".split())
# Never cut inside these: digit groups with single spaces between them ("+46 8 520 277 00",
# "1 000"), with a currency before or after ("€4.95", "4.95 EUR", "1 000 kr").
_CURRENCY = r"(?:[\u20ac$\u00a3]|EUR|SEK|NOK|DKK|USD|GBP|kr|%)"
_UNBREAKABLE = re.compile(
    rf"(?:{_CURRENCY}\s?)?\+?\d+(?:[.,:]\d+)*(?:[ \u00a0]\d+(?:[.,]\d+)*)*"
    rf"(?:\s?{_CURRENCY}(?![A-Za-z]))?"
)


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage: int  # which passage it comes from: neighbours in one passage read on together
    is_row: bool


def snippet(
    passages: Sequence[tuple[str, str]],
    terms: Mapping[str, float] | Iterable[str],
    language: Language = ENGLISH,
    max_chars: int = MAX_CHARS,
) -> str:
    """The best sentence(s) for `terms` (the index's stems) as HTML; "" when none has them.

    `terms` may weigh each stem (a rare word counts more in choosing the sentence); every
    matched word is marked whatever its weight."""
    weights = dict(terms) if isinstance(terms, Mapping) else dict.fromkeys(terms, 1.0)
    wanted = frozenset(weights)
    sentences = [
        _Sentence(text, number, kind == "row")
        for number, (kind, passage) in enumerate(passages)
        for text in ([passage] if kind == "row" else split_sentences(passage))
    ]
    scores = [_score(s, weights, language) for s in sentences]
    if not sentences or max(scores) <= 0:
        return ""
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    text = sentences[best].text
    # Room left: the next sentence of the same paragraph reads on ("Count 3-10 days. Weekends
    # do not count.").
    following = sentences[best + 1] if best + 1 < len(sentences) else None
    if (
        following
        and following.passage == sentences[best].passage
        and not following.is_row
        and len(text) + 1 + len(following.text) <= max_chars
    ):
        text = f"{text} {following.text}"
    return _marked(_shortened(text, wanted, language, max_chars), wanted, language)


def split_sentences(text: str) -> list[str]:
    """The sentences of a paragraph; abbreviations and numbers ("4.95") do not end one."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        stop = end.start() + len(end.group().rstrip())  # the full stop and any closing quote
        if text[start : end.start() + 1].rsplit(None, 1)[-1].lower() in _ABBREVIATIONS:
            continue
        sentences.append(text[start:stop].strip())
        start = end.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _score(sentence: _Sentence, weights: Mapping[str, float], language: Language) -> float:
    """The weight of the distinct words it has; a table row's counts a little less."""
    found = {stem for _, _, stem in _stems(sentence.text, language) if stem in weights}
    score = sum(weights[stem] for stem in found)
    return score * ROW_WEIGHT if sentence.is_row else score


def _stems(text: str, language: Language) -> list[tuple[int, int, str]]:
    """(start, end, stem) of each word that is not a stop word."""
    return [
        (token.startchar, token.endchar, token.text)
        for token in _analyzer(language)(text, chars=True)
    ]


@functools.cache
def _analyzer(language: Language) -> Analyzer:
    return language.index_analyzer()


def _cut_points(text: str) -> list[int]:
    """Offsets of the spaces where `text` may be cut: not inside a number or an amount."""
    kept = [m.span() for m in _UNBREAKABLE.finditer(text)]
    return [
        m.start()
        for m in re.finditer(r"\s+", text)
        if not any(start < m.start() < end for start, end in kept)
    ]


def _shortened(text: str, wanted: frozenset[str], language: Language, max_chars: int) -> str:
    """At most `max_chars`: a window of whole words that starts before the first matched word,
    cut only where _cut_points allow, with an ellipsis where text was left out."""
    if len(text) <= max_chars:
        return text
    cuts = _cut_points(text)
    first = next((start for start, _, stem in _stems(text, language) if stem in wanted), 0)
    # Start at the sentence's start when the first match fits in the window's first half.
    start = 0
    if first > max_chars // 2:
        start = max((c for c in cuts if c < first - max_chars // 4), default=0)
    budget = max_chars - 4  # room for the ellipses and their spaces
    if len(text) - start <= budget:
        return ELLIPSIS + " " + text[start:].strip()
    end = max((c for c in cuts if start < c <= start + budget), default=start + budget)
    return (ELLIPSIS + " " if start else "") + text[start:end].strip() + " " + ELLIPSIS


def _marked(text: str, wanted: frozenset[str], language: Language) -> str:
    """Escaped text with each matched word in <mark>."""
    parts, at = [], 0
    for start, end, stem in _stems(text, language):
        # A compound and its parts are one word of the text: marked once.
        if stem in wanted and start >= at:
            parts += [
                html.escape(text[at:start]),
                "<mark>",
                html.escape(text[start:end]),
                "</mark>",
            ]
            at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)
