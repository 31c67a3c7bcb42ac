"""Findability: `kb eval` on the relevance sets, against Material's built-in search.

dev.csv is the set the engine was tuned on; holdout.csv was written blind by someone who never
saw dev.csv or the tuning, so it shows how search generalises. The floors are the measured
figures rounded down: relevance cannot silently regress.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb_search.articles import load
from kb_search.cli import main
from kb_search.evaluate import read_cases
from tests.conftest import ROOT, kb_eval

RELEVANCE = ROOT / "tests" / "relevance"
# (recall@3, MRR) floors per set
FLOORS = {"dev.csv": (0.90, 0.78), "holdout.csv": (0.70, 0.55)}
LEAD_OVER_BUILT_IN = 0.20


@pytest.fixture(scope="module", params=sorted(FLOORS))
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    return kb_eval(request.param)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_each_set_covers_every_article_in_customers_words(name: str) -> None:
    cases = read_cases(RELEVANCE / name)
    center = load(ROOT / "docs")
    for article in center.published:
        assert sum(str(article.id) in c.expected for c in cases) >= 4, article.id
    front_matter = {q.lower() for a in center.articles for q in a.queries}
    titles = {a.title.lower() for a in center.articles}
    assert not [c.query for c in cases if c.query in front_matter | titles]


def test_the_dev_set_is_large_enough() -> None:
    assert len(read_cases(RELEVANCE / "dev.csv")) >= 250


def test_json_has_the_documented_keys(figures: dict[str, Any]) -> None:
    assert {"n", "recall_at_1", "recall_at_3", "mrr", "zero_result_rate", "failures"} <= set(
        figures
    )
    assert figures["n"] == len(read_cases(RELEVANCE / figures["set"]))
    assert {"recall_at_3", "mrr"} <= set(figures["baseline"])


def test_relevance_does_not_regress(figures: dict[str, Any]) -> None:
    recall_floor, mrr_floor = FLOORS[figures["set"]]
    assert figures["recall_at_3"] >= recall_floor
    assert figures["mrr"] >= mrr_floor


def test_we_beat_the_built_in_search_by_twenty_points(figures: dict[str, Any]) -> None:
    assert figures["recall_at_3"] - figures["baseline"]["recall_at_3"] >= LEAD_OVER_BUILT_IN


def test_a_bad_relevance_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nx,1\n")
    assert main(["eval", str(bad)]) == 2
    assert "needs the columns query,expected_id" in capsys.readouterr().err


def test_each_sibling_pair_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "eval",
                str(RELEVANCE / "dev.csv"),
                "--json",
                "--siblings",
                str(RELEVANCE / "siblings.yml"),
            ]
        )
        == 0
    )
    siblings = json.loads(capsys.readouterr().out)["siblings"]
    assert [g["articles"] for g in siblings][:2] == [["161", "162", "141"], ["225", "125"]]
    for group in siblings:
        assert group["n"] >= 12, group  # the dev set has queries for each side of every pair
        assert group["recall_at_3"] >= 0.7, group
