"""`kb synonyms suggest`: customers' own words for an article, learned from the query log.

Evidence that a search's words mean an article: the search was followed by a click on it; or it
failed (found nothing, or showed results the customer passed over) and the same visit soon
searched again in other words and opened the article (a reformulation).

A word is suggested for an article when:
- the article lacks it: not in its text, nor in a writers' synonym group of a word it has,
  nor a typo of one of its words (search corrects those: "pasword");
- it points at this article: MIN_CONFIDENCE of its evidence, at most MAX_ARTICLES articles,
  fewer than MIN_SEARCHES searches to any other category;
- it can name an article: not a stop word, a number, a contraction ("aint", "wheres"), a
  filler ("pls", "till"), one of the ~650 commonest words of English or of Swedish, which
  customers mix in (wordfreq: "way", "yet", "several", "current", "wife", "inte"), or a
  place: a country, or a city of geotext's GeoNames table (cities over 15,000 people) unless
  the city's name is a common English word the customer did not capitalise ("pay by mobile");
- the customers' own words back it: MIN_SEARCHES searches in at least two phrasings, or in
  a failed search in which it is the one word the article lacks (and not a common word):
  the other words of one long sentence searched word for word by many are left out.

Each language's edition learns from its own customers only: `suggest` reads the searches logged
in the help center's language and takes their words with that language's analysis (Swedish
compounds and definite forms read through the articles' own words, as its index reads them).

Nothing is applied: the result is a patch a writer reviews.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import OSA

from kb_search.articles import Article, HelpCenter
from kb_search.check import project_path
from kb_search.querylog import LogStore
from kb_search.schema import index_language
from kb_search.sections import split_sections
from kb_search.spelling import CUSTOMER_LANGUAGES, is_real_word
from kb_search.synonyms import Synonyms, load_synonyms
from kb_search.text import PLACEHOLDER, Language
from kb_search.text import language as language_of

MIN_SEARCHES = 2
MIN_CONFIDENCE = 0.6
MAX_ARTICLES = 3  # a word in the evidence of more articles than this is not anyone's synonym
FOLLOW_UP_MINUTES = 10
# A failed search counts for the first clicked search of its visit this soon after.
REPHRASE_MINUTES = 5
# wordfreq's Zipf scale: 6 is once per million words ("way", "good"), 5 once per ten million.
TOO_COMMON_ZIPF = 5.2  # never a synonym (the ~650 commonest words): "way", "yet", "wife", "current"
COMMON_ZIPF = 5.0  # needs two phrasings: "safe", "size"
COMMON_PLACE_ZIPF = 4.5  # a city name this common is a word unless capitalised: "mobile"
EXAMPLES = 3
# Words search keeps (they matter in a phrase) that never name an article, too rare in
# English for the frequency rule: chat fillers and "till".
FILLERS = frozenset(
    "pls plz thx thanks till until okay hey etc anyone somebody anybody "
    "mvh asså nån nåt ngn ngt typ".split()  # and Swedish chat: "mvh" is "regards"
)


@dataclass(frozen=True)
class Suggestion:
    article: Article
    word: str
    searches: int
    confidence: float  # share of this word's evidence that points at this article
    examples: tuple[str, ...] = ()  # logged (redacted) searches with the word, most made first
    failed: int = 0  # of `searches`, those that failed and were said again in other words


@dataclass
class _Evidence:
    """The searches behind one word for one article."""

    searches: set[str] = field(default_factory=set)
    phrasings: set[str] = field(default_factory=set)  # normalised forms
    alone: bool = False  # in some failed search, the one word the article lacks
    texts: Counter[str] = field(default_factory=Counter)


def _words(text: str, analysis: Language) -> list[str]:
    text = PLACEHOLDER.sub(" ", text)
    return [
        word
        for word in analysis.words(text)
        if not analysis.is_stop_word(word) and not any(c.isdigit() for c in word) and len(word) > 2
    ]


def _texts(article: Article) -> list[str]:
    """Everything of an article that search matches."""
    return [
        article.title,
        article.summary,
        *article.synonyms,
        *article.queries,
        *article.tags,
        *(f"{s.heading} {s.text}" for s in split_sections(article.markdown)),
    ]


def _article_words(
    article: Article, synonyms: Synonyms, analysis: Language
) -> tuple[set[str], set[str]]:
    """(stems, words) of the article; the stems also of writers' synonyms of its words."""
    parts = _texts(article)
    stems = {stem for part in parts for stem in analysis.stems(part)}
    words = {word for part in parts for word in analysis.words(part)}
    for part in parts:  # "tull" is in the group of the "customs" it has
        for phrase in synonyms.expand(analysis.words(part)):
            stems.update(analysis.stems(" ".join(phrase)))
    return stems, words


def suggest(center: HelpCenter, store: LogStore) -> list[Suggestion]:
    """Words to add to articles' `synonyms:`, strongest first, from the searches logged in the
    help center's language."""
    code = center.language
    rephrased = store.reformulations(REPHRASE_MINUTES, code)
    failed = {search_id for search_id, _, _ in rephrased}
    # Both lists have the searches that found nothing and were said again.
    rows = dict.fromkeys([*store.evidence(FOLLOW_UP_MINUTES, code), *rephrased])
    plain, analysis = language_of(code), index_language(center)
    synonyms = load_synonyms(center.docs_dir, plain)
    known: dict[str, tuple[set[str], set[str]]] = {}
    evidence: dict[tuple[str, str], _Evidence] = defaultdict(_Evidence)
    per_word = Counter[str]()  # searches with the word, whatever article they led to
    articles_for: dict[str, Counter[str]] = defaultdict(Counter)
    for search_id, query, article_id in rows:
        words = set(_words(query or "", plain))
        for word in words:
            per_word[word] += 1
            articles_for[word][article_id] += 1
        article = center.by_id(article_id)
        if article is None or not article.published:
            continue
        if article_id not in known:
            known[article_id] = _article_words(article, synonyms, analysis)
        lacking = [w for w in words if not _has(known[article_id], w, analysis)]
        text = " ".join(query.split())
        for word in lacking:
            found = evidence[(word, article_id)]
            found.searches.add(search_id)
            found.phrasings.add(plain.normalise(text))  # as the query log groups it
            found.alone = found.alone or (len(lacking) == 1 and search_id in failed)
            found.texts[text] += 1
    suggestions = []
    for (word, article_id), found in evidence.items():
        article = center.by_id(article_id)
        assert article is not None
        searches = len(found.searches)
        if searches < MIN_SEARCHES or len(articles_for[word]) > MAX_ARTICLES:
            continue
        elsewhere = Counter[str]()
        for other_id, count in articles_for[word].items():
            other = center.by_id(other_id)
            if other is not None and other.category != article.category:
                elsewhere[other.category] += count
        if any(count >= MIN_SEARCHES for count in elsewhere.values()):
            continue  # the word leads to unrelated articles as well: not a synonym of this one
        confidence = searches / per_word[word]
        if confidence < MIN_CONFIDENCE or not _informative(word, found):
            continue
        ranked = sorted(found.texts.items(), key=lambda item: (-item[1], item[0]))
        examples = tuple(text for text, _ in ranked[:EXAMPLES])
        suggestions.append(
            Suggestion(
                article,
                word,
                searches,
                round(confidence, 2),
                examples,
                len(found.searches & failed),
            )
        )
    return sorted(suggestions, key=lambda s: (-s.searches, -s.confidence, s.article.id, s.word))


def _has(known: tuple[set[str], set[str]], word: str, analysis: Language) -> bool:
    """Whether an article with these stems and words has `word`, or a word that `word` is a
    typo of: one edit away, the same first letter, and no real word itself as search's
    spelling correction tells ("pasword"; not "telly" for "tell")."""
    stems, words = known
    if set(analysis.stems(word)) & stems:
        return True
    return not is_real_word(word, analysis.code) and any(
        w[:1] == word[:1] and OSA.distance(word, w, score_cutoff=1) <= 1 for w in words
    )


def _informative(word: str, found: _Evidence) -> bool:
    """Whether `word` could name an article, and its evidence is more than one phrasing's."""
    frequency = _commonness(word)
    if word in FILLERS or frequency >= TOO_COMMON_ZIPF or _contraction(word):
        return False
    if _place(word, found.texts):
        return False
    if len(found.phrasings) >= 2:
        return True
    return found.alone and frequency < COMMON_ZIPF


@functools.cache
def _zipf(word: str, language: str = "en") -> float:
    import wordfreq  # loads on the first word looked up (0.4 s)

    return float(wordfreq.zipf_frequency(word, language))


def _commonness(word: str) -> float:
    """How common `word` is in the languages customers write ("inte" is Swedish's "not")."""
    return max(_zipf(word, language) for language in CUSTOMER_LANGUAGES)


def _contraction(word: str) -> bool:
    """ "aint", "wheres", "cant": an English contraction typed without its apostrophe."""
    return any(
        word.endswith(end) and _zipf(f"{word[: -len(end)]}'{end}") > _zipf(word) + 0.5
        for end in ("t", "s", "re", "ve", "ll", "d", "m")
    )


@functools.cache
def _gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(countries, cities over 15,000 people), lowercase, from geotext's GeoNames tables."""
    from geotext.geotext import GeoText  # reads its tables on import (0.2 s)

    index = GeoText.index
    return frozenset(index.countries), frozenset(index.cities) - frozenset(index.countries)


def _place(word: str, texts: Counter[str]) -> bool:
    """A country, or a city: one whose name is also a common word only when it is written
    with a capital inside a search ("to Mobile", not "pay by mobile")."""
    countries, cities = _gazetteer()
    if word in countries:
        return True
    if word not in cities:
        return False
    if _zipf(word) < COMMON_PLACE_ZIPF:
        return True
    written = re.compile(rf"(?<!^)(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return any(match[0][0].isupper() for text in texts for match in written.finditer(text))


def write_synonyms(center: HelpCenter, suggestions: list[Suggestion]) -> None:
    """Add the words to the articles' files, as applying `patch` would (`kb eval --learn`
    does it in a copy of the docs)."""
    for path, _, after in _changes(center, suggestions):
        path.write_text(after, encoding="utf-8")


def patch(center: HelpCenter, suggestions: list[Suggestion]) -> str:
    """A unified diff adding the words to each article's `synonyms:` (for `git apply`)."""
    diffs: list[str] = []
    for path, before, after in _changes(center, suggestions):
        name = project_path(center, path.relative_to(center.docs_dir).as_posix())
        diffs += difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    return "".join(diffs)


def _changes(center: HelpCenter, suggestions: list[Suggestion]) -> list[tuple[Path, str, str]]:
    """(file, text now, text with the words added) of each article with suggestions."""
    by_article: dict[int, list[str]] = defaultdict(list)
    for suggestion in suggestions:
        by_article[suggestion.article.id].append(suggestion.word)
    changes = []
    for article_id, words in sorted(by_article.items()):
        article = center.by_id(article_id)
        assert article is not None
        path = center.docs_dir / article.path
        before = path.read_text(encoding="utf-8")
        changes.append((path, before, _with_synonyms(before, [*article.synonyms, *words])))
    return changes


def _with_synonyms(text: str, synonyms: list[str]) -> str:
    """The file with its front matter `synonyms:` replaced by a one-line list."""
    # Quoted: a customer's "yes", "off" or "null" must stay a word, not become YAML's value.
    line = "synonyms: [" + ", ".join(json.dumps(w, ensure_ascii=False) for w in synonyms) + "]\n"
    head, separator, rest = text.partition("\n---")
    block = re.compile(r"^synonyms:.*\n(?:[ \t]+-.*\n)*", re.MULTILINE)
    if block.search(head + "\n"):
        head = block.sub(line, head + "\n", count=1).rstrip("\n")
    else:
        head = head + "\n" + line.rstrip("\n")
    return head + separator + rest
