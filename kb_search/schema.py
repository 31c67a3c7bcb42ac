"""What the Whoosh index holds: the schema, the scoring, and one document per article.

Every part of an article is matched through one weighted field (BM25F by repetition), and what
a result shows is stored once per article as its record. Text is analysed by the help center's
`Language` (kb_search.text), the same analysis search applies to a customer's words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from kb_search.articles import Article, HelpCenter
from kb_search.sections import split_sections
from kb_search.text import ENGLISH, Language, language

# Indexed on their own for word-pair (phrase) matches; every part of an article is in MATCH_FIELD.
PHRASE_FIELDS = ("title", "queries")
# Every word of an article once more: how many articles use a word, whatever the field.
ALL_FIELD = "all"
# The whole words of an article as written: the vocabulary for spelling correction.
SPELL_FIELD = "spell"
# What a release's records look like; a release of another format is refused, not misread.
RELEASE_FORMAT = 2
# One field that customers' words are matched against, each part repeated by its weight: BM25F
# (term frequencies summed across fields before saturation), with one posting list per word
# instead of one per word and field. A match in a title or a customer query outweighs a
# passing mention in the body. Tuned with `kb eval`.
MATCH_FIELD = "weighted"
# A high K1 lets repeated (weighted) matches keep counting; a low B barely penalises long
# articles. Both tuned with `kb eval` on the relevance sets.
BM25_K1 = 10.0
BM25_B = 0.3
FIELD_REPEATS = {
    "title": 6,
    "queries": 4,
    "synonyms": 4,
    "summary": 2,
    "headings": 2,
    "tags": 2,
    "body": 1,
}


class SectionRecord(NamedTuple):
    """One H2 section of an article as search reads it, analysed once at index time."""

    heading: str
    anchor: str | None
    text: str
    heading_stems: list[str]
    text_stems: list[str]
    # Paragraphs and table rows for snippets; () in a release built before they were kept.
    passages: tuple[tuple[str, str], ...] = ()


class ArticleBM25(BM25F):  # type: ignore[misc]
    """BM25F with Lucene's IDF taken over whole articles.

    Whoosh's IDF never falls below 1 and is counted per field, so a word that nearly every
    article uses ("order", "account") outweighed the one word that matters. Here such a word
    weighs almost nothing in every field.
    """

    def idf(self, searcher: Searcher, fieldname: str, text: bytes | str) -> float:
        articles = searcher.doc_count_all()
        using = searcher.doc_frequency(ALL_FIELD, text)
        return math.log(1 + (articles - using + 0.5) / (using + 0.5))


def scoring() -> ArticleBM25:
    return ArticleBM25(B=BM25_B, K1=BM25_K1)


def schema(language: Language = ENGLISH) -> Schema:
    analyzer = language.index_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        category=ID(stored=True),
        record=STORED(),
        **{SPELL_FIELD: TEXT(analyzer=language.word_analyzer())},
        **{name: TEXT(analyzer=analyzer) for name in (*PHRASE_FIELDS, ALL_FIELD, MATCH_FIELD)},
    )


def article_record(
    article: Article, category_title: str, language: Language = ENGLISH, url_prefix: str = ""
) -> dict[str, Any]:
    """What a search result shows, stored once per article; its addresses are from the site's
    root (`url_prefix` is the language's folder, HelpCenter.url_prefix)."""
    # Plain tuples: a stored class would tie every built release to its module path.
    sections = [
        (
            s.heading,
            s.anchor,
            s.text,
            language.stems(s.heading),
            language.stems(s.text),
            s.passages,
        )
        for s in split_sections(article.markdown)
    ]
    return {
        "id": article.id,
        "title": article.title,
        "url": url_prefix + article.url,
        "summary": article.summary,
        "category": article.category,
        "category_title": category_title,
        "reply": article.reply,
        "permalink": url_prefix + article.permalink,
        # The searches it answers and when it was last reviewed: the dashboard takes a
        # published `kb draft` article as the answer to the gap its searches came from.
        "queries": list(article.queries),
        "reviewed": article.reviewed.isoformat(),
        # So a search can pick the section to link to without analysing the article again.
        "sections": sections,
    }


def _fields(article: Article, sections: list[tuple[str, str]]) -> dict[str, str]:
    """An article's text by field; `sections` are its (heading, text) pairs."""
    return {
        "title": article.title,
        "summary": article.summary,
        "synonyms": " ; ".join(article.synonyms),
        "queries": " ; ".join(article.queries),
        "headings": " ; ".join(heading for heading, _ in sections if heading),
        "body": " ".join(text for _, text in sections),
        "tags": " ".join(article.tags),
    }


def _document(article: Article, record: dict[str, Any]) -> dict[str, Any]:
    fields = _fields(article, [(s[0], s[2]) for s in record["sections"]])
    everything = " ; ".join(fields.values())
    weighted = " ; ".join(
        " ; ".join([fields[name]] * repeats) for name, repeats in FIELD_REPEATS.items()
    )
    return {
        "id": str(article.id),
        "category": article.category,
        "record": record,
        SPELL_FIELD: everything,
        ALL_FIELD: everything,
        MATCH_FIELD: weighted,
        **{name: fields[name] for name in PHRASE_FIELDS},
    }


def index_language(center: HelpCenter) -> Language:
    """The help center's language, reading compounds and definite forms through the words of
    its published articles: exactly the spelling field's words, from which an open index
    gets the same `Language` back (kb_search.versions)."""
    plain = language(center.language)
    if not plain.reads_compounds:
        return plain
    words: set[str] = set()
    for article in center.published:
        sections = [(s.heading, s.text) for s in split_sections(article.markdown)]
        words.update(plain.words(" ; ".join(_fields(article, sections).values())))
    return plain.with_vocabulary(words)


def write_index(
    center: HelpCenter,
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Article, dict[str, Any]]]:
    """Index the published articles into `folder`, analysed in the help center's language;
    returns each with its record."""
    analysis = index_language(center)
    ix = whoosh_index.create_in(str(folder), schema(analysis))
    articles = center.published
    writer = ix.writer(limitmb=128)
    records = []
    for done, article in enumerate(articles, 1):
        category = center.categories[article.category].title
        record = article_record(article, category, analysis, center.url_prefix)
        records.append((article, record))
        writer.add_document(**_document(article, record))
        if progress and (done % 500 == 0 or done == len(articles)):
            progress(done, len(articles))
    writer.commit()
    return records
