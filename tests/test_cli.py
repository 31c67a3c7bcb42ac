"""The `kb` command as an operator or writer runs it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load
from kb_search.cli import main
from kb_search.config import Settings
from kb_search.querylog.sqlite import MIGRATIONS
from tests.conftest import copy_project


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kb_index_builds_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    code, out, err = run(
        capsys, "index", "--docs-dir", str(docs), "--index-dir", str(tmp_path / "ix")
    )
    published = len(load(docs).published)
    assert code == 0
    assert f"{published} articles" in out and f"indexed {published}/{published} articles" in err


def test_kb_index_reports_content_problems_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    center = load(docs)
    old, new = center.by_path("returns/return-policy.md"), center.by_path("returns/damaged-item.md")
    assert old is not None and new is not None
    article = docs / new.path
    article.write_text(article.read_text().replace(f"id: {new.id}", f"id: {old.id}"))
    code, _, err = run(
        capsys, "index", "--docs-dir", str(docs), "--index-dir", str(tmp_path / "ix")
    )
    assert code == 1
    assert f"'id' {old.id} is already used by docs/returns/return-policy.md" in err
    assert "Traceback" not in err


def test_kb_build_fails_on_a_broken_link_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path / "p")
    article = project / "docs" / "returns" / "return-policy.md"
    article.write_text(article.read_text() + "\nSee [the old page](no-such-page.md).\n")
    config = str(project / "mkdocs.yml")
    code, _, err = run(
        capsys, "build", "--config", config, "--docs-dir", str(project / "docs"),
        "--site-dir", str(tmp_path / "site"),
    )  # fmt: skip
    assert code == 2
    assert "returns/return-policy.md" in err and "no-such-page.md" in err
    assert "Traceback" not in err


def test_a_bad_setting_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_PORT", "eighty")
    code, _, err = run(capsys, "index")
    assert code == 2 and "KB_PORT='eighty' is not usable" in err


def test_kb_gaps_lists_unanswered_searches_redacted(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as client:
        for q in ("xqzvy blorft", "xqzvy blorfts", "blorft xqzvy", "qwzzk for jo@example.com"):
            assert client.get("/api/search", params={"q": q}).json()["total"] == 0
        client.get("/api/search", params={"q": "wheres my parcel"})
        for reason in ("outdated", "outdated", "unclear"):
            feedback = {"article_id": 103, "helpful": False, "reason": reason}
            assert client.post("/api/feedback", json=feedback).status_code == 200
    paths = ["--index-dir", str(settings.index_dir), "--log-db", str(settings.log_db)]

    code, out, _ = run(capsys, "gaps", *paths)
    assert code == 0 and "Searches that found nothing:" in out
    why = '(why: 2 "It is out of date", 1 "It is hard to understand")'
    assert f"article 103: 3 no, 0 yes {why}" in out
    line = next(line for line in out.splitlines() if "xqzvy" in line)
    number, count = line.split()[:2]
    assert (number, count) == ("1", "3")
    assert "qwzzk for <email>" in out and "jo@example" not in out

    code, out, _ = run(capsys, "gaps", "--json", *paths)
    report = json.loads(out)
    assert report["unanswered"][0]["count"] == 3
    assert any("parcel" in e for g in report["no_click"] for e in g["examples"])

    code, out, _ = run(capsys, "gaps", "--csv", *paths)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["kind"] == "unanswered" and rows[0]["count"] == "3"


def test_kb_gaps_without_a_log_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "gaps", "--log-db", str(tmp_path / "none.sqlite3"))
    assert code == 2 and "nothing has been searched" in err


def test_the_kb_console_script_is_installed() -> None:
    kb = Path(sys.executable).parent / "kb"
    result = subprocess.run([str(kb), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("index", "serve", "gaps"):
        assert command in result.stdout


def test_kb_draft_works_for_a_group_whose_examples_are_gone(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    log_db = tmp_path / "old.sqlite3"  # a log from before examples had their own times
    conn = sqlite3.connect(log_db)
    for statement in MIGRATIONS[0]:
        conn.execute(str(statement))
    seen = "2026-10-01T00:00:00.000000+00:00"
    conn.execute(
        "INSERT INTO gap_groups VALUES ('embroidery monogram', 4, ?, ?, '[]')", (seen, seen)
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    code, out, err = run(
        capsys, "draft", "1", "--category", "products", "--docs-dir", str(docs),
        "--index-dir", str(settings.index_dir), "--log-db", str(log_db),
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err and "past retention" in err
    draft = Path(out.strip())
    assert draft.parent == docs / "products" and "status: draft" in draft.read_text()


def test_kb_log_migrate_upgrades_an_old_log_and_keeps_its_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_db = tmp_path / "old.sqlite3"  # a log of the first schema, with a gap in it
    conn = sqlite3.connect(log_db)
    for statement in MIGRATIONS[0]:
        conn.execute(str(statement))
    seen = "2026-10-01T00:00:00.000000+00:00"
    conn.execute("INSERT INTO gap_groups VALUES ('embroidery', 4, ?, ?, '[]')", (seen, seen))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    code, out, err = run(capsys, "log", "migrate", "--log-url", f"sqlite:///{log_db}")
    assert code == 0, err
    assert out == f"query log sqlite:///{log_db}: upgraded from schema 1 to {len(MIGRATIONS)}\n"
    with sqlite3.connect(log_db) as conn:
        # Keys are re-made by today's normalising (stems): the group and its count survive.
        [(key, count)] = conn.execute("SELECT key, count FROM gap_groups").fetchall()
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    conn.close()
    assert key.startswith("embroider") and count == 4
