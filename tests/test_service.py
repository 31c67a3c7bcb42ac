"""The live state: limits per client, what /healthz says, and answering while busy."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings
from tests.conftest import ROOT


def test_a_flood_of_searches_is_answered_but_only_its_share_is_logged(settings: Settings) -> None:
    limited = Settings.from_env({}, **{**vars(settings), "log_searches_per_minute": 3})
    with TestClient(create_app(limited)) as client:
        for n in range(10):
            response = client.get("/api/search", params={"q": f"qzxv nonsense {n}"})
            assert response.status_code == 200
        service = client.app.state.service  # type: ignore[attr-defined]
        assert service.log.flush(timeout=10)
        assert client.get("/healthz").json()["searches_not_logged"] == 7
    assert limited.log_db is not None
    with sqlite3.connect(limited.log_db) as db:
        assert db.execute("SELECT COUNT(*) FROM searches").fetchone() == (3,)
    db.close()


def test_healthz_answers_while_a_search_is_stuck(client: TestClient) -> None:
    index = client.app.state.service.open_index()  # type: ignore[attr-defined]
    answers: dict[str, int] = {}

    def ask(name: str, path: str) -> None:
        answers[name] = client.get(path).status_code

    with index.searcher():  # a search that takes as long as this block (Whoosh is busy)
        stuck = threading.Thread(target=ask, args=("search", "/api/search?q=return+label"))
        stuck.start()
        time.sleep(0.2)
        health = threading.Thread(target=ask, args=("healthz", "/healthz"))
        page = threading.Thread(target=ask, args=("page", "/orders/track-your-order/"))
        health.start()
        page.start()
        health.join(timeout=10)
        page.join(timeout=10)
        assert answers == {"healthz": 200, "page": 200}  # the search is still waiting
    stuck.join(timeout=10)
    assert answers["search"] == 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def kb_serve(index_root: Path, tmp_path: Path, **env: str) -> Iterator[int]:
    """The real `kb serve` in its own process, as an operator starts it."""
    port = free_port()
    variables = {
        **os.environ,
        "KB_PORT": str(port),
        "KB_INDEX_DIR": str(index_root),
        "KB_LOG_URL": f"sqlite:///{tmp_path / 'log.sqlite3'}",
        "KB_SEMANTIC_WEIGHT": "0",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kb_search.cli", "serve"],
        env=variables,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        else:
            raise AssertionError("kb serve did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def click_statuses(port: int, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for address in forwarded_for:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = json.dumps({"search_id": "0" * 32, "article_id": 103})
        headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
        try:
            connection.request("POST", "/api/click", body=body, headers=headers)
            statuses.append(connection.getresponse().status)
        finally:
            connection.close()
    return statuses


def test_a_forwarded_address_is_trusted_only_from_a_trusted_proxy(
    index_root: Path, tmp_path: Path
) -> None:
    pretenders = [f"203.0.113.{n}" for n in range(4)]
    with kb_serve(index_root, tmp_path, KB_RATE_LIMIT="2") as port:
        # Anyone on this machine (or behind a local proxy) is one client, whatever it claims.
        assert click_statuses(port, pretenders) == [200, 200, 429, 429]
    with kb_serve(index_root, tmp_path, KB_RATE_LIMIT="2", KB_TRUSTED_PROXIES="127.0.0.1") as port:
        # Behind a proxy the operator named, each forwarded client has its own limit.
        assert click_statuses(port, pretenders) == [200, 200, 200, 200]


def test_healthz_says_what_is_wrong_without_naming_the_machines_files(
    settings: Settings, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the log's folder should be")
    broken = Settings.from_env({}, **{**vars(settings), "log_db": blocked / "log.sqlite3"})
    with TestClient(create_app(broken)) as client:
        client.get("/api/search", params={"q": "gift wrap"}, headers={"X-Forwarded-For": "1.2.3.4"})
        time.sleep(0.5)
        text = client.get("/healthz").text
        client.app.state.service.log.writer.close_seconds = 0.5  # type: ignore[attr-defined]
    health = json.loads(text)
    assert health["status"] == "degraded"
    assert any("query log is busy" in p and "KB_LOG_URL" in p for p in health["problems"])
    assert any("KB_TRUSTED_PROXIES does not name" in p for p in health["problems"])
    assert str(tmp_path) not in text and str(settings.index_dir) not in text


def test_a_flood_of_searches_past_the_queue_is_turned_away_and_pages_still_answer(
    settings: Settings,
) -> None:
    narrow = Settings.from_env({}, **{**vars(settings), "search_threads": 1, "search_queue": 1})
    with TestClient(create_app(narrow)) as client:
        index = client.app.state.service.open_index()  # type: ignore[attr-defined]
        answers: list[int] = []

        def ask() -> None:
            answers.append(client.get("/api/search", params={"q": "return label"}).status_code)

        with index.searcher():  # the one search thread is busy
            running, waiting = threading.Thread(target=ask), threading.Thread(target=ask)
            running.start()
            time.sleep(0.3)
            waiting.start()
            time.sleep(0.3)
            turned_away = client.get("/api/search", params={"q": "gift card"})
            assert turned_away.status_code == 503 and turned_away.headers["retry-after"] == "1"
            assert client.get("/orders/track-your-order/").status_code == 200
            assert client.get("/healthz").json()["status"] == "degraded"
        running.join(timeout=10)
        waiting.join(timeout=10)
        assert answers == [200, 200]  # the ones that waited were answered
