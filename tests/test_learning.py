"""`kb eval --learn`: the learning loop simulated through the real app, measured, seeded."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kb_search.cli import main
from kb_search.config import Settings
from kb_search.evaluate import read_cases
from kb_search.learning import learning_run, split
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every eighth row of the development set: 50 queries, 25 of them searched."""
    with (ROOT / "tests" / "relevance" / "dev.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path_factory.mktemp("learn") / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["query", "expected_id"])
        writer.writeheader()
        writer.writerows(rows[:400:8])
    return path


def run(small_set: Path, visits: int) -> dict:  # type: ignore[type-arg]
    settings = Settings.from_env({}, docs_dir=ROOT / "docs", semantic_weight=0.0)
    return learning_run(settings, read_cases(small_set), (0, visits))


def test_kb_eval_learn_measures_both_halves_before_and_after(
    small_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--learn", str(small_set), "--semantic-weight", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    before, after = result["checkpoints"]
    assert (result["seen"], result["unseen"], after["visits"]) == (25, 25, 125)
    assert sum(result["customers"].values()) == 125
    assert result["ranker"] == "lexical" and list(after["seen"]) == ["lexical"]
    # Customers' repeated searches find their article sooner; the others lose nothing.
    assert after["boosts_moving"] > 0
    assert after["seen"]["lexical"]["mrr"] > before["seen"]["lexical"]["mrr"]
    for key in ("recall_at_3", "mrr"):
        assert after["unseen"]["lexical"][key] >= before["unseen"]["lexical"][key]
        assert after["seen"]["lexical"][key] >= before["seen"]["lexical"][key]


def test_kb_eval_learn_prints_a_table(small_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--learn", str(small_set), "--semantic-weight", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("125 simulated visits by customers of 25 seen queries (seed 0")
    assert lines[3].split() == ["before", "after"]
    assert lines[4] == "unseen queries (n=25)" and lines[4 + 3] == "seen queries (n=25)"
    assert lines[5].split()[:2] == ["recall@3", "lexical"]


def test_the_simulation_is_reproducible(small_set: Path) -> None:
    first, second = run(small_set, 40), run(small_set, 40)
    assert first == second


def test_the_halves_do_not_overlap() -> None:
    cases = read_cases(ROOT / "tests" / "relevance" / "dev.csv")
    seen, unseen = split(cases, 0)
    assert len(seen) + len(unseen) == len(cases) and not set(seen) & set(unseen)
    assert split(cases, 0) == (seen, unseen) and split(cases, 1) != (seen, unseen)
