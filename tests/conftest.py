"""Shared fixtures: a throwaway copy of the project, and real `mkdocs build --strict` runs."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings
from tests.pg import postgres_module_database, postgres_server, postgres_url  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("docs", "translations", "hooks", "overrides", "mkdocs.yml")


def copy_project(destination: Path) -> Path:
    """Copy what `mkdocs build` reads into `destination`, so a test can change it freely."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part)
        else:
            shutil.copy2(source, destination / part)
    return destination


@functools.cache
def kb_eval(relevance_set: str, docs: str = "docs", lang: str = "en") -> dict[str, Any]:
    """`kb eval --json --baseline all` on tests/relevance/<set>, once per test run."""
    from kb_search.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "eval",
                str(ROOT / "tests" / "relevance" / relevance_set),
                "--docs",
                str(ROOT / docs),
                "--json",
                "--baseline",
                "all",
                "--config",
                str(ROOT / "mkdocs.yml"),
                "--lang",
                lang,
            ]
        )
    assert code == 0
    return {"set": relevance_set, **json.loads(out.getvalue())}


def mkdocs_build(project: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `mkdocs build --strict` on a project folder."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(project / "mkdocs.yml"),
            "-d",
            str(site_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@contextlib.contextmanager
def live_uvicorn(app: Any) -> Iterator[str]:
    """The app on a real uvicorn at 127.0.0.1 on a free port, in a thread; yields its URL."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real help center in every language, built once per test run as `kb release` builds
    it (strictly, each language under its own path, precompressed)."""
    from kb_search.sitebuild import build_site

    site = tmp_path_factory.mktemp("built") / "site"
    return build_site(ROOT / "mkdocs.yml", ROOT / "docs", site, out=io.StringIO())


@pytest.fixture(scope="session")
def index_root(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Path:
    """A real release of the real articles (index and built site), built once per test run."""
    from kb_search.articles import load
    from kb_search.versions import build, link_site

    root = tmp_path_factory.mktemp("index")
    build(load(ROOT / "docs"), root, site=link_site(built_site))
    return root


@pytest.fixture
def settings(tmp_path: Path, index_root: Path) -> Settings:
    """Settings for one test: the real site and index, a fresh SQLite query log."""
    return Settings.from_env(
        {},
        docs_dir=ROOT / "docs",
        index_dir=index_root,
        log_db=tmp_path / "querylog.sqlite3",
        admin_token="test-admin-token",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app, started with its lifespan (index and log open) and stopped after."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
