"""How well search finds the expected article: recall@k, MRR, zero results, and each miss.

Queries run through the same code as `/api/search`; used by `kb check` (front matter queries)
and `kb eval` (a relevance set in a CSV file).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kb_search import search as engine
from kb_search.index import OpenIndex

RANKS_KEPT = 10


@dataclass(frozen=True)
class Case:
    query: str
    expected: tuple[str, ...]  # acceptable article ids


@dataclass(frozen=True)
class Outcome:
    case: Case
    ranked: list[tuple[str, str]]  # (id, title) best first
    total: int

    @property
    def rank(self) -> int | None:
        """1-based position of the first acceptable article, if it was found at all."""
        ids = [article_id for article_id, _ in self.ranked]
        return next((n for n, i in enumerate(ids, 1) if i in self.case.expected), None)

    def found_within(self, k: int) -> bool:
        return self.rank is not None and self.rank <= k


@dataclass(frozen=True)
class Evaluation:
    outcomes: list[Outcome]

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def recall_at(self, k: int) -> float:
        return sum(o.found_within(k) for o in self.outcomes) / (self.n or 1)

    @property
    def mrr(self) -> float:
        return sum(1 / o.rank for o in self.outcomes if o.rank) / (self.n or 1)

    @property
    def zero_result_rate(self) -> float:
        return sum(o.total == 0 for o in self.outcomes) / (self.n or 1)

    def failures(self, k: int) -> list[Outcome]:
        return [o for o in self.outcomes if not o.found_within(k)]


def evaluate(index: OpenIndex, cases: Iterable[Case]) -> Evaluation:
    outcomes = []
    for case in cases:
        answer = engine.search(index, case.query, limit=RANKS_KEPT)
        ranked = [(str(r.id), r.title) for r in answer.results]
        outcomes.append(Outcome(case, ranked, answer.total))
    return Evaluation(outcomes)
