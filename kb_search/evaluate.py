"""How well search finds the expected article: recall@k, MRR, zero results, and each miss.

Queries run through the same code as `/api/search`; used by `kb check` (front matter queries)
and `kb eval` (a relevance set in a CSV file).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb_search import search as engine
from kb_search.semantic import Encoder
from kb_search.versions import OpenIndex

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


def evaluate(
    index: OpenIndex,
    cases: Iterable[Case],
    encoder: Encoder | None = None,
    semantic_weight: float = 0.0,
) -> Evaluation:
    outcomes = []
    for case in cases:
        answer = engine.search(
            index, case.query, limit=RANKS_KEPT, encoder=encoder, semantic_weight=semantic_weight
        )
        ranked = [(str(r.id), r.title) for r in answer.results]
        outcomes.append(Outcome(case, ranked, answer.total))
    return Evaluation(outcomes)


def read_cases(path: Path) -> list[Case]:
    """A relevance set: CSV with `query,expected_id`; several ids may be given as `a|b`."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or {"query", "expected_id"} - set(reader.fieldnames):
            raise ValueError(f"{path}: needs the columns query,expected_id")
        cases = []
        for number, row in enumerate(reader, 2):
            expected = tuple(i.strip() for i in (row["expected_id"] or "").split("|") if i.strip())
            if not (row["query"] or "").strip() or not expected:
                raise ValueError(f"{path}:{number}: needs a query and an expected_id")
            cases.append(Case(row["query"].strip(), expected))
    return cases


def summary(evaluation: Evaluation, k: int) -> dict[str, Any]:
    """The figures `kb eval --json` prints."""
    return {
        "n": evaluation.n,
        "recall_at_1": round(evaluation.recall_at(1), 4),
        "recall_at_3": round(evaluation.recall_at(3), 4),
        "mrr": round(evaluation.mrr, 4),
        "zero_result_rate": round(evaluation.zero_result_rate, 4),
        "failures": [
            {
                "query": o.case.query,
                "expected": list(o.case.expected),
                "rank": o.rank,
                "got": [i for i, _ in o.ranked[:k]],
            }
            for o in evaluation.failures(k)
        ],
    }


def sibling_report(evaluation: Evaluation, groups: list[list[str]]) -> list[dict[str, Any]]:
    """Per group of confusable articles: how often its queries find the right one first."""
    report = []
    for group in groups:
        mine = [o for o in evaluation.outcomes if set(o.case.expected) & set(group)]
        confused = [
            o for o in mine if o.ranked and o.ranked[0][0] in set(group) - set(o.case.expected)
        ]
        report.append(
            {
                "articles": group,
                "n": len(mine),
                "recall_at_1": round(Evaluation(mine).recall_at(1), 4),
                "recall_at_3": round(Evaluation(mine).recall_at(3), 4),
                "sibling_first": len(confused),
            }
        )
    return report
