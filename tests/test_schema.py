"""What the index holds: analysis, progress, drafts left out, synonyms checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.articles import ContentError, load
from kb_search.synonyms import load_synonyms
from kb_search.versions import LiveIndex, build
from tests.conftest import copy_project


def test_long_builds_report_progress(tmp_path: Path) -> None:
    center = load(copy_project(tmp_path / "p") / "docs")
    seen: list[tuple[int, int]] = []
    build(center, tmp_path / "index", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(center.published), len(center.published))


def test_drafts_are_not_indexed(tmp_path: Path) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    article = docs / "orders" / "cancellation-fee.md"
    article.write_text(article.read_text().replace("status: published", "status: draft"))
    build(load(docs), tmp_path / "index")
    live = LiveIndex(tmp_path / "index")
    assert "106" not in live.current().records
    live.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- [parcel]\n", "docs/synonyms.yml: group 1 needs at least two words"),
        ("- parcel\n", "docs/synonyms.yml: group 1 must be a list of words"),
        (
            "- [parcel, package]\n- [box, Parcel]\n",
            "docs/synonyms.yml: group 2: 'parcel' is already in group 1",
        ),
        ("parcel: package\n", "docs/synonyms.yml: must be a list of groups"),
        ("- [parcel, package\n", "docs/synonyms.yml: not valid YAML"),
    ],
)
def test_synonym_file_errors_name_the_file_and_group(
    tmp_path: Path, content: str, message: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "synonyms.yml").write_text(content)
    with pytest.raises(ContentError) as caught:
        load_synonyms(docs)
    assert any(message in p for p in caught.value.problems), caught.value.problems
