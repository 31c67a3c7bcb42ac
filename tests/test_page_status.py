"""`status: published` must not show Material's page-status icon (hooks/page_status.py)."""

from __future__ import annotations

from pathlib import Path

from kb_search.articles import load
from tests.conftest import ROOT


def test_no_page_status_icon_in_the_built_navigation(built_site: Path) -> None:
    center = load(ROOT / "docs")
    article = center.by_path("returns/return-policy.md")
    assert article is not None and article.status == "published"  # the model still reads it
    pages = sorted(built_site.rglob("*.html"))
    with_icon = [str(p.relative_to(built_site)) for p in pages if "md-status" in p.read_text()]
    assert (built_site / article.url / "index.html") in pages
    assert not with_icon, f"Material's page-status icon is on: {with_icon[:5]}"
