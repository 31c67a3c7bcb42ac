"""Past one process: the figures of workers and replicas, measured in this run on this machine.

- workers: search throughput of `kb serve --workers 2` over `--workers 1`, with the load
  generator (`wrk`) on the same cores: the ratio, and where the CPU time went (the service,
  the load generator, the rest of the machine, idle);
- events: events written a second through the service's writer (the realistic mix of
  bench/dashboard.py: searches, clicks, votes, contacts), PostgreSQL over SQLite;
- replicas: two `kb serve` processes on two ports writing one PostgreSQL log, each search sent
  to one and its click to the other, as a load balancer may: searches not logged exactly once
  and clicks not counted (target 0 and 0);
- releases: both replicas under load, once without and once while releases switch every few
  seconds: failed requests (target 0), the p99 during the switches over the p99 without, and
  replicas not on the last release when it is over (target 0).

PostgreSQL is Debian's server (`make postgres`), started in a temporary folder by tests/pg.py
with its default durability (fsync and synchronous commit on), as a real deployment runs it.
SQLite is the service's own settings (WAL, synchronous NORMAL).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg

from kb_search.articles import HelpCenter
from kb_search.querylog import QueryLog, open_store
from kb_search.sitebuild import build_site
from kb_search.versions import build, link_site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dashboard
import reliability

from tests.pg import running_server

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(root: int) -> float:
    """CPU seconds (user and system) of process `root` and every process below it."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    family, waiting = set(), [root]
    while waiting:  # the supervisor, its workers (and what they start)
        pid = waiting.pop()
        family.add(pid)
        waiting += [child for child, parent in parents.items() if parent == pid]
    return sum(times.get(pid, 0.0) for pid in family)


def _machine_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since it started."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle and waiting for the disk
    return (sum(values[:8]) - idle) / TICKS, idle / TICKS


def _children_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def workers_figures(
    release_dir: Path, work: Path, paths: list[str], seconds: float
) -> dict[str, Any]:
    """Search throughput with 1 and 2 workers, and how the machine's CPU time was spent."""
    figures: dict[str, Any] = {}
    for workers in (1, 2):
        log = work / f"log-workers-{workers}.sqlite3"
        options = ("--workers", str(workers))
        with reliability.serving_process(release_dir, log, *options) as (port, server):
            # As long again first: each worker's own result cache warms as customers' would.
            reliability.wrk(port, paths, seconds)
            service_before, wrk_before = _process_seconds(server.pid), _children_seconds()
            busy_before, idle_before = _machine_seconds()
            started = time.monotonic()
            load = reliability.wrk(port, paths, seconds)
            wall = time.monotonic() - started
            service = _process_seconds(server.pid) - service_before
            wrk_cpu = _children_seconds() - wrk_before  # wrk has exited: it is counted
            busy_after, idle_after = _machine_seconds()
            busy, idle = busy_after - busy_before, idle_after - idle_before
        cores = os.cpu_count() or 1
        figures[f"workers_{workers}"] = {
            "rps": load["rps"],
            "p99_ms": load["p99_ms"],
            "failed": load["failed"],
            # Shares of all the machine's cores over the run, in per cent.
            "cpu_percent": {
                "service": round(100 * service / (wall * cores)),
                "load_generator": round(100 * wrk_cpu / (wall * cores)),
                "rest": round(100 * max(0.0, busy - service - wrk_cpu) / (wall * cores)),
                "idle": round(100 * idle / (wall * cores)),
            },
        }
    figures["ratio"] = round(figures["workers_2"]["rps"] / figures["workers_1"]["rps"], 3)
    return figures


def events_figures(center: HelpCenter, work: Path, pg_url: str, searches: int) -> dict[str, Any]:
    """Events a second through the writer, into a new SQLite file and a new PostgreSQL db."""
    events = dashboard.realistic_events(center, searches, phrases=max(200, searches // 20))
    figures: dict[str, Any] = {"events": len(events)}
    for name, url in (("sqlite", f"sqlite:///{work / 'events.sqlite3'}"), ("postgresql", pg_url)):
        store = open_store(url)
        store.migrate()  # the tables made before, as the service has them when it runs
        log = QueryLog(store)
        started = time.perf_counter()
        for event in events:
            log.writer.record(event)
        log.close()  # waits for the writer to store every event
        elapsed = time.perf_counter() - started
        assert log.health()["dropped"] == 0, log.health()
        figures[name] = {"events_per_s": round(len(events) / elapsed), "seconds": round(elapsed, 2)}
    figures["ratio"] = round(
        figures["postgresql"]["events_per_s"] / figures["sqlite"]["events_per_s"], 3
    )
    return figures


def _request(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status}")
        return json.loads(response.read())
    finally:
        connection.close()


@contextmanager
def replicas(release_dir: Path, pg_url: str) -> Iterator[list[int]]:
    """Two `kb serve` processes on two ports, one PostgreSQL log; stopped cleanly after."""
    with ExitStack() as stack:
        yield [stack.enter_context(reliability.serving(release_dir, pg_url)) for _ in range(2)]


def _until_logged(pg_url: str, searches: int, seconds: float = 30) -> None:
    """Wait until the log holds `searches` searches (each replica writes every 50 ms; the
    figures count whatever is there after `seconds`)."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT COUNT(*) FROM searches").fetchone()
            if row is not None and row[0] >= searches:
                return
            time.sleep(0.1)


def replica_figures(
    ports: list[int], pg_url: str, queries: list[str], searches: int
) -> dict[str, Any]:
    """Searches on either replica, each result's click on the other; then counted in the log."""
    rng = random.Random(searches)
    queries = [*queries, "zanzibarian quux"]  # one that finds nothing, too
    sent: list[str] = []
    clicked: set[str] = set()
    lock = threading.Lock()

    def customer(n: int) -> None:
        for i in range(n, searches, 4):
            query = urllib.parse.quote(rng.choice(queries))
            found = _request(ports[i % 2], "GET", f"/api/search?q={query}&session={i:012x}")
            with lock:
                sent.append(found["search_id"])
            if found["results"]:
                click = {"search_id": found["search_id"], "position": 1,
                         "article_id": found["results"][0]["id"]}  # fmt: skip
                _request(ports[(i + 1) % 2], "POST", "/api/click", click)
                with lock:
                    clicked.add(found["search_id"])

    reliability.together([functools.partial(customer, n) for n in range(4)])
    _until_logged(pg_url, len(sent))
    with psycopg.connect(pg_url) as conn:
        rows: dict[str, int] = dict(
            conn.execute("SELECT search_id, COUNT(*) FROM searches GROUP BY search_id").fetchall()
        )
        counted = conn.execute("SELECT COALESCE(SUM(clicked_searches), 0) FROM daily").fetchone()
    not_once = sum(1 for search_id in sent if rows.get(search_id) != 1) + len(set(rows) - set(sent))
    return {
        "searches_sent": len(sent),
        "searches_logged": sum(rows.values()),
        "searches_not_logged_once": not_once,
        "clicked_searches_sent": len(clicked),
        "clicked_searches_counted": int(counted[0]) if counted else 0,
    }


def release_figures(
    ports: list[int], release: Callable[[], Path], seconds: float, every: float
) -> dict[str, Any]:
    """Both replicas under `wrk`, without releases and then while `release` makes one every
    `every` s."""
    figures: dict[str, Any] = {
        "without": reliability.under_load(ports, seconds, None, every),
        "during": reliability.under_load(ports, seconds, release, every),
    }
    last = release().name  # one more, and then: which do they serve?
    time.sleep(2.5)  # each replica looks at CURRENT once a second
    served = [_request(port, "GET", "/healthz")["index"] for port in ports]
    figures["replicas_not_on_the_last_release"] = sum(version != last for version in served)
    figures["p99_ratio"] = round(figures["during"]["p99_ms"] / figures["without"]["p99_ms"], 2)
    return figures


def run(
    center: HelpCenter,
    queries: list[str],
    paths: list[str],
    seconds: float,
    release_every: float,
    events: int,
    searches: int,
) -> dict[str, Any]:
    """Every figure above, and the ratios with targets (bench/run.py's)."""
    work = Path(tempfile.mkdtemp(prefix="kb-bench-replicas-"))
    try:
        site = work / "site"
        build_site(ROOT / "mkdocs.yml", ROOT / "docs", site, out=open(os.devnull, "w"))  # noqa: SIM115
        release_dir = work / "releases"  # the storage the replicas share

        def release() -> Path:  # as `kb index` does; old releases removed as soon as allowed
            return build(center, release_dir, site=link_site(site), keep_replaced_seconds=0)

        release()
        workers = workers_figures(release_dir, work, paths, seconds)
        with running_server(durable=True) as server:
            written = events_figures(center, work, server.create_database(), events)
            pg_url = server.create_database()
            with replicas(release_dir, pg_url) as ports:
                counted = replica_figures(ports, pg_url, queries, searches)
                releases = release_figures(
                    ports, release, max(seconds, 4 * release_every), release_every
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = {
        "workers_2_vs_1": workers["ratio"],
        "postgres_vs_sqlite_events": written["ratio"],
        "replica_searches_not_logged_once": counted["searches_not_logged_once"],
        "replica_clicks_not_counted": abs(
            counted["clicked_searches_sent"] - counted["clicked_searches_counted"]
        ),
        "failed_requests_releases_two_replicas": releases["during"]["failed"]
        + releases["without"]["failed"],
        "release_p99_during_vs_without": releases["p99_ratio"],
        "replicas_not_on_the_last_release": releases["replicas_not_on_the_last_release"],
    }
    return {"workers": workers, "events": written, "replicas": counted, "releases": releases,
            "ratios": ratios}  # fmt: skip


def report(figures: dict[str, Any]) -> None:
    workers, written = figures["workers"], figures["events"]
    counted, releases = figures["replicas"], figures["releases"]
    print("\nworkers (search, wrk on the same cores; CPU as shares of all cores):")
    for n in (1, 2):
        row = workers[f"workers_{n}"]
        cpu = ", ".join(f"{part} {share} %" for part, share in row["cpu_percent"].items())
        print(f"  --workers {n}: {row['rps']} req/s, p99 {row['p99_ms']} ms; CPU {cpu}")
    print(
        f"events written through the writer ({written['events']:,}): SQLite "
        f"{written['sqlite']['events_per_s']:,}/s, PostgreSQL "
        f"{written['postgresql']['events_per_s']:,}/s"
    )
    print(
        f"two replicas, one PostgreSQL log: {counted['searches_sent']} searches sent, "
        f"{counted['searches_logged']} logged, {counted['searches_not_logged_once']} not exactly "
        f"once; {counted['clicked_searches_sent']} clicked, {counted['clicked_searches_counted']}"
        " counted"
    )
    during, without = releases["during"], releases["without"]
    print(
        f"two replicas under load: without releases p99 {without['p99_ms']} ms, "
        f"{without['failed']} failed of {without['answered']}; with {during['releases']} "
        f"releases p99 {during['p99_ms']} ms, {during['failed']} failed of {during['answered']}; "
        f"{releases['replicas_not_on_the_last_release']} replicas not on the last release"
    )


if __name__ == "__main__":
    from run import QUERIES, zipf_paths

    from kb_search.articles import load

    result = run(load(ROOT / "docs"), QUERIES, zipf_paths(5000), 6, 3, 20_000, 2000)
    report(result)
    print(json.dumps(result["ratios"], indent=2))
