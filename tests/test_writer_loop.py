"""A writer goes from unanswered searches to a published article whose search test passes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load, split_front_matter
from kb_search.check import check
from kb_search.cli import main
from kb_search.config import Settings
from kb_search.querylog import open_log
from kb_search.versions import build
from tests.conftest import copy_project, mkdocs_build

GAP = ("monogram embroidery", "monogramm embroidery", "embroidery monogram")


def test_from_gap_to_published_article(
    tmp_path: Path, built_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path / "project")
    docs = project / "docs"
    settings = Settings.from_env(
        {},
        docs_dir=docs,
        index_dir=tmp_path / "index",
        log_db=tmp_path / "log.sqlite3",
    )
    build(load(docs), settings.index_dir)
    new_id = load(docs).next_id()
    with TestClient(create_app(settings)) as client:
        for query in GAP:
            assert client.get("/api/search", params={"q": query}).json()["total"] == 0
    paths = [
        "--docs-dir",
        str(docs),
        "--index-dir",
        str(settings.index_dir),
        "--log-db",
        str(settings.log_db),
    ]

    # 1. kb gaps shows the group, numbered
    assert main(["gaps", *paths[2:]]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^\s+1\s+3\s.*embroidery", table, flags=re.MULTILINE), table

    # 2. kb draft 1 writes a draft with the customers' words as its search tests
    assert main(["draft", "1", "--category", "products", *paths]) == 0
    draft = Path(capsys.readouterr().out.strip())
    assert draft.parent == docs / "products" and "monogram" in draft.name
    meta, body, _ = split_front_matter(draft.read_text())
    assert meta is not None
    assert meta["status"] == "draft" and sorted(meta["queries"]) == sorted(GAP)
    assert meta["id"] == new_id and "## " in body
    assert not [f for f in check(settings, search=False) if f.level == "error"]
    site = tmp_path / "site"
    assert mkdocs_build(project, site).returncode == 0
    assert not (site / "products" / draft.stem).exists()

    # 3. the writer fills it in and publishes it; the search test now proves it is found
    meta.update(
        title="Monogram and embroidery",
        status="published",
        summary="Whether we can embroider initials on towels and bedding.",
        reply="We do not embroider or monogram items at the moment.",
    )
    draft.write_text(
        "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"
        "We do not offer monogramming or embroidery yet.\n\n## What we offer\n\n"
        "1. Choose plain towels.\n2. Ask a local embroiderer.\n"
    )
    assert [str(f) for f in check(settings) if f.level == "error"] == []
    assert mkdocs_build(project, site).returncode == 0
    assert (site / "products" / draft.stem / "index.html").exists()
    assert (site / "a" / str(new_id) / "index.html").exists()

    # 4. kb gaps now names the new article as closest; past retention the group is gone
    build(load(docs), settings.index_dir)
    assert main(["gaps", "--json", *paths[2:]]) == 0
    (group,) = json.loads(capsys.readouterr().out)["unanswered"]
    assert group["count"] == 3
    assert group["closest_article"] == str(new_id)
    with open_log(settings) as query_log:
        query_log.purge(now=datetime.now(UTC) + timedelta(days=settings.log_retention_days + 1))
    assert main(["gaps", "--json", *paths[2:]]) == 0
    assert json.loads(capsys.readouterr().out)["unanswered"] == []


def test_a_draft_needs_a_known_group(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)):
        pass
    code = main(
        [
            "draft",
            "no such group",
            "--index-dir",
            str(settings.index_dir),
            "--log-db",
            str(settings.log_db),
        ]
    )
    assert code == 2 and "no gap group 'no such group'" in capsys.readouterr().err


def test_gaps_as_markdown_for_a_pull_request(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as client:
        client.get("/api/search", params={"q": "monogram | embroidery"})
    main(
        [
            "gaps",
            "--markdown",
            "--index-dir",
            str(settings.index_dir),
            "--log-db",
            str(settings.log_db),
        ]
    )
    out = capsys.readouterr().out
    assert out.startswith("## What customers did not find\n")
    assert "| 1 | 1 |" in out and "monogram \\| embroidery" in out


def test_customers_text_is_never_a_formula_or_a_link_in_the_reports(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = ["=HYPERLINK(qzxv)", "[qzxv](http://evil.example) ![x](http://evil.example/i.png)"]
    with TestClient(create_app(settings)) as client:
        for query in hostile:
            client.get("/api/search", params={"q": query})
    paths = ["--index-dir", str(settings.index_dir), "--log-db", str(settings.log_db)]
    main(["gaps", "--csv", *paths])
    cells = [row for line in capsys.readouterr().out.splitlines() for row in line.split(",")]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    main(["gaps", "--markdown", *paths])
    out = capsys.readouterr().out
    assert "qzxv" in out
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!\[", out), out  # no unescaped link or image
