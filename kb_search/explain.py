"""`kb explain "words"`: why each top article ranks where it does.

For each result: its lexical score (BM25F) and share of the best one, its similarity in
meaning when the semantic ranker is on, the fused score search ranked by, and the learned
boost that moved it, with the evidence. The figures come from the same search the service
runs, not from a model of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb_search import search as engine
from kb_search.boosts import Boost, Boosts, Moved
from kb_search.semantic import Encoder
from kb_search.versions import OpenIndex


@dataclass(frozen=True)
class Row:
    rank: int
    id: str
    title: str
    lexical: float | None  # BM25F; None: found by meaning alone
    share: float | None  # of the best lexical score
    similarity: float | None  # cosine to the query, when the semantic ranker is on
    score: float  # what search ranked by: the fused score, or the lexical one
    moved: Moved | None  # the learned boost that moved it here


@dataclass(frozen=True)
class Explanation:
    query: str
    corrected: str | None
    hybrid: bool
    semantic_weight: float
    boost: Boost | None  # the learned boost for this search, whether it moved anything or not
    rows: list[Row]


def explain(
    index: OpenIndex,
    text: str,
    top: int = 5,
    encoder: Encoder | None = None,
    semantic_weight: float = 0.0,
    boosts: Boosts | None = None,
) -> Explanation:
    hybrid = engine.hybrid_ready(index, encoder, semantic_weight)
    ranked = engine.search(index, text, limit=top, encoder=encoder, semantic_weight=semantic_weight)
    moved = boosts.move(text, ranked.results) if boosts else None
    final = boosts.apply(text, ranked.results) if boosts else ranked.results
    # Every lexical candidate the fusion saw (search keeps the best COUNTED).
    lexical = {str(r.id): r.score for r in engine.search(index, text, limit=engine.COUNTED).results}
    best = max(lexical.values(), default=0.0) or 1.0
    similarity: dict[str, float] = {}
    if hybrid and encoder is not None and index.vectors is not None:
        words = engine.words_of(index, ranked.corrected or text)
        similarity = index.vectors.similarities(encoder.encode_query(" ".join(words)))
    rows = []
    for rank, result in enumerate(final, 1):
        article_id = str(result.id)
        score = lexical.get(article_id)
        rows.append(
            Row(
                rank,
                article_id,
                result.title,
                score,
                None if score is None else round(score / best, 2),
                round(similarity[article_id], 3) if article_id in similarity else None,
                result.score,
                moved if moved and moved.boost.article_id == article_id else None,
            )
        )
    boost = boosts.for_query(text) if boosts else None
    return Explanation(text, ranked.corrected, hybrid, semantic_weight, boost, rows)


def render(explanation: Explanation, boosts: Boosts | None, boosts_note: str) -> str:
    """The explanation as the terminal shows it."""
    lines = [f"Search: {explanation.query!r}"]
    if explanation.corrected:
        lines[0] += f" (searched as {explanation.corrected!r})"
    if explanation.hybrid:
        weight = explanation.semantic_weight
        lines.append(
            f"Ranker: hybrid: fused = {1 - weight:.2f} x lexical share "
            f"+ {weight:.2f} x similarity share"
        )
    else:
        lines.append("Ranker: lexical (BM25F)")
    lines.append(f"Learned boosts: {boosts_note}")
    lines.append("")
    header = f"{'#':>3} {'id':>5} {'lexical':>8} {'share':>6}"
    header += f" {'similar':>8} {'fused':>6}" if explanation.hybrid else ""
    lines.append(header + "  title")
    for row in explanation.rows:
        line = f"{row.rank:>3} {row.id:>5} {_figure(row.lexical, 3):>8} {_figure(row.share, 2):>6}"
        if explanation.hybrid:
            line += f" {_figure(row.similarity, 3):>8} {row.score:>6.3f}"
        lines.append(line + f"  {row.title}")
        if row.moved and boosts:
            lines.append(
                f"{'':>10}learned boost: moved up from {row.moved.before} to {row.moved.after}: "
                + row.moved.boost.describe(boosts.since)
            )
    boost = explanation.boost
    if boost and boosts and not any(row.moved for row in explanation.rows):
        lines.append(
            f"\nA learned boost for article {boost.article_id} did not move it (first already, "
            f"or not among these results): {boost.describe(boosts.since)}"
        )
    return "\n".join(lines)


def _figure(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
