"""`/metrics` and the request log, through the real app."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings
from tests.conftest import live_uvicorn
from tests.pg import free_port

TOKEN = {"Authorization": "Bearer test-admin-token"}


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_need_the_token_or_a_listed_address(client: TestClient, settings: Settings) -> None:
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["ok"] is False
    assert client.get("/metrics", headers=TOKEN).status_code == 200
    listed = replace(settings, metrics_from=("127.0.0.0/8",))
    with live_uvicorn(create_app(listed)) as url:
        assert status_of(url + "/metrics") == 200  # from 127.0.0.1
    unlisted = replace(settings, metrics_from=("10.0.0.0/8",))
    with live_uvicorn(create_app(unlisted)) as url:
        assert status_of(url + "/metrics") == 401


def test_metrics_count_searches_requests_and_the_log(client: TestClient) -> None:
    client.get("/api/search", params={"q": "return label"})
    client.get("/api/search", params={"q": "zanzibarian quux"})
    client.get("/api/search", params={"q": "retur", "typing": "1"})  # still typing: not counted
    client.get("/no/such/page/")
    client.get("/admin/gap", params={"key": "x"}, follow_redirects=False)
    health = client.get("/healthz").json()
    answer = client.get("/metrics", headers=TOKEN)
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.text)
    assert found[("kb_searches_total", (("language", "en"),))] == 2
    assert found[("kb_zero_result_searches_total", (("language", "en"),))] == 1
    search = (("endpoint", "/api/search"), ("method", "GET"), ("status", "200"))
    assert found[("kb_requests_total", search)] == 3
    # Endpoints are routes, never what a client typed: the label set stays small.
    endpoints = {dict(labels)["endpoint"] for name, labels in found if name == "kb_requests_total"}
    assert endpoints == {"/api/search", "site", "/admin/gap", "/healthz"}
    assert found[("kb_request_duration_seconds_count", (("endpoint", "/api/search"),))] == 3
    release = next(labels for name, labels in found if name == "kb_release_info")
    assert dict(release)["index"] == health["index"]
    assert dict(release)["log_backend"] == "sqlite"
    assert ("kb_log_queued_events", ()) in found and ("kb_log_dropped_events", ()) in found


def test_the_request_log_never_holds_a_search(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(replace(settings, request_log=True))
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="kb_search.requests"):
        client.get("/api/search", params={"q": "my email is anna@example.com"})
    [line] = [r.getMessage() for r in caplog.records if r.name == "kb_search.requests"]
    entry = json.loads(line)
    assert entry["endpoint"] == "/api/search" and entry["status"] == 200 and entry["ms"] > 0
    assert "anna" not in line and "q=" not in line


def test_without_the_setting_no_request_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kb_search.requests"):
        client.get("/api/search", params={"q": "return label"})
    assert not [r for r in caplog.records if r.name == "kb_search.requests"]


def test_two_workers_answer_on_one_port_and_their_metrics_add_up(
    index_root: Path, tmp_path: Path
) -> None:
    """`kb serve --workers 2`: every search logged once, and /metrics counts all of them
    whichever worker a scrape reaches."""
    port, log = free_port(), tmp_path / "querylog.sqlite3"
    env = {**os.environ, "KB_INDEX_DIR": str(index_root), "KB_LOG_URL": f"sqlite:///{log}",
           "KB_ADMIN_TOKEN": "test-admin-token", "KB_PORT": str(port)}  # fmt: skip
    kb = Path(sys.executable).parent / "kb"
    server = subprocess.Popen([str(kb), "serve", "--workers", "2"], env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while status_of_or_none(url + "/healthz") != 200:
            assert time.monotonic() < deadline and server.poll() is None, "did not start"
            time.sleep(0.2)
        ids = []
        for n in range(20):
            query = urllib.parse.quote(f"return label {n}")
            with urllib.request.urlopen(f"{url}/api/search?q={query}", timeout=10) as answer:
                ids.append(json.load(answer)["search_id"])
        request = urllib.request.Request(url + "/metrics", headers=TOKEN)
        with urllib.request.urlopen(request, timeout=10) as answer:
            found = samples(answer.read().decode())
        assert found[("kb_searches_total", (("language", "en"),))] == 20
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    with sqlite3.connect(log) as conn:
        logged = sorted(row[0] for row in conn.execute("SELECT search_id FROM searches"))
    conn.close()
    assert logged == sorted(ids)  # each search once, whichever worker answered it


def status_of_or_none(url: str) -> int | None:
    try:
        return status_of(url)
    except OSError:
        return None
