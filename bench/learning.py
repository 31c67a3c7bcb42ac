"""The learning curve: findability after each number of simulated visits (kb_search.learning).

One seeded simulation per relevance set: customers of the set's seen half visit the real app,
and at each checkpoint the loop runs (synonyms written, a new release, learned boosts) and the
next visits search the improved help center. Run alone:

    python bench/learning.py tests/relevance/dev.csv docs 0,250,500,1000
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb_search.config import Settings
from kb_search.evaluate import read_cases
from kb_search.learning import learning_run


def learning_curve(
    queries_csv: Path, docs_dir: Path, visits: Sequence[int] = (0, 250, 500, 1000), seed: int = 0
) -> list[dict[str, Any]]:
    """Per number of visits: recall@3 and MRR of the unseen and the seen half, lexical and
    (when the encoder loads) hybrid, with how many synonyms and boosts were learned by then."""
    settings = Settings.from_env(os.environ, docs_dir=Path(docs_dir))
    run = learning_run(settings, read_cases(Path(queries_csv)), visits, seed)
    points: list[dict[str, Any]] = run["checkpoints"]
    return points


if __name__ == "__main__":
    csv, docs, *rest = sys.argv[1:]
    checkpoints = [int(v) for v in rest[0].split(",")] if rest else [0, 250, 500, 1000]
    print(json.dumps(learning_curve(Path(csv), Path(docs), checkpoints), indent=2))
