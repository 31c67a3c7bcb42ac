"""The Whoosh index: analysis, atomic versioned builds, drafts left out, synonyms checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.articles import ContentError, load
from kb_search.index import CURRENT, IndexMissing, LiveIndex, build, text_analyzer
from kb_search.synonyms import load_synonyms
from tests.conftest import copy_project


def stems(text: str) -> list[str]:
    return [t.text for t in text_analyzer()(text)]


def test_analysis_folds_accents_case_plurals_and_stop_words() -> None:
    assert stems("Retúrns") == stems("return")
    assert stems("Where is my order?") == ["where", "order"]
    assert stems("parcels") == stems("parcel")


def test_build_switches_atomically_and_keeps_two_versions(tmp_path: Path) -> None:
    center = load(copy_project(tmp_path / "p") / "docs")
    root = tmp_path / "index"
    with pytest.raises(IndexMissing):
        LiveIndex(root).current()
    versions = [build(center, root).name for _ in range(3)]
    assert (root / CURRENT).read_text() == versions[-1]
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(versions[1:])
    live = LiveIndex(root)
    assert live.current().version == versions[-1]
    assert len(live.current().records) == len(center.published)
    live.close()


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
