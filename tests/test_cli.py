"""The `kb` command as an operator or writer runs it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.cli import main
from kb_search.config import Settings
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
    assert code == 0
    assert "45 articles" in out and "indexed 45/45 articles" in err


def test_kb_index_reports_content_problems_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    article = docs / "returns" / "damaged-item.md"
    article.write_text(article.read_text().replace("id: 144", "id: 141"))
    code, _, err = run(
        capsys, "index", "--docs-dir", str(docs), "--index-dir", str(tmp_path / "ix")
    )
    assert code == 1
    assert "docs/returns/return-policy.md: front matter field 'id' 141 is already used" in err or (
        "docs/returns/return-policy.md" in err and "'id' 141 is already used" in err
    )
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
    paths = ["--index-dir", str(settings.index_dir), "--log-db", str(settings.log_db)]

    code, out, _ = run(capsys, "gaps", *paths)
    assert code == 0 and "Searches that found nothing:" in out
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
