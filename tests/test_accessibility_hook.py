"""hooks/accessibility.py names Material's markup in the built pages, or fails the build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from hooks.accessibility import name_material_markup


def test_built_pages_name_the_search_dialog_and_every_section_menu(built_site: Path) -> None:
    page = (built_site / "returns" / "return-policy" / "index.html").read_text(encoding="utf-8")
    assert 'role="dialog" aria-label="Search"' in page
    menus = re.findall(r'<nav class="md-nav" data-md-level="1" aria-labelledby="([^"]+)"', page)
    assert menus, "no section menus found"
    for menu in menus:
        title = re.search(
            rf'<label class="md-nav__title" [^>]*id="{menu}">(.*?)</label>', page, re.S
        )
        assert title is not None and re.sub(r"<[^>]+>|\s", "", title[1]), menu


def test_a_theme_that_changed_its_markup_fails_the_build_naming_the_page() -> None:
    with pytest.raises(PluginError, match=r"returns/x\.md: Material's markup changed"):
        name_material_markup("<html><body>no search here</body></html>", "returns/x.md", True)
