"""`kb check`: each problem a writer can make is found and named with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.check import check
from kb_search.config import Settings
from tests.conftest import ROOT, copy_project


def settings_for(docs: Path) -> Settings:
    return Settings.from_env({}, docs_dir=docs)


def test_the_help_center_passes_kb_check() -> None:
    findings = check(settings_for(ROOT / "docs"))
    assert [str(f) for f in findings if f.level == "error"] == []


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project") / "docs"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def findings_for(docs: Path, search: bool = False) -> list[str]:
    return [str(f) for f in check(settings_for(docs), search=search)]


def test_broken_links_anchors_and_images_name_file_and_line(docs: Path) -> None:
    article = docs / "returns" / "damaged-item.md"
    text = article.read_text()
    article.write_text(
        text + "\nSee [the policy](return-policy.md#no-such-part) and "
        "[old page](../orders/gone.md).\n\n![](img/x.svg)\n"
    )
    found = findings_for(docs)
    link_line = line_of(article, "no-such-part")
    image_line = line_of(article, "![](img/x.svg)")
    where = "docs/returns/damaged-item.md"
    assert (
        f"{where}:{link_line}: error: link 'return-policy.md#no-such-part': "
        "returns/return-policy.md has no heading with the anchor '#no-such-part'" in found
    )
    assert any(f.startswith(f"{where}:{link_line}: error: link '../orders/gone.md'") for f in found)
    assert any(
        f.startswith(f"{where}:{image_line}: error: image 'img/x.svg' has no alt text")
        for f in found
    )


def test_a_link_to_an_existing_anchor_is_fine(docs: Path) -> None:
    article = docs / "returns" / "damaged-item.md"
    article.write_text(
        article.read_text() + "\n[Track](../orders/track-your-order.md#find-your-tracking-link)\n"
    )
    assert findings_for(docs) == []


def test_stale_reviews_long_paragraphs_and_duplicate_titles(docs: Path) -> None:
    article = docs / "products" / "product-care.md"
    edit(article, "reviewed: 2026-11-", "reviewed: 2020-11-")
    article.write_text(article.read_text() + "\n" + "word " * 120 + "\n")
    copy = docs / "products" / "care-again.md"
    copy.write_text(article.read_text().replace("id: 244", "id: 299"))
    found = findings_for(docs)
    assert any("docs/products/product-care.md: warning: last reviewed" in f for f in found)
    assert any("warning: paragraph of 120 words; split it" in f for f in found)
    assert any(
        ("docs/products/product-care.md: error: title" in f and "care-again.md" in f)
        or "docs/products/care-again.md: error: title" in f
        for f in found
    )


def test_a_failing_search_test_says_what_ranked_above(docs: Path) -> None:
    article = docs / "orders" / "track-your-order.md"
    edit(article, "  - tracking number", "  - refund")
    found = [f for f in findings_for(docs, search=True) if "search test" in f]
    line = line_of(article, "  - refund")
    assert len(found) == 1
    assert found[0].startswith(
        f"docs/orders/track-your-order.md:{line}: error: search test: "
        "'refund' should find article 103 "
        "'Track your order' in the top 3;"
    )
    assert "ranked above it: " in found[0] and "Request a refund" in found[0]


def test_model_errors_come_through_as_findings_with_their_line(docs: Path) -> None:
    article = docs / "orders" / "order-history.md"
    edit(article, "status: published", "status: live")
    assert findings_for(docs) == [
        f"docs/orders/order-history.md:{line_of(article, 'status:')}: error: front matter "
        "field 'status' must be one of published, draft, not 'live'"
    ]


def test_published_articles_may_not_keep_todo_or_link_to_drafts(docs: Path) -> None:
    edit(docs / "orders" / "cancellation-fee.md", "status: published", "status: draft")
    history = docs / "orders" / "order-history.md"
    history.write_text(history.read_text() + "\nTODO: add the screenshot\n")
    found = findings_for(docs)
    sibling = docs / "orders" / "cancel-an-order.md"
    line = line_of(sibling, "cancellation-fee.md")
    assert (
        f"docs/orders/cancel-an-order.md:{line}: error: link 'cancellation-fee.md' points "
        "to a draft; publish it or remove the link" in found
    )
    todo = line_of(history, "TODO")
    assert (
        f"docs/orders/order-history.md:{todo}: error: a published article still says TODO" in found
    )


def test_kb_check_is_quiet_about_drafts_todo(docs: Path) -> None:
    draft = docs / "orders" / "new-thing.md"
    draft.write_text(
        "---\nid: 900\ntitle: New\nsummary: New.\nqueries: [x]\nreply: r\n"
        "reviewed: 2026-11-20\nstatus: draft\n---\nTODO: write it\n"
    )
    assert findings_for(docs) == []
