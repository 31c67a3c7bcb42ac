"""Plain baselines that `kb eval` measures our search against, on the same queries and articles.

Each is what a team would get without tuning anything: Material's built-in search (lunr, run
by Node on the built site), Whoosh's BM25F with its defaults over the article's fields, and the
same sentence embeddings as our semantic ranker, ranked by cosine alone. If ours does not beat
them, the tuning is not paying off.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from whoosh.analysis import Analyzer, LanguageAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import MultifieldParser, OrGroup

from kb_search.articles import Article, HelpCenter
from kb_search.evaluate import RANKS_KEPT, Case, Evaluation, Outcome
from kb_search.sections import split_sections
from kb_search.semantic import Encoder

BM25_FIELDS = ("title", "synonyms", "queries", "summary", "body")
# Whoosh query syntax in a customer's words would be parsed as operators; a baseline should
# measure ranking, not parse errors, so these become spaces.
_SYNTAX = re.compile(r"[\"'*?~^:+\-()\[\]{}/\\]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")


def _body(article: Article) -> str:
    return " ".join(s.text for s in split_sections(article.markdown))


def plain_analyzer(code: str) -> Analyzer:
    """Whoosh's own analyser for a language: English stemming, else its Snowball stemmer and
    stop list (Swedish: LanguageAnalyzer("sv"))."""
    return StemmingAnalyzer() if code == "en" else LanguageAnalyzer(code)


def bm25(center: HelpCenter, cases: list[Case]) -> Evaluation:
    """Whoosh's BM25F (default B and K1) with its analyser for the help center's language,
    any word matching."""
    analyzer = plain_analyzer(center.language)
    schema = Schema(id=ID(stored=True), **{f: TEXT(analyzer=analyzer) for f in BM25_FIELDS})
    ix = RamStorage().create_index(schema)
    titles = {}
    with ix.writer() as writer:
        for article in center.published:
            titles[str(article.id)] = article.title
            writer.add_document(
                id=str(article.id),
                title=article.title,
                synonyms=" ; ".join(article.synonyms),
                queries=" ; ".join(article.queries),
                summary=article.summary,
                body=_body(article),
            )
    parser = MultifieldParser(list(BM25_FIELDS), schema, group=OrGroup)
    outcomes = []
    with ix.searcher() as searcher:
        for case in cases:
            hits = searcher.search(parser.parse(_SYNTAX.sub(" ", case.query)), limit=RANKS_KEPT)
            ranked = [(hit["id"], titles[hit["id"]]) for hit in hits]
            outcomes.append(Outcome(case, ranked, len(hits)))
    return Evaluation(outcomes)


def semantic(center: HelpCenter, cases: list[Case], encoder: Encoder) -> Evaluation:
    """Cosine of the query to each article's best text: its title, each query, its body."""
    import numpy as np

    owners: list[int] = []
    texts: list[str] = []
    articles = center.published
    for number, article in enumerate(articles):
        for text in (article.title, *article.queries, _body(article)):
            owners.append(number)
            texts.append(text)
    vectors = encoder.encode(texts)
    starts = np.flatnonzero(np.diff(np.array(owners), prepend=-1))
    outcomes = []
    for case, query in zip(cases, encoder.encode([c.query for c in cases]), strict=True):
        best = np.maximum.reduceat(vectors @ query, starts)
        order = np.argsort(-best)[:RANKS_KEPT]
        ranked = [(str(articles[i].id), articles[i].title) for i in order]
        outcomes.append(Outcome(case, ranked, len(articles)))
    return Evaluation(outcomes)


def material_search(site_dir: Path, center: HelpCenter, cases: list[Case]) -> Evaluation:
    """The same cases through Material's built-in search (its own worker, run by Node)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the built-in search baseline needs Node.js (`node`) on the PATH")
    workers = sorted((site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    if not workers:
        raise RuntimeError(f"{site_dir} has no Material search worker: build the site first")
    job = {
        "worker": str(workers[0]),
        "index": str(site_dir / "search" / "search_index.json"),
        "queries": [c.query for c in cases],
    }
    harness = Path(__file__).with_name("material_search.js")
    result = subprocess.run(
        [node, str(harness)], input=json.dumps(job), capture_output=True, text=True, check=True
    )
    by_url = {a.url: a for a in center.published}
    outcomes = []
    for case, urls in zip(cases, json.loads(result.stdout), strict=True):
        found = [by_url[u] for u in urls if u in by_url]
        outcomes.append(
            Outcome(case, [(str(a.id), a.title) for a in found][:RANKS_KEPT], len(urls))
        )
    return Evaluation(outcomes)
