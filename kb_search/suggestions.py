"""`kb synonyms suggest`: customers' own words for an article, learned from the query log.

Evidence is a search followed by a click on an article, or a search that found nothing followed,
in the same visit, by one that led to a click. A word is suggested for an article when the
article does not use it, enough different searches back it, and it does not point just as well
to an article in another category. Nothing is applied: the result is a patch a writer reviews.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from kb_search.articles import Article, HelpCenter
from kb_search.querylog import LogStore
from kb_search.sections import split_sections
from kb_search.text import ENGLISH, PLACEHOLDER

MIN_SEARCHES = 2
MIN_CONFIDENCE = 0.6
FOLLOW_UP_MINUTES = 10


@dataclass(frozen=True)
class Suggestion:
    article: Article
    word: str
    searches: int
    confidence: float  # share of this word's evidence that points at this article


def _words(text: str) -> list[str]:
    text = PLACEHOLDER.sub(" ", text)
    return [
        word
        for word in ENGLISH.words(text)
        if not ENGLISH.is_stop_word(word) and not word.isdigit() and len(word) > 2
    ]


def _article_stems(article: Article) -> set[str]:
    parts = [
        article.title,
        article.summary,
        *article.synonyms,
        *article.queries,
        *article.tags,
        *(f"{s.heading} {s.text}" for s in split_sections(article.markdown)),
    ]
    return {stem for part in parts for stem in ENGLISH.stems(part)}


def suggest(center: HelpCenter, store: LogStore) -> list[Suggestion]:
    """Words to add to articles' `synonyms:`, strongest first."""
    rows = store.evidence(FOLLOW_UP_MINUTES)
    searches: dict[tuple[str, str], set[str]] = defaultdict(set)  # (word, article) -> searches
    for search_id, query, article_id in rows:
        for word in set(_words(query or "")):
            searches[(word, str(article_id))].add(search_id)
    per_word = Counter[str]()
    articles_for: dict[str, set[str]] = defaultdict(set)
    for (word, article_id), ids in searches.items():
        per_word[word] += len(ids)
        articles_for[word].add(article_id)
    stems: dict[str, set[str]] = {}
    found = []
    for (word, article_id), ids in searches.items():
        article = center.by_id(article_id)
        if article is None or not article.published or len(ids) < MIN_SEARCHES:
            continue
        stems.setdefault(article_id, _article_stems(article))
        if any(stem in stems[article_id] for stem in ENGLISH.stems(word)):
            continue
        others = [center.by_id(other) for other in articles_for[word] - {article_id}]
        if any(other is not None and other.category != article.category for other in others):
            continue  # the word leads to unrelated articles as well: not a synonym of this one
        confidence = len(ids) / per_word[word]
        if confidence >= MIN_CONFIDENCE:
            found.append(Suggestion(article, word, len(ids), round(confidence, 2)))
    return sorted(found, key=lambda s: (-s.searches, -s.confidence, s.article.id, s.word))


def patch(center: HelpCenter, suggestions: list[Suggestion]) -> str:
    """A unified diff adding the words to each article's `synonyms:` (for `git apply`)."""
    by_article: dict[int, list[str]] = defaultdict(list)
    for suggestion in suggestions:
        by_article[suggestion.article.id].append(suggestion.word)
    diffs: list[str] = []
    for article_id, words in sorted(by_article.items()):
        article = center.by_id(article_id)
        assert article is not None
        path = center.docs_dir / article.path
        before = path.read_text(encoding="utf-8")
        after = _with_synonyms(before, [*article.synonyms, *words])
        name = f"{center.docs_dir.name}/{article.path}"
        diffs += difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    return "".join(diffs)


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
