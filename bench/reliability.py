"""The trustworthy core's figures: a gap report on a big log, log rows kept under floods and
locks, and releases switched under load. Each is counted or timed in this run, on this machine.

- gaps: `QueryLog.gaps()`, `GET /api/gaps` and `kb gaps` on a log of N distinct unanswered forms
  (target: <= 1 s each at 100,000);
- log: one hot zero-result search as fast as `wrk` can send it, and the same while another
  process holds the database's write lock for a while: rows stored / searches answered
  (target: every row, 0 lost);
- releases: pages and searches under load while `kb index` switches releases every few seconds
  (target: 0 failed requests).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kb_search.articles import load
from kb_search.querylog import QueryLog, SearchEvent
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.versions import build, link_site

ROOT = Path(__file__).resolve().parent.parent
# What customers ask for while releases switch: pages, an article's permalink, searches.
PAGES = ["/", "/orders/track-your-order/", "/a/103/", "/api/search?q=return+label",
         "/api/search?q=wheres+my+parcel", "/search/", "/returns/"]  # fmt: skip
_SYLLABLES = "ka ri to mo lu ne sa vi po da fe gu hi jo ke la mi no pu re si ta ve wo".split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def fill_gap_log(path: Path, forms: int) -> None:
    """`forms` distinct unanswered searches (some of them typos of others), written as the
    service writes them: through the batching writer into a real SQLite file."""
    rng = random.Random(forms)
    vocabulary = [_word(rng) for _ in range(max(200, forms // 10))]
    now = datetime.now(UTC)
    with QueryLog(SQLiteStore(path)) as query_log:
        seen: set[str] = set()
        while len(seen) < forms:
            words = rng.sample(vocabulary, rng.randint(1, 4))
            if rng.random() < 0.2:  # a typo: one letter doubled
                w = rng.randrange(len(words))
                i = rng.randrange(len(words[w]))
                words[w] = words[w][: i + 1] + words[w][i:]
            text = " ".join(words)
            if text in seen:
                continue
            seen.add(text)
            at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            query_log.record_search(SearchEvent(uuid.uuid4().hex, text, 0, None, None, None, at=at))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(release_dir: Path, log: Path | str, **env: str) -> Iterator[int]:
    with serving_process(release_dir, log, **env) as (port, _):
        yield port


@contextmanager
def serving_process(
    release_dir: Path, log: Path | str, *options: str, **env: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`kb serve` (with `options`, such as --workers 2) on a free port, until the block ends;
    its log a SQLite file or a `KB_LOG_URL`."""
    port = free_port()
    variables = {
        **os.environ,
        "KB_INDEX_DIR": str(release_dir),
        "KB_LOG_URL": f"sqlite:///{log}" if isinstance(log, Path) else log,
        "KB_PORT": str(port),
        "KB_SEMANTIC_WEIGHT": "0",
        "KB_ADMIN_TOKEN": "bench",
        "KB_RATE_LIMIT": str(10**9),
        "KB_LOG_SEARCHES_PER_MINUTE": str(10**9),  # measure the log, not the per-client limit
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kb_search.cli", "serve", *options],
        env=variables,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if _get(port, "/healthz")[0] == 200:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the service did not start")
        yield port, process
    finally:
        process.terminate()  # a clean stop: the writer stores what waits
        process.wait(timeout=60)


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


@contextmanager
def wrk_script(paths: list[str]) -> Iterator[str]:
    """A wrk Lua script that requests `paths` in turn; yields its file name."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
            "i = 0\nrequest = function()\n  i = i % #paths + 1\n"
            "  return wrk.format('GET', paths[i])\nend\n"
        )
    try:
        yield script.name
    finally:
        os.unlink(script.name)


def wrk(port: int, paths: list[str], seconds: float, connections: int = 8) -> dict[str, Any]:
    """`wrk` against 127.0.0.1 over `paths`: requests answered and those that failed,
    requests a second and the p99 latency."""
    with wrk_script(paths) as script:
        out = subprocess.run(
            ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--latency", "-s", script, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    answered = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    if answered is None or rps is None or p99 is None:
        raise RuntimeError("unexpected wrk output:\n" + out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {
        "answered": int(answered.group(1)),
        "failed": (int(non_2xx.group(1)) if non_2xx else 0) + socket_errors,
        "rps": round(float(rps.group(1)), 1),
        "p99_ms": round(float(p99.group(1)) * scale, 2),
    }


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        found: int = conn.execute(sql).fetchone()[0]
    conn.close()
    return found


def gaps_figures(work: Path, release_dir: Path, forms: int) -> dict[str, Any]:
    log_db = work / f"gaps-{forms}.sqlite3"
    started = time.perf_counter()
    fill_gap_log(log_db, forms)
    fill_s = time.perf_counter() - started
    with QueryLog(SQLiteStore(log_db)) as query_log:
        started = time.perf_counter()
        report = query_log.gaps()
        report_s = time.perf_counter() - started
    with serving(release_dir, log_db) as port:
        _get(port, "/api/gaps?limit=50", {"Authorization": "Bearer bench"})  # warm
        started = time.perf_counter()
        status, _ = _get(port, "/api/gaps?limit=50", {"Authorization": "Bearer bench"})
        api_s = time.perf_counter() - started
    assert status == 200, status
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kb_search.cli", "gaps", "--json", "--index-dir",
         str(release_dir), "--log-url", f"sqlite:///{log_db}"],
        check=True, capture_output=True,
    )  # fmt: skip
    cli_s = time.perf_counter() - started
    return {
        "forms": forms,
        "fill_s": round(fill_s, 1),
        "groups_reported": len(report.unanswered),
        "gaps_report_s": round(report_s, 3),
        "api_gaps_s": round(api_s, 3),
        "kb_gaps_s": round(cli_s, 3),
    }


def _hold_lock(db: Path, seconds: float) -> None:
    """Another process's writer: holds the log's write lock for `seconds`."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def log_figures(
    work: Path, release_dir: Path, seconds: float, lock_seconds: float
) -> dict[str, Any]:
    """Every answered search must be a row: a hot query flood, then a flood during a lock.

    wrk counts the answers it read before its time was up; a few more in flight then are
    answered and logged too, so rows >= answered means nothing was lost.
    """
    figures: dict[str, Any] = {}
    hot = ["/api/search?q=do+you+sell+qzxv+wrapping"]  # one zero-result search, over and over
    for case, lock in (("hot_query", 0.0), ("during_lock", lock_seconds)):
        log_db = work / f"log-{case}.sqlite3"
        duration = max(seconds, lock)
        with serving(release_dir, log_db) as port:
            _get(port, hot[0])  # creates the file
            time.sleep(0.5)
            blocker = threading.Thread(target=_hold_lock, args=(log_db, lock))
            if lock:
                blocker.start()
            load = wrk(port, hot, duration)
            if lock:
                blocker.join()
            health: dict[str, Any] = {}
            for _ in range(100):  # the writer catches up after the lock
                status, body = _get(port, "/healthz")
                health = json.loads(body)["log"] if status == 200 else {}
                if health.get("queued") == 0:
                    break
                time.sleep(0.2)
        rows = _count(log_db, "SELECT COUNT(*) FROM searches")
        answered = load["answered"] - load["failed"] + 1  # and the one that made the file
        figures[case] = {
            "lock_s": lock,
            "searches_answered": answered,
            "per_second": round(answered / duration),
            "rows": rows,
            "lost": max(0, answered - rows),
            "dropped_said_by_service": health.get("dropped"),
        }
    return figures


def kill_figures(work: Path, release_dir: Path, seconds: float) -> dict[str, Any]:
    """`kill -9` during a flood: what was answered but not yet written is lost; the writer
    writes every FLUSH_SECONDS, so that is a fraction of a second's searches."""
    log_db = work / "log-kill.sqlite3"
    hot = ["/api/search?q=do+you+sell+qzxv+wrapping"]
    with serving_process(release_dir, log_db) as (port, process):
        _get(port, hot[0])
        killer = threading.Timer(seconds / 2, process.kill)
        killer.start()
        load = wrk(port, hot, seconds)
        killer.join()
    rows = _count(log_db, "SELECT COUNT(*) FROM searches")
    answered = load["answered"] + 1
    rate = answered / (seconds / 2)
    return {
        "searches_answered": answered,
        "rows": rows,
        "lost": max(0, answered - rows),
        "lost_ms_of_searches": round(1000 * max(0, answered - rows) / rate),
    }


def release_figures(work: Path, seconds: float, every: float) -> dict[str, Any]:
    """Pages and searches under load while releases are switched every few seconds."""
    center = load(ROOT / "docs")
    release_dir = work / "releases"
    site = work / "site-for-releases"
    from kb_search.sitebuild import build_site

    build_site(ROOT / "mkdocs.yml", ROOT / "docs", site, out=open(os.devnull, "w"))  # noqa: SIM115
    build(center, release_dir, site=link_site(site))

    def release() -> Path:
        return build(center, release_dir, site=link_site(site), keep_replaced_seconds=0)

    with serving(release_dir, work / "log-releases.sqlite3") as port:
        return under_load([port], seconds, release, every)


def together(work: list[Callable[[], Any]]) -> list[Any]:
    """Each function in its own thread, at once; their results (the first error raised)."""
    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(lambda call: call(), work))


def under_load(
    ports: list[int], seconds: float, release: Callable[[], object] | None, every: float
) -> dict[str, Any]:
    """`wrk` over PAGES on each port at once for `seconds`, calling `release` every `every` s
    if given: requests answered and failed, the worst p99, releases made."""
    releases = 0
    stop = threading.Event()

    def release_regularly() -> None:
        nonlocal releases
        while release is not None and not stop.wait(every):
            release()
            releases += 1

    releaser = threading.Thread(target=release_regularly)
    releaser.start()
    try:
        loads = together([functools.partial(wrk, p, PAGES, seconds) for p in ports])
    finally:
        stop.set()
        releaser.join()
    return {
        "releases": releases,
        "answered": sum(load["answered"] for load in loads),
        "failed": sum(load["failed"] for load in loads),
        "p99_ms": max(load["p99_ms"] for load in loads),
    }


def run(
    forms: int = 100_000, seconds: float = 6, lock_seconds: float = 20, release_every: float = 3
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="kb-bench-core-"))
    try:
        center = load(ROOT / "docs")
        release_dir = work / "index"
        build(center, release_dir)
        print(f"gap report at {forms:,} distinct forms ...", file=sys.stderr)
        gaps = gaps_figures(work, release_dir, forms)
        print("log rows under a hot query and a database lock ...", file=sys.stderr)
        logged = log_figures(work, release_dir, seconds, lock_seconds)
        logged["kill_9"] = kill_figures(work, release_dir, seconds)
        print("releases under load ...", file=sys.stderr)
        releases = release_figures(work, max(seconds, 5 * release_every), release_every)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = {
        "gaps_report_s": gaps["gaps_report_s"],
        "api_gaps_s": gaps["api_gaps_s"],
        "kb_gaps_s": gaps["kb_gaps_s"],
        "rows_lost_hot_query": logged["hot_query"]["lost"],
        "rows_lost_during_lock": logged["during_lock"]["lost"],
        "ms_of_searches_lost_to_kill_9": logged["kill_9"]["lost_ms_of_searches"],
        "failed_requests_during_releases": releases["failed"],
    }
    return {"gaps": gaps, "log": logged, "releases": releases, "ratios": ratios}


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
