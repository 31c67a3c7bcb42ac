"""`make bench`: speed figures measured side by side in one run, written to bench/results.json.

Each comparison is a ratio of two things measured on this machine in this run, so the figures
mean the same on a laptop and in CI. Targets are from the measurement issue; see the operators'
Performance guide.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from kb_search.articles import HelpCenter, load
from kb_search.evaluate import read_cases
from kb_search.index import LiveIndex, build
from kb_search.search import search

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [c.query for c in read_cases(ROOT / "tests" / "relevance" / "dev.csv")]
TARGETS = {
    "p99_ms_1000": 10.0,
    "p99_ms_10000": 30.0,
    "search_vs_healthz": 0.5,
    "logging_on_vs_off": 0.9,
    "hooks_vs_no_hooks": 1.15,
}
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "6"))
CLIENTS = 8  # concurrent connections from the load generator (wrk, one thread)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def corpus(center: HelpCenter, size: int) -> HelpCenter:
    """`size` articles made from the real ones: real text, new ids, titles and word mixes."""
    rng = random.Random(size)
    real = center.published
    vocabulary = " ".join(a.markdown for a in real).split()
    articles = []
    for n in range(size):
        base = real[n % len(real)]
        extra = " ".join(rng.choice(vocabulary) for _ in range(40))
        articles.append(
            dataclasses.replace(
                base,
                id=100_000 + n,
                title=f"{base.title} {n}",
                path=f"{base.category}/g{n}.md",
                markdown=base.markdown + f"\n\n## More about case {n}\n\n{extra}\n",
            )
        )
    return dataclasses.replace(center, articles=tuple(articles))


def in_process(center: HelpCenter, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build(center, Path(folder))
        build_seconds = time.perf_counter() - started
        live = LiveIndex(Path(folder))
        index = live.current()
        for query in QUERIES[:20]:  # warm up
            search(index, query)
        timings = []
        for query in QUERIES:
            started = time.perf_counter()
            search(index, query, cache_size=0)
            timings.append((time.perf_counter() - started) * 1000)
        live.close()
    return {
        "corpus": label,
        "articles": len(center.published),
        "build_s": round(build_seconds, 2),
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
    }


def semantic_figures(center: HelpCenter) -> dict[str, Any]:
    """Cold start and memory of the model, and hybrid latency at 1,000 articles."""
    import resource

    from kb_search.semantic import load_encoder

    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    encoder = load_encoder()
    if encoder is None:
        return {"available": False}
    encoder.encode_query("cold start")
    cold_start = time.perf_counter() - started
    memory_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    big = corpus(center, 1000)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build(big, Path(folder), encoder=encoder)
        build_seconds = time.perf_counter() - started
        live = LiveIndex(Path(folder))
        index = live.current()
        timings = []
        for query in QUERIES:
            encoder.encode_query.cache_clear()  # uncached: each query is encoded
            started = time.perf_counter()
            search(index, query, encoder=encoder, semantic_weight=0.7)
            timings.append((time.perf_counter() - started) * 1000)
        live.close()
    return {
        "available": True,
        "cold_start_s": round(cold_start, 2),
        "model_memory_mb": round(memory_mb),
        "build_1000_s": round(build_seconds, 1),
        "p50_ms_1000": round(percentile(timings, 0.5), 2),
        "p99_ms_1000": round(percentile(timings, 0.99), 2),
    }


def zipf_paths(count: int) -> list[str]:
    """Searches as customers make them: a few popular queries, a long tail (Zipf, s=1.1)."""
    from urllib.parse import quote

    rng = random.Random(7)
    weights = [1 / (rank**1.1) for rank in range(1, len(QUERIES) + 1)]
    return [f"/api/search?q={quote(q)}" for q in rng.choices(QUERIES, weights, k=count)]


def load_test(port: int, paths: list[str]) -> dict[str, float]:
    """wrk on 127.0.0.1: CLIENTS connections for LOAD_SECONDS over `paths`; req/s and p99."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
            "i = 0\nrequest = function()\n  i = i % #paths + 1\n"
            "  return wrk.format('GET', paths[i])\nend\n"
        )
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t",
                "1",
                "-c",
                str(CLIENTS),
                "-d",
                f"{LOAD_SECONDS:.0f}s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = result.stdout
    if "Non-2xx" in out:
        raise RuntimeError("the load test got errors:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {"rps": round(rps, 1), "p99_ms": round(float(p99.group(1)) * scale, 2)}


def serve(
    site: Path, index: Path, log_db: Path, log_on: bool
) -> tuple[subprocess.Popen[bytes], int]:
    port = 8700 + random.Random(str(log_db)).randint(0, 200)
    env = {
        **os.environ,
        "KB_SITE_DIR": str(site),
        "KB_INDEX_DIR": str(index),
        "KB_LOG_DB": str(log_db),
        "KB_PORT": str(port),
        "KB_LOG_SEARCHES": "on" if log_on else "off",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kb_search.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the service did not start")


def http_figures(center: HelpCenter, site: Path, work: Path) -> dict[str, Any]:
    build(center, work / "index")
    paths = zipf_paths(5000)
    figures: dict[str, Any] = {}
    for log_on in (True, False):
        process, port = serve(site, work / "index", work / f"log-{log_on}.sqlite3", log_on)
        try:
            if log_on:
                figures["healthz"] = load_test(port, ["/healthz"])
                figures["search"] = load_test(port, paths)
            else:
                figures["search_log_off"] = load_test(port, paths)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return figures


def mkdocs_seconds(config: Path, site: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)],
            check=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def hooks_ratio(work: Path) -> dict[str, float]:
    """The real site with our hooks against the same content and theme with the hooks off."""
    with_hooks = mkdocs_seconds(ROOT / "mkdocs.yml", work / "site-hooks")
    plain = work / "plain"
    shutil.copytree(ROOT / "docs", plain / "docs")
    shutil.copytree(ROOT / "overrides", plain / "overrides")
    config = (ROOT / "mkdocs.yml").read_text()
    config = (
        config.split("hooks:")[0] + "markdown_extensions:" + config.split("markdown_extensions:")[1]
    )
    # The theme still needs the store facts the validation hook would have put on the config.
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text(encoding="utf-8"))
    config = config.replace("strict: true", "strict: false").replace(
        "\nextra:\n", "\nextra:\n  store: " + json.dumps(store, ensure_ascii=False) + "\n"
    )
    (plain / "mkdocs.yml").write_text(config)
    without = mkdocs_seconds(plain / "mkdocs.yml", work / "site-plain")
    return {"with_hooks_s": round(with_hooks, 2), "without_hooks_s": round(without, 2)}


def main() -> None:
    center = load(ROOT / "docs")
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        print("in-process search ...", file=sys.stderr)
        latency = [
            in_process(center, "real"),
            in_process(corpus(center, 1000), "1,000"),
            in_process(corpus(center, 10_000), "10,000"),
        ]
        print("semantic ranker ...", file=sys.stderr)
        semantic = semantic_figures(center)
        print("mkdocs build with and without hooks ...", file=sys.stderr)
        builds = hooks_ratio(work)
        print("HTTP load on 127.0.0.1 ...", file=sys.stderr)
        load_figures = http_figures(center, work / "site-hooks", work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = {
        "p99_ms_1000": latency[1]["p99_ms"],
        "p99_ms_10000": latency[2]["p99_ms"],
        "search_vs_healthz": round(
            load_figures["search"]["rps"] / load_figures["healthz"]["rps"], 3
        ),
        "logging_on_vs_off": round(
            load_figures["search"]["rps"] / load_figures["search_log_off"]["rps"], 3
        ),
        "hooks_vs_no_hooks": round(builds["with_hooks_s"] / builds["without_hooks_s"], 3),
    }
    if semantic["available"]:
        ratios["hybrid_p99_ms_1000"] = semantic["p99_ms_1000"]
        ratios["semantic_cold_start_s"] = semantic["cold_start_s"]
    met = {
        name: (
            value <= TARGETS[name] if name.startswith(("p99", "hooks")) else value >= TARGETS[name]
        )
        for name, value in ratios.items()
    }
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "latency": latency,
        "http": load_figures,
        "builds": builds,
        "ratios": ratios,
        "targets": TARGETS,
        "met": met,
    }
    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2))
    print(f"{'corpus':>8} {'articles':>9} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for row in latency:
        print(
            f"{row['corpus']:>8} {row['articles']:>9} {row['build_s']:>8} {row['p50_ms']:>7} "
            f"{row['p95_ms']:>7} {row['p99_ms']:>7}"
        )
    print(
        f"\nHTTP ({CLIENTS} clients, {LOAD_SECONDS:.0f} s each): healthz "
        f"{load_figures['healthz']['rps']} req/s, search {load_figures['search']['rps']} req/s "
        f"(p99 {load_figures['search']['p99_ms']} ms), search with logging off "
        f"{load_figures['search_log_off']['rps']} req/s"
    )
    print(
        f"mkdocs build: {builds['with_hooks_s']} s with hooks, {builds['without_hooks_s']} s "
        "without\n"
    )
    for name, value in ratios.items():
        print(
            f"{name:<20} {value:>8}   target {TARGETS[name]:<6} {'met' if met[name] else 'NOT met'}"
        )
    print("\nwritten to bench/results.json")


if __name__ == "__main__":
    main()
