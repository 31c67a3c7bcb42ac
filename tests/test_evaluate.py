"""Findability: `kb eval` on the development relevance set, against Material's built-in search.

The floors below are the measured figures rounded down: relevance cannot silently regress.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from kb_search.cli import main
from kb_search.evaluate import read_cases
from tests.conftest import ROOT

DEV_SET = ROOT / "tests" / "relevance" / "dev.csv"
RECALL_AT_3_FLOOR = 0.83
MRR_FLOOR = 0.72
LEAD_OVER_BUILT_IN = 0.20


@pytest.fixture(scope="module")
def figures() -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(
                [
                    "eval",
                    str(DEV_SET),
                    "--json",
                    "--baseline",
                    "lunr",
                    "--config",
                    str(ROOT / "mkdocs.yml"),
                ]
            )
            == 0
        )
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_the_dev_set_covers_every_article_in_customers_words() -> None:
    from kb_search.articles import load

    cases = read_cases(DEV_SET)
    center = load(ROOT / "docs")
    assert len(cases) >= 250
    for article in center.published:
        assert sum(str(article.id) in c.expected for c in cases) >= 5, article.id
    front_matter = {q.lower() for a in center.articles for q in a.queries}
    titles = {a.title.lower() for a in center.articles}
    assert not [c.query for c in cases if c.query in front_matter | titles]


def test_json_has_the_documented_keys(figures: dict) -> None:  # type: ignore[type-arg]
    assert {"n", "recall_at_1", "recall_at_3", "mrr", "zero_result_rate", "failures"} <= set(
        figures
    )
    assert figures["n"] == len(read_cases(DEV_SET))
    assert set(figures["baseline"]) >= {"recall_at_3", "mrr"}


def test_relevance_does_not_regress(figures: dict) -> None:  # type: ignore[type-arg]
    assert figures["recall_at_3"] >= RECALL_AT_3_FLOOR
    assert figures["mrr"] >= MRR_FLOOR


def test_we_beat_the_built_in_search_by_twenty_points(figures: dict) -> None:  # type: ignore[type-arg]
    assert figures["recall_at_3"] - figures["baseline"]["recall_at_3"] >= LEAD_OVER_BUILT_IN


def test_a_bad_relevance_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nx,1\n")
    assert main(["eval", str(bad)]) == 2
    assert "needs the columns query,expected_id" in capsys.readouterr().err
