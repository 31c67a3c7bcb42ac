"""The article model: loading, store facts and precise validation errors."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from kb_search.articles import FIELDS, ContentError, Field, load
from tests.conftest import ROOT

GOOD = """\
    ---
    id: 7
    title: Return an item
    summary: Send an item back within the return window.
    tags: [returns]
    synonyms: [send back]
    queries: [how do i return, return label, send it back]
    reply: You have {{ store.return_days }} days to return an item.
    reviewed: 2026-11-01
    status: published
    ---
    You have **{{ store.return_days }} days** to return an item.

    ## Print the label

    1. Open your order.
    """


def make_docs(root: Path, articles: dict[str, str]) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "store.yml").write_text("name: Test Shop\nreturn_days: 30\nshipping:\n  express: 9\n")
    (docs / "categories.yml").write_text(
        "returns:\n  title: Returns\n  summary: Sending things back.\n  icon: material/undo\n"
    )
    for rel, text in articles.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(textwrap.dedent(text))
    return docs


def problems(tmp_path: Path, articles: dict[str, str]) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load(make_docs(tmp_path, articles))
    return caught.value.problems


def test_a_valid_article_loads_with_its_facts_rendered(tmp_path: Path) -> None:
    center = load(make_docs(tmp_path, {"returns/return-an-item.md": GOOD}))
    (article,) = center.articles
    assert article.id == 7
    assert article.category == "returns"
    assert article.url == "returns/return-an-item/"
    assert article.permalink == "a/7/"
    assert "You have **30 days**" in article.markdown
    assert article.reply == "You have 30 days to return an item."
    assert article.queries == ("how do i return", "return label", "send it back")


def test_changing_a_fact_in_the_store_changes_the_article(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {"returns/return-an-item.md": GOOD})
    (docs / "store.yml").write_text("name: Test Shop\nreturn_days: 45\n")
    assert "**45 days**" in load(docs).articles[0].markdown


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("id: 7\n", ""), "front matter field 'id' is missing; the next free id is"),
        (("id: 7", "id: seven"), "field 'id' must be a positive whole number"),
        (("reviewed: 2026-11-01", "reviewed: 2026-13-01"), "field 'reviewed' must be a date"),
        (("reviewed: 2026-11-01", "reviewed: last week"), "field 'reviewed' must be a date"),
        (("status: published", "status: live"), "field 'status' must be one of published, draft"),
        (("title: Return an item", "title: ''"), "field 'title' is missing"),
        (
            ("summary: Send an item back within the return window.", "summary:"),
            "field 'summary' is missing",
        ),
        (("tags: [returns]", "tags: [returns]\ncolour: blue"), "field 'colour' is unknown"),
        (
            ("queries: [how do i return, return label, send it back]", "queries: [return]"),
            "field 'queries' needs at least 3",
        ),
        (
            ("**{{ store.return_days }} days**", "{{ store.return_dayz }}"),
            "docs/returns/return-an-item.md: body: unknown store fact 'store.return_dayz'",
        ),
        (
            ("reply: You have {{ store.return_days }}", "reply: You have {{ store.nope }}"),
            "docs/returns/return-an-item.md:8: reply: unknown store fact 'store.nope'",
        ),
        (
            ("**{{ store.return_days }} days**", "{{ store.shipping }}"),
            "store fact 'store.shipping' is a group",
        ),
        (("**{{ store.return_days }} days**", "{{ page.title }}"), "is not a store fact"),
    ],
)
def test_each_front_matter_problem_names_the_file_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    text = textwrap.dedent(GOOD).replace(*change)
    found = problems(tmp_path, {"returns/return-an-item.md": text})
    assert any(expected in p for p in found), found
    assert all(p.startswith("docs/returns/return-an-item.md:") for p in found)


def test_duplicate_id_names_both_files_and_a_free_id(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {"returns/a.md": GOOD, "returns/b.md": GOOD})
    os.utime(docs / "returns" / "b.md", (1_000, 1_000))  # b is the older file
    with pytest.raises(ContentError) as caught:
        load(docs)
    assert caught.value.problems == [
        "docs/returns/a.md:2: front matter field 'id' 7 is already used by docs/returns/b.md; "
        "the next free id is 8"
    ]


def test_a_retired_id_is_never_reused(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {"returns/a.md": GOOD})
    (docs / "retired-ids.txt").write_text("# deleted articles\n7\n")
    with pytest.raises(ContentError, match="'id' 7 was retired"):
        load(docs)


def test_unknown_category_names_the_folder(tmp_path: Path) -> None:
    found = problems(tmp_path, {"billing/x.md": GOOD})
    assert found == ["docs/billing/x.md: unknown category 'billing' (add it to categories.yml)"]


def test_missing_front_matter_and_broken_yaml_are_reported(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {"returns/a.md": "# Just a title\n", "returns/b.md": "---\ntitle: [unclosed\n---\nbody\n"},
    )
    assert found[0].startswith("docs/returns/a.md:1: has no front matter")
    assert found[1].startswith("docs/returns/b.md:3: front matter is not valid YAML")


def test_a_hand_written_category_index_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, {"returns/index.md": GOOD})
    assert found == ["docs/returns/index.md: category pages are generated; remove this file"]


def test_new_ids_skip_used_and_retired_ones(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {"returns/a.md": GOOD})
    (docs / "retired-ids.txt").write_text("12\n")
    assert load(docs).next_id() == 13


def writers_guide_rows() -> dict[str, tuple[bool, str]]:
    """Each field's row in guides/writers.md: (required, the example writers are shown)."""
    text = (ROOT / "guides" / "writers.md").read_text(encoding="utf-8")
    section = text.split("## Front matter fields\n", 1)[1].split("\n## ", 1)[0]
    row = r"^\| `([a-z_]+)` \| (yes|no) \| .+ \| `([^`]+)` \|$"
    return {n: (req == "yes", ex) for n, req, ex in re.findall(row, section, flags=re.MULTILINE)}


@pytest.mark.parametrize("spec", FIELDS, ids=lambda spec: spec.name)
def test_every_field_works_as_the_writers_guide_documents_it(tmp_path: Path, spec: Field) -> None:
    rows = writers_guide_rows()
    assert spec.name in rows, f"guides/writers.md does not document '{spec.name}'"
    required, example = rows[spec.name]
    assert required == spec.required, f"the guide says required={required} for '{spec.name}'"
    lines = textwrap.dedent(GOOD).splitlines(keepends=True)
    without = "".join(line for line in lines if not line.startswith(f"{spec.name}:"))
    if spec.required:  # an article without it fails, naming it at the closing ---
        closing = [n for n, line in enumerate(without.splitlines(), 1) if line == "---"][1]
        (found,) = problems(tmp_path / "without", {"returns/x.md": without})
        assert found.startswith(f"docs/returns/x.md:{closing}: front matter field '{spec.name}' ")
        assert "is missing" in found
    # With the guide's example, the article loads and the model carries the value.
    text = without.replace("---\n", f"---\n{spec.name}: {example}\n", 1)
    (article,) = load(make_docs(tmp_path / "with", {"returns/x.md": text})).articles
    value = yaml.safe_load(f"value: {example}")["value"]
    assert getattr(article, spec.name) == (tuple(value) if isinstance(value, list) else value)


@pytest.mark.parametrize(
    ("redirect", "expected"),
    [
        ("[../../etc/]", "'../../etc/' must be a path inside the site"),
        ("[/orders/old/]", "'/orders/old/' must be a path inside the site"),
        ("[returns/return-an-item/]", "'returns/return-an-item/' is already the address of"),
    ],
)
def test_redirect_from_stays_inside_the_site_and_takes_no_address(
    tmp_path: Path, redirect: str, expected: str
) -> None:
    text = textwrap.dedent(GOOD).replace(
        "status: published", f"status: published\nredirect_from: {redirect}"
    )
    other = textwrap.dedent(GOOD).replace("id: 7", "id: 8")
    found = problems(tmp_path, {"returns/return-an-item.md": other, "returns/moved.md": text})
    assert any(expected in p and p.startswith("docs/returns/moved.md") for p in found), found
