"""Two replicas, one help center: two `kb serve` processes on two ports writing one
PostgreSQL query log (Debian's server, started by tests/pg.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.pg import free_port

TOKEN = "replica-token"


def get(url: str, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=10
    ) as r:
        return json.load(r)


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(url + "/healthz")["ok"]:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "a replica did not start"
        time.sleep(0.2)


@pytest.fixture
def replicas(index_root: Path, tmp_path: Path, postgres_url: str) -> Iterator[list[str]]:
    kb = Path(sys.executable).parent / "kb"
    servers, urls = [], []
    for n in range(2):
        port = free_port()
        env = {**os.environ, "KB_INDEX_DIR": str(index_root), "KB_LOG_URL": postgres_url,
               "KB_ADMIN_TOKEN": TOKEN, "KB_PORT": str(port), "KB_RATE_LIMIT": "1000",
               "KB_SEMANTIC_WEIGHT": "0"}  # fmt: skip
        folder = tmp_path / f"replica-{n}"
        folder.mkdir()
        servers.append(subprocess.Popen([str(kb), "serve"], env=env, cwd=folder))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, server in zip(urls, servers, strict=True):
            up(url, server)
        yield urls
    finally:
        for server in servers:  # a clean stop: each writes what it still holds
            server.send_signal(signal.SIGINT)
        for server in servers:
            assert server.wait(timeout=30) == 0


def test_two_replicas_log_every_search_once_and_see_each_others_gaps(
    replicas: list[str], postgres_url: str
) -> None:
    ids: list[str] = []
    for n in range(40):
        url = replicas[n % 2]
        query = "zanzibarian quux" if n % 4 == 0 else f"return label {n}"
        found = get(f"{url}/api/search?q={urllib.parse.quote(query)}&session=visit-{n:012d}")
        ids.append(found["search_id"])
        if found["results"]:  # opened on the other replica, as a load balancer may send it
            click = {"search_id": found["search_id"], "article_id": found["results"][0]["id"],
                     "position": 1}  # fmt: skip
            assert post(replicas[(n + 1) % 2] + "/api/click", click) == {"ok": True}
    time.sleep(0.5)  # each replica writes every 50 ms
    health = get(replicas[0] + "/healthz")
    assert health["log"]["backend"] == "postgresql" and health["log"]["dropped"] == 0
    assert "127.0.0.1" not in json.dumps(health)  # the database's address is not the public's
    for url in replicas:  # gaps from both replicas' searches, on either
        gaps = get(url + "/api/gaps", {"Authorization": f"Bearer {TOKEN}"})
        zanzibarian = [g for g in gaps["unanswered"] if "zanzibarian" in g["key"]]
        assert sum(g["count"] for g in zanzibarian) == 10, gaps
    with psycopg.connect(postgres_url) as conn:
        logged = [row[0] for row in conn.execute("SELECT search_id FROM searches")]
        clicked = conn.execute("SELECT SUM(clicked_searches) FROM daily").fetchone()
    assert sorted(logged) == sorted(ids)  # each search once, whichever replica answered it
    assert clicked == (30,)  # every click counted for its search, across replicas
