"""The guides promise what the code does: every front matter field, documented once."""

from __future__ import annotations

import re

from kb_search.articles import FIELDS
from kb_search.config import SETTINGS
from tests.conftest import ROOT


def documented_rows(guide: str, heading: str) -> list[str]:
    text = (ROOT / "guides" / guide).read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_writers_guide_lists_every_front_matter_field_and_no_other() -> None:
    assert documented_rows("writers.md", "Front matter fields") == [f.name for f in FIELDS]


def test_writers_guide_marks_required_fields_as_the_model_does() -> None:
    text = (ROOT / "guides" / "writers.md").read_text(encoding="utf-8")
    for field in FIELDS:
        row = re.search(rf"^\| `{field.name}` \| (yes|no) \|", text, flags=re.MULTILINE)
        assert row is not None and (row.group(1) == "yes") == field.required, field.name


def test_operators_guide_lists_every_setting_with_its_default() -> None:
    text = (ROOT / "guides" / "operators.md").read_text(encoding="utf-8")
    section = text.split("## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(KB_[A-Z_]+)` \| `([^`]*)` \|", section, flags=re.MULTILINE)
    assert rows == [(s.env, s.default) for s in SETTINGS]
