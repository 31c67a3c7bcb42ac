"""`kb draft --lang sv`: a Swedish gap becomes a Swedish draft in the Swedish folder, under an id
no language has used."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from kb_search.articles import copy_help_center, load, split_front_matter
from kb_search.cli import main
from kb_search.config import Settings
from kb_search.drafts import draft_article
from kb_search.querylog import QueryLog, SearchEvent
from kb_search.querylog.sqlite import SQLiteStore
from tests.conftest import ROOT


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A copy of the real docs and their translations, for drafts to be written into."""
    return copy_help_center(ROOT / "docs", tmp_path / "docs")


@pytest.fixture
def log_db(tmp_path: Path) -> Path:
    """A real log: Swedish customers searched for gift wrapping twice (one group in Swedish,
    two forms in English), an English one for embroidery once."""
    path = tmp_path / "querylog.sqlite3"
    with QueryLog(SQLiteStore(path)) as query_log:
        for query, language in (
            ("presentinslagning", "sv"),
            ("presentinslagningar", "sv"),
            ("monogram embroidery", "en"),
        ):
            event = SearchEvent(uuid.uuid4().hex, query, 0, None, None, None, language=language)
            query_log.record_search(event)
    return path


def draft(
    capsys: pytest.CaptureFixture[str], docs: Path, settings: Settings, log_db: Path, *args: str
) -> tuple[int, str, str]:
    code = main(
        ["draft", *args, "--docs-dir", str(docs), "--index-dir", str(settings.index_dir),
         "--log-db", str(log_db)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def test_a_swedish_gap_becomes_a_swedish_draft_in_the_swedish_folder(
    capsys: pytest.CaptureFixture[str], docs: Path, settings: Settings, log_db: Path
) -> None:
    code, out, err = draft(capsys, docs, settings, log_db, "1", "--lang", "sv", "--category",
                           "orders")  # fmt: skip
    assert code == 0, err
    path = Path(out.strip())
    swedish = load(docs).in_language("sv")
    assert path.parent == swedish.docs_dir / "orders"
    text = path.read_text(encoding="utf-8")
    meta, body, _ = split_front_matter(text)
    assert meta is not None
    assert meta["status"] == "draft"
    assert sorted(meta["queries"]) == ["presentinslagning", "presentinslagningar"]
    assert "## Så gör du" in body and "## Om det inte fungerar" in body
    assert "[kontakta oss](../contact/contact-us.md)" in body
    assert meta["reply"].startswith("TODO: två eller tre meningar")
    assert "the customer" not in text  # nothing of the English outline


def test_the_draft_id_is_free_in_every_language(
    capsys: pytest.CaptureFixture[str], docs: Path, settings: Settings, log_db: Path
) -> None:
    center = load(docs)
    used = {a.id for edition in center.editions.values() for a in edition.articles}
    code, out, err = draft(capsys, docs, settings, log_db, "presentinslagning", "--lang", "sv",
                           "--category", "orders")  # fmt: skip
    assert code == 0, err
    (written,) = [a for a in load(docs).in_language("sv").articles if a.id not in used]
    assert written.id not in center.retired_ids
    assert Path(out.strip()).name.startswith("presentinslagning")
    assert load(docs).by_id(written.id) is None  # no English article has it either


def test_an_english_gap_is_not_found_among_the_swedish_ones(
    capsys: pytest.CaptureFixture[str], docs: Path, settings: Settings, log_db: Path
) -> None:
    code, _, err = draft(capsys, docs, settings, log_db, "monogram embroidery", "--lang", "sv")
    assert code == 2
    assert "no gap group 'monogram embroidery': run `kb gaps --lang sv`" in err


def test_an_unknown_language_names_the_languages(
    capsys: pytest.CaptureFixture[str], docs: Path, settings: Settings, log_db: Path
) -> None:
    code, _, err = draft(capsys, docs, settings, log_db, "1", "--lang", "fi")
    assert code == 2 and "--lang fi: the help center's languages are en, sv" in err


def test_an_english_draft_keeps_its_english_outline(docs: Path) -> None:
    center = load(docs)
    path = draft_article(center, "orders", ["monogram embroidery"], dt.date(2026, 12, 1))
    text = path.read_text(encoding="utf-8")
    assert path.parent == docs / "orders"
    assert "## If that does not work" in text and "Så gör du" not in text
