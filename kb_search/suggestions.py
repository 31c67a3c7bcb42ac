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
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from kb_search.articles import Article, HelpCenter
from kb_search.index import STOP_WORDS, text_analyzer, word_analyzer
from kb_search.sections import split_sections

MIN_SEARCHES = 2
MIN_CONFIDENCE = 0.6
FOLLOW_UP_MINUTES = 10
_PLACEHOLDER = re.compile(r"<[a-z-]+>")

# A search that was clicked, and a search that found nothing but was followed, in the same
# visit and soon after, by a search that was clicked.
_EVIDENCE = """
SELECT s.search_id, s.query, c.article_id FROM searches s JOIN clicks c USING (search_id)
UNION
SELECT z.search_id, z.query, c.article_id
FROM searches z
JOIN searches s ON s.session = z.session AND s.at > z.at
     AND julianday(s.at) - julianday(z.at) <= :minutes / 1440.0
JOIN clicks c ON c.search_id = s.search_id
WHERE z.result_count = 0 AND z.session IS NOT NULL
"""


@dataclass(frozen=True)
class Suggestion:
    article: Article
    word: str
    searches: int
    confidence: float  # share of this word's evidence that points at this article


def _words(text: str) -> list[str]:
    text = _PLACEHOLDER.sub(" ", text)
    return [
        t.text
        for t in word_analyzer()(text)
        if t.text not in STOP_WORDS and not t.text.isdigit() and len(t.text) > 2
    ]


def _article_stems(article: Article) -> set[str]:
    analyzer = text_analyzer()
    parts = [
        article.title,
        article.summary,
        *article.synonyms,
        *article.queries,
        *article.tags,
        *(f"{s.heading} {s.text}" for s in split_sections(article.markdown)),
    ]
    return {t.text for part in parts for t in analyzer(part)}


def suggest(center: HelpCenter, log_db: Path) -> list[Suggestion]:
    """Words to add to articles' `synonyms:`, strongest first."""
    with sqlite3.connect(f"file:{log_db}?mode=ro", uri=True) as db:
        rows = db.execute(_EVIDENCE, {"minutes": FOLLOW_UP_MINUTES}).fetchall()
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
        if any(t.text in stems[article_id] for t in text_analyzer()(word)):
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
