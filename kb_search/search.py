"""Turn a customer's words into results. Their text is never parsed as Whoosh query syntax.

Words are analysed like the index (accents folded, stop words dropped, stemmed); typos are
corrected (kb_search.spelling: never a real word); writers' synonyms add alternatives. Each word
is matched in the index's weighted field (a title or customer-query match outweighs a passing
mention in the body), two words side by side in a title or query count extra, and, with the
optional semantic ranker, scores are fused with similarity in meaning. Cost is bounded: at most
MAX_TERMS words, no wildcard expansion, spelling correction within a small edit distance.
"""

from __future__ import annotations

import html
import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whoosh.query import And, Or, Phrase, Query, Term

from kb_search import snippets
from kb_search.schema import ALL_FIELD, MATCH_FIELD, SectionRecord
from kb_search.semantic import Encoder
from kb_search.spelling import correct_all, corrected_text
from kb_search.versions import OpenIndex

if TYPE_CHECKING:
    from kb_search.boosts import Boosts

MAX_TERMS = 12
SUGGESTIONS = 6
SYNONYM_WEIGHT = 0.5
# Results scoring under this share of the best one are dropped; `total` counts the rest of
# the best COUNTED matches.
RELATIVE_CUTOFF = 0.15
# The same for fused scores, where every candidate also has a share of semantic similarity.
HYBRID_CUTOFF = 0.5
COUNTED = 50
# The semantic ranker adds this many of the closest articles by meaning to the lexical matches,
# those at least this similar (cosine) to the query.
SEMANTIC_CANDIDATES = 10
MIN_SIMILARITY = 0.45
# A word in more than this share of articles is left out when the query has rarer words.
COMMON_SHARE = 0.95
# Two of the customer's words side by side in these fields count extra ("where ... order").
PHRASE_WEIGHTS = {"title": 3.0, "queries": 3.0}
PHRASE_SLOP = 2
# A word that stands in a heading counts more than one in that section's text.
HEADING_WEIGHT = 3
# The least a word counts for in choosing a snippet's sentence, however common it is.
MIN_SNIPPET_WEIGHT = 0.05


@dataclass(frozen=True)
class Result:
    id: int
    title: str
    url: str
    anchor: str | None
    summary: str
    snippet: str
    category: str
    category_title: str
    score: float


@dataclass(frozen=True)
class Answer:
    query: str
    corrected: str | None
    total: int
    results: list[Result]


def words_of(index: OpenIndex, text: str) -> list[str]:
    """The customer's words as the index's language reads them, at most MAX_TERMS."""
    return index.language.words(text)[:MAX_TERMS]


@dataclass(frozen=True)
class _Found:
    """What a search found for a list of words: the same for every text with those words, so
    it is what the cache keeps (a customer's own text, with its punctuation, is never kept)."""

    corrected_words: list[str]
    total: int
    results: list[Result]


def search(
    index: OpenIndex,
    text: str,
    *,
    limit: int = 10,
    category: str | None = None,
    cache_size: int = 0,
    encoder: Encoder | None = None,
    semantic_weight: float = 0.0,
    correct: bool = True,
    boosts: Boosts | None = None,
) -> Answer:
    """Search the index; repeated searches come from a small per-version cache.

    With an encoder whose vectors the index holds, lexical and semantic scores are fused.
    `correct=False` searches the words exactly as typed ("Search instead for ...").
    """
    words = words_of(index, text)
    hybrid = encoder if hybrid_ready(index, encoder, semantic_weight) else None
    key = (tuple(words), limit, category, hybrid is not None, correct)
    found: _Found | None = index.cached(key)
    if found is None:
        found = _search(index, words, limit, category, hybrid, semantic_weight, correct=correct)
        if cache_size:
            index.remember(key, found, cache_size)
    corrected = corrected_text(text, words, found.corrected_words)
    # Learned from what customers opened after this search, corrected and in every category
    # (kb_search.boosts): not for "Search instead for" nor within one category.
    learned = boosts if correct and not category else None
    results = learned.apply(text, found.results) if learned else found.results
    return Answer(text, corrected, found.total, results)


def _above(scored: list[tuple[str, float]], share: float) -> list[tuple[str, float]]:
    """The results scoring at least `share` of the best one (best first)."""
    return [(i, score) for i, score in scored if score >= scored[0][1] * share]


def fuse(
    lexical: list[tuple[str, float]], similarity: dict[str, float], weight: float
) -> list[tuple[str, float]]:
    """Blend normalised lexical and semantic scores: (1 - weight) * lexical + weight * semantic.

    Candidates are the lexical matches plus the semantically closest articles; an article found
    only by meaning must be close enough, so nonsense still finds nothing.
    """
    lex = dict(lexical)
    top_lex = max(lex.values(), default=0.0) or 1.0
    close = sorted(similarity.items(), key=lambda item: -item[1])[:SEMANTIC_CANDIDATES]
    candidates = set(lex) | {i for i, value in close if value >= MIN_SIMILARITY}
    if not candidates:
        return []
    top_sim = max(similarity.get(i, 0.0) for i in candidates) or 1.0
    fused = {
        i: (1 - weight) * lex.get(i, 0.0) / top_lex
        + weight * max(similarity.get(i, 0.0), 0.0) / top_sim
        for i in candidates
    }
    return sorted(fused.items(), key=lambda item: -item[1])


def hybrid_ready(index: OpenIndex, encoder: Encoder | None, weight: float) -> bool:
    """The semantic ranker is on: a model, a weight, and this index's vectors from that model."""
    return (
        encoder is not None
        and weight > 0
        and index.vectors is not None
        and index.vectors.model == encoder.name
    )


def _search(
    index: OpenIndex,
    words: list[str],
    limit: int,
    category: str | None,
    encoder: Encoder | None = None,
    semantic_weight: float = 0.0,
    *,
    correct: bool = True,
) -> _Found:
    corrected_words = correct_all(index, words) if correct else words
    stems = _unique(index.language.stems(" ".join(corrected_words)))
    if not stems:
        return _Found(corrected_words, 0, [])
    alternatives = [
        phrase_stems
        for phrase in index.synonyms.expand(corrected_words)
        if (phrase_stems := index.language.stems(" ".join(phrase))) and phrase_stems != stems
    ]
    share = _shares(index, [*stems, *(p[0] for p in alternatives if len(p) == 1)])
    query = Or(
        [_word(s, 1.0) for s in _informative(stems, share)]
        + [q for phrase in alternatives if (q := _alternative(phrase, share)) is not None]
        + _pairs(stems)
    )
    category_filter = Term("category", category) if category else None
    with index.searcher() as searcher:
        hits = searcher.search(query, limit=max(limit, COUNTED), filter=category_filter)
        scored = [(index.ids[hit.docnum], hit.score) for hit in hits]
    # Articles that share only a generic word with the query are not answers: leave them out.
    found = _above(scored, RELATIVE_CUTOFF)
    if encoder is not None and index.vectors is not None:
        similarity = index.vectors.similarities(encoder.encode_query(" ".join(corrected_words)))
        if category:
            similarity = {
                i: v for i, v in similarity.items() if index.records[i]["category"] == category
            }
        found = _above(fuse(found, similarity, semantic_weight), HYBRID_CUTOFF)
    total = len(found)
    found = found[:limit]
    terms = set(stems) | {s for phrase in alternatives for s in phrase}
    # A snippet shows the sentence with the rarest of the words: "refund", not "how".
    weights = {t: max(1.0 - share.get(t, 0.0), MIN_SNIPPET_WEIGHT) for t in terms}
    results = [_result(index, index.records[i], score, weights) for i, score in found]
    return _Found(corrected_words, total, results)


def _informative(stems: list[str], share: dict[str, float]) -> list[str]:
    """Leave out words most articles use when the query has rarer ones.

    They weigh almost nothing (see ArticleBM25) but would make every article a candidate to
    score. Word pairs still use them ("where ... order").
    """
    rare = [s for s in stems if share[s] <= COMMON_SHARE]
    return rare or [min(stems, key=share.__getitem__)]


def _shares(index: OpenIndex, stems: list[str]) -> dict[str, float]:
    """The share of articles that use each word."""
    with index.searcher() as searcher:
        articles = searcher.doc_count_all() or 1
        return {s: searcher.doc_frequency(ALL_FIELD, s) / articles for s in stems}


def _word(stem: str, weight: float) -> Query:
    return Term(MATCH_FIELD, stem, boost=weight)


def _alternative(phrase: list[str], share: dict[str, float]) -> Query | None:
    """A synonym: one word (unless most articles use it), or all words of a phrase in one
    article ("create an account")."""
    if len(phrase) == 1:
        return None if share[phrase[0]] > COMMON_SHARE else _word(phrase[0], SYNONYM_WEIGHT)
    return And([Term(MATCH_FIELD, stem) for stem in phrase], boost=SYNONYM_WEIGHT)


def _pairs(stems: list[str]) -> list[Query]:
    return [
        Phrase(name, [first, second], slop=PHRASE_SLOP, boost=boost)
        for first, second in itertools.pairwise(stems)
        for name, boost in PHRASE_WEIGHTS.items()
    ]


def _result(
    index: OpenIndex, record: dict[str, Any], score: float, weights: dict[str, float]
) -> Result:
    section = _best_section(record["sections"], set(weights))
    snippet = _snippet(index, section, weights) if section else ""
    snippet = snippet or html.escape(record["summary"])
    return Result(
        id=record["id"],
        title=record["title"],
        url=record["url"],
        anchor=section.anchor if section else None,
        summary=record["summary"],
        snippet=snippet,
        category=record["category"],
        category_title=record["category_title"],
        score=round(score, 3),
    )


def _best_section(sections: list[SectionRecord], terms: set[str]) -> SectionRecord | None:
    """The H2 section whose heading and text hold the most query terms."""
    best = sections[0] if sections else None
    best_hits = 0
    for section in sections:
        hits = HEADING_WEIGHT * sum(s in terms for s in section.heading_stems) + sum(
            s in terms for s in section.text_stems
        )
        if hits > best_hits:
            best, best_hits = section, hits
    return best


def _snippet(index: OpenIndex, section: SectionRecord, weights: dict[str, float]) -> str:
    """Whole sentences (kb_search.snippets); a release from before passages were kept has only
    the section's flat text, read as one paragraph."""
    passages = section.passages or (("p", section.text),)
    return snippets.snippet(passages, weights, index.language)


def suggest(index: OpenIndex, text: str) -> list[dict[str, Any]]:
    """Articles whose title starts to match what the customer has typed so far."""
    typed = words_of(index, text)
    if not typed:
        return []
    *whole, partial = typed
    matches = []
    for record in index.records.values():
        title_words = index.title_words[str(record["id"])]
        if all(w in title_words for w in whole) and any(t.startswith(partial) for t in title_words):
            matches.append({"id": record["id"], "title": record["title"], "url": record["url"]})
    return sorted(matches, key=lambda m: (len(m["title"]), m["title"]))[:SUGGESTIONS]


def _unique(items: Any) -> list[str]:
    return list(OrderedDict.fromkeys(items))
