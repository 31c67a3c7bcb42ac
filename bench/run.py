"""`make bench`: speed figures measured side by side in one run, written to bench/results.json.

Each comparison is a ratio of two things measured on this machine in this run, so the figures
mean the same on a laptop and in CI. Targets are from the measurement issue; see the operators'
Performance guide.

In-process search is timed on the real help center and on two generated corpora at each of
two sizes: the worst case (copies of the real articles, so every query matches most of them)
and a realistic one (the real articles among generated ones on 300 topics, with a vocabulary of
48,000 English words).

Options (each also an environment variable, for `make bench`):

    --sizes SMALL,LARGE   BENCH_SIZES          generated corpus sizes (1000,10000)
    --queries N           BENCH_QUERIES        development queries timed per corpus (all 401)
    --load-seconds S      BENCH_LOAD_SECONDS   length of each HTTP load test (6)
    --build-runs N        BENCH_BUILD_RUNS     mkdocs builds timed for the hooks ratio (3)
    --gap-forms N         BENCH_GAP_FORMS      distinct unanswered forms in the gap report (100000)
    --lock-seconds S      BENCH_LOCK_SECONDS   how long another process locks the log (20)
    --learn-visits N,...  BENCH_LEARN_VISITS   the learning curve's checkpoints (0,250,500,1000)
    --lighthouse-runs N   BENCH_LIGHTHOUSE_RUNS  Lighthouse runs a page; the median counts (3)
    --dashboard-searches N  BENCH_DASHBOARD_SEARCHES  logged searches under /admin/ (1000000)
    --write-searches N    BENCH_WRITE_SEARCHES  searches (and their clicks, votes) written to
                                               SQLite and to PostgreSQL (20000)
    --replica-searches N  BENCH_REPLICA_SEARCHES  searches sent to two replicas and counted (2000)
    --skip PART,...       BENCH_SKIP           leave out parts: semantic, http, builds, reliability,
                                               learning, lighthouse, axe, dashboard, replicas
    -o, --output PATH     BENCH_OUTPUT         where results go (bench/results.json)

A quick run on a tiny corpus, as tests/test_bench.py makes it (about five minutes, most of it
the learning curves, the replicas and the browsers):

    python bench/run.py --sizes 10,100 --queries 40 --load-seconds 1 --build-runs 1 \
        --dashboard-searches 2000 --write-searches 300 --replica-searches 60 -o r.json

The targets are set for the default sizes; at other sizes they are only a smoke check. A target
whose figure is missing (a part skipped or unavailable) is reported as not measured; a figure
without a target is reported too, and then the run exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import random
import re
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kb_search.articles import Article, HelpCenter, load
from kb_search.config import Settings
from kb_search.evaluate import read_cases
from kb_search.search import search
from kb_search.versions import LiveIndex, build, link_site

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/pg.py's server
import accessibility
import dashboard
import lighthouse
import reliability
import replicas
from learning import learning_curve
from semantic import semantic_figures as semantic_costs

from tests.pg import PostgresMissing

ROOT = Path(__file__).resolve().parent.parent
RELEVANCE = ROOT / "tests" / "relevance"
# The learning curve's sets: the development set, and the second shop nobody tuned on.
LEARNING_SETS = {
    "dev": (RELEVANCE / "dev.csv", ROOT / "docs"),
    "second shop": (RELEVANCE / "second-shop" / "queries.csv", RELEVANCE / "second-shop" / "docs"),
}
SEMANTIC_WEIGHT = Settings.from_env({}).semantic_weight  # the default the service runs with
QUERIES = [c.query for c in read_cases(ROOT / "tests" / "relevance" / "dev.csv")]
RELIABILITY_FIGURES = (
    "gaps_report_s",
    "api_gaps_s",
    "kb_gaps_s",
    "rows_lost_hot_query",
    "rows_lost_during_lock",
    "ms_of_searches_lost_to_kill_9",
    "failed_requests_during_releases",
)
# Two workers on two cores that wrk shares: wrk takes a share, so not the whole of 2.
WORKERS_RATIO = 1.3
# Each release is built on the replicas' machine here (an index and a site's hard links).
RELEASE_P99_RATIO = 3.0
CLIENTS = 8  # concurrent connections from the load generator (wrk, one thread)
PARTS = (
    "semantic",
    "http",
    "builds",
    "reliability",
    "learning",
    "lighthouse",
    "axe",
    "dashboard",
    "replicas",
)  # --skip these
STARTED = time.perf_counter()
LOAD_AT_START = round(os.getloadavg()[0], 2)


@dataclasses.dataclass(frozen=True)
class Target:
    limit: float
    at_most: bool  # True: the figure must be at most `limit`; False: at least
    what: str

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


def targets(small: int, large: int, forms: int, searches: int) -> dict[str, Target]:
    """Every figure the bench reports as a ratio or a bound, with its target.

    A figure without a target is a bug in this file: the run says so and exits non-zero.
    """
    return {
        f"p99_ms_{small}": Target(10.0, True, f"lexical p99 ms, worst-case corpus of {small:,}"),
        f"p99_ms_{large}": Target(30.0, True, f"lexical p99 ms, worst-case corpus of {large:,}"),
        f"realistic_p99_ms_{large}": Target(
            50.0, True, f"lexical p99 ms, realistic corpus of {large:,}"
        ),
        "nonsense_vs_ordinary_p50": Target(
            5.0, True, "p50 of 12 random long words / p50 of real queries, the help center"
        ),
        f"hybrid_p99_ms_{small}": Target(15.0, True, f"hybrid p99 ms, {small:,} articles"),
        "semantic_cold_start_s": Target(
            1.5, True, "a new process: import, model load and first query, seconds"
        ),
        "semantic_peak_rss_mb": Target(250, True, "that process's peak memory with the model, MB"),
        "semantic_added_mb": Target(
            200, True, "what the [semantic] extra and its model add to an install, MB"
        ),
        "search_vs_healthz": Target(0.5, False, "HTTP throughput, search / healthz"),
        "logging_on_vs_off": Target(0.9, False, "search throughput, logging on / off"),
        "hooks_vs_no_hooks": Target(1.15, True, "mkdocs build time, our hooks / none"),
        "gaps_report_s": Target(1.0, True, f"gap report, seconds, {forms:,} distinct forms"),
        "api_gaps_s": Target(1.0, True, f"GET /api/gaps, seconds, {forms:,} distinct forms"),
        "kb_gaps_s": Target(1.0, True, f"`kb gaps`, seconds with start-up, {forms:,} forms"),
        "rows_lost_hot_query": Target(0, True, "log rows lost, one hot search flooded"),
        "rows_lost_during_lock": Target(0, True, "log rows lost, flooded while the log is locked"),
        "ms_of_searches_lost_to_kill_9": Target(
            100, True, "searches lost to kill -9 during a flood, in ms of traffic"
        ),
        "failed_requests_during_releases": Target(
            0, True, "failed requests under load while releases switch every few seconds"
        ),
        **lighthouse_targets(),
        "axe_violations": Target(
            0, True, "axe-core serious or critical findings, 9 pages on a phone and a desktop"
        ),
        "dashboard_ms": Target(
            dashboard.TARGET_MS, True, f"GET /admin/ (30 days), median ms, {searches:,} searches"
        ),
        "dashboard_90_days_ms": Target(
            dashboard.TARGET_MS, True, f"GET /admin/?period=90, median ms, {searches:,} searches"
        ),
        **replica_targets(),
    }


def replica_targets() -> dict[str, Target]:
    """Workers and replicas (bench/replicas.py)."""
    return {
        "workers_2_vs_1": Target(
            WORKERS_RATIO, False, "search throughput, --workers 2 / 1, wrk on the same 2 cores"
        ),
        "postgres_vs_sqlite_events": Target(
            0.5, False, "events written a second through the writer, PostgreSQL / SQLite"
        ),
        "replica_searches_not_logged_once": Target(
            0, True, "searches answered by two replicas not in the shared log exactly once"
        ),
        "replica_clicks_not_counted": Target(
            0, True, "searches clicked on the other replica, not counted as clicked"
        ),
        "failed_requests_releases_two_replicas": Target(
            0, True, "failed requests, two replicas under load, releases every few seconds"
        ),
        "release_p99_during_vs_without": Target(
            RELEASE_P99_RATIO, True, "p99 of two replicas while releases switch / without"
        ),
        "replicas_not_on_the_last_release": Target(
            0, True, "replicas serving another release than the last, 2.5 s after it"
        ),
    }


def lighthouse_targets() -> dict[str, Target]:
    """Lighthouse, mobile preset (bench/lighthouse.py), on the home page and an article."""
    goals: dict[str, Target] = {}
    for page in lighthouse.PAGES:
        for category, least in LIGHTHOUSE_SCORES.items():
            name = f"lighthouse_{page}_{category.replace('-', '_')}"
            goals[name] = Target(least, False, f"Lighthouse {category} score, {page} page")
        goals[f"lighthouse_{page}_lcp_s"] = Target(
            2.5, True, f"largest contentful paint, {page} page, simulated phone, s"
        )
    goals["lighthouse_article_transfer_kb"] = Target(
        150, True, "what an article page transfers, first visit, KiB"
    )
    return goals


LIGHTHOUSE_SCORES = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}


@dataclasses.dataclass(frozen=True)
class Options:
    small: int
    large: int
    load_seconds: float
    queries: int
    build_runs: int
    gap_forms: int
    lock_seconds: float
    learn_visits: tuple[int, ...]
    lighthouse_runs: int
    dashboard_searches: int
    write_searches: int
    replica_searches: int
    skip: frozenset[str]
    output: Path


def options(argv: Sequence[str] | None = None) -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default=env("BENCH_SIZES", "1000,10000"))
    parser.add_argument("--load-seconds", type=float, default=env("BENCH_LOAD_SECONDS", "6"))
    parser.add_argument("--queries", type=int, default=env("BENCH_QUERIES", str(len(QUERIES))))
    parser.add_argument("--build-runs", type=int, default=env("BENCH_BUILD_RUNS", "3"))
    parser.add_argument("--gap-forms", type=int, default=env("BENCH_GAP_FORMS", "100000"))
    parser.add_argument("--lock-seconds", type=float, default=env("BENCH_LOCK_SECONDS", "20"))
    parser.add_argument("--learn-visits", default=env("BENCH_LEARN_VISITS", "0,250,500,1000"))
    parser.add_argument(
        "--lighthouse-runs", type=int, default=env("BENCH_LIGHTHOUSE_RUNS", str(lighthouse.RUNS))
    )
    parser.add_argument(
        "--dashboard-searches",
        type=int,
        default=env("BENCH_DASHBOARD_SEARCHES", str(dashboard.SEARCHES)),
    )
    parser.add_argument("--write-searches", type=int, default=env("BENCH_WRITE_SEARCHES", "20000"))
    parser.add_argument(
        "--replica-searches", type=int, default=env("BENCH_REPLICA_SEARCHES", "2000")
    )
    parser.add_argument("--skip", default=env("BENCH_SKIP", ""))
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=env("BENCH_OUTPUT", str(ROOT / "bench" / "results.json")),
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.replace(" ", "").split(",") if s]
    if len(sizes) != 2 or not 0 < sizes[0] < sizes[1]:
        parser.error("--sizes takes two sizes, small then large: 1000,10000")
    skip = frozenset(p for p in args.skip.replace(" ", "").split(",") if p)
    if skip - set(PARTS):
        parser.error(f"--skip takes some of {', '.join(PARTS)}, not {', '.join(skip - set(PARTS))}")
    if {"http", "reliability", "replicas"} - skip and shutil.which("wrk") is None:
        parser.error(
            "wrk (the load generator) is missing: `apt-get install wrk`, or --skip"
            " http,reliability,replicas"
        )
    return Options(
        sizes[0],
        sizes[1],
        args.load_seconds,
        min(len(QUERIES), max(1, args.queries)),
        max(1, args.build_runs),
        max(100, args.gap_forms),
        max(1.0, args.lock_seconds),
        tuple(int(v) for v in args.learn_visits.replace(" ", "").split(",") if v),
        max(1, args.lighthouse_runs),
        max(100, args.dashboard_searches),
        max(10, args.write_searches),
        max(10, args.replica_searches),
        skip,
        args.output,
    )


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def corpus(center: HelpCenter, size: int) -> HelpCenter:
    """The worst case: `size` articles copied from the real ones, with new ids, titles and a
    paragraph of their own words. Every real word is in at least 1 in 45 articles, so nearly
    every query matches most of the corpus."""
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


class Prose:
    """Seeded English-like text for a realistic corpus.

    Words come from wordfreq's 50,000 most common English words (about 48,000 once those with
    digits or apostrophes are left out, against the help center's 1,100), drawn with Zipf-like
    frequencies (Zipf-Mandelbrot, s=1, by the words' real frequency rank). Each of TOPICS topics
    has TOPIC_WORDS words of its own from outside the 800 most common words, themselves used
    with Zipf-like frequencies; a text mixes its topic's words into the common ones.
    """

    TOPICS = 300
    TOPIC_WORDS = 30
    TOPIC_SEED = 20261123

    def __init__(self, seed: int) -> None:
        from wordfreq import top_n_list

        self.rng = random.Random(seed)
        self.words = [w for w in top_n_list("en", 50_000) if re.fullmatch(r"[a-z]{2,}", w)]
        self.weights = list(
            itertools.accumulate(1 / (rank + 2.7) for rank in range(len(self.words)))
        )
        topic_rng = random.Random(self.TOPIC_SEED)
        self.topics = [
            topic_rng.sample(self.words[800:], self.TOPIC_WORDS) for _ in range(self.TOPICS)
        ]
        self.topic_weights = list(
            itertools.accumulate(1 / (r + 1) for r in range(self.TOPIC_WORDS))
        )
        # Some topics are asked about far more than others.
        self.topic_popularity = list(
            itertools.accumulate(1 / (r + 1) ** 0.7 for r in range(self.TOPICS))
        )

    def topic(self) -> int:
        return self.rng.choices(range(self.TOPICS), cum_weights=self.topic_popularity)[0]

    def word(self, topics: tuple[int, int], topical: float) -> str:
        if self.rng.random() < topical:
            own = topics[0] if self.rng.random() < 0.8 else topics[1]
            return self.rng.choices(self.topics[own], cum_weights=self.topic_weights)[0]
        return self.rng.choices(self.words, cum_weights=self.weights)[0]

    def words_of(self, count: int, topics: tuple[int, int], topical: float) -> list[str]:
        return [self.word(topics, topical) for _ in range(count)]

    def sentence(self, count: int, topics: tuple[int, int], topical: float = 0.3) -> str:
        text = " ".join(self.words_of(count, topics, topical))
        return text[:1].upper() + text[1:] + "."

    def paragraph(self, count: int, topics: tuple[int, int]) -> str:
        sentences = []
        while count > 0:
            length = min(count, self.rng.randint(8, 20))
            sentences.append(self.sentence(length, topics))
            count -= length
        return " ".join(sentences)

    def query(self, topics: tuple[int, int]) -> str:
        """A customer's search: 2 to 11 words (5 typical), now and then with a typo."""
        count = self.rng.choice([2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8, 9, 11])
        words = self.words_of(count, topics, 0.5)
        if self.rng.random() < 0.15:
            n = self.rng.randrange(count)
            if len(words[n]) > 3:
                cut = self.rng.randrange(1, len(words[n]))
                words[n] = words[n][:cut] + words[n][cut + 1 :]  # a letter left out
        return " ".join(words)

    def article(self, base: Article, n: int, categories: Sequence[str]) -> Article:
        """An article of realistic lengths (those of the real help center): a 2 to 8 word
        title, an 11 to 26 word summary, a 42 to 77 word reply, 4 to 6 customer queries, 2 to 3
        tags, 4 to 9 synonyms, and a body of 196 to 326 words in 2 to 5 sections under their own
        headings, on one topic with a second one mixed in."""
        rng = self.rng
        primary = self.topic()
        topics = (primary, self.topic())
        title = self.sentence(rng.choice([2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8]), topics, 0.7)[:-1]
        sections = rng.randint(2, 5)
        body = rng.randint(196, 326)
        intro = rng.randint(25, 45)
        parts = [self.paragraph(intro, topics)]
        for _ in range(sections):
            heading = self.sentence(rng.randint(2, 5), topics, 0.6)[:-1]
            parts.append(f"## {heading}")
            parts.append(self.paragraph((body - intro) // sections, topics))
        return dataclasses.replace(
            base,
            id=500_000 + n,
            title=title,
            summary=self.sentence(rng.randint(11, 26), topics, 0.4),
            category=categories[primary % len(categories)],
            path=f"{categories[primary % len(categories)]}/topic-{primary}-{n}.md",
            markdown="\n\n".join(parts) + "\n",
            reply=self.paragraph(rng.randint(42, 77), topics),
            tags=tuple(self.words_of(rng.randint(2, 3), topics, 1.0)),
            synonyms=tuple(self.words_of(rng.randint(4, 9), topics, 1.0)),
            queries=tuple(self.query(topics) for _ in range(rng.randint(4, 6))),
            redirect_from=(),
        )


def realistic_corpus(center: HelpCenter, size: int) -> HelpCenter:
    """`size` articles: the real ones and generated ones on a few hundred topics (seeded)."""
    prose = Prose(seed=size)
    real = center.published[:size]
    categories = sorted(center.categories)
    generated = [prose.article(real[n % len(real)], n, categories) for n in range(size - len(real))]
    return dataclasses.replace(center, articles=(*real, *generated))


def dev_queries(count: int) -> list[str]:
    """`count` of the development queries, spread over all of them (they come by article)."""
    step = len(QUERIES) / count
    return [QUERIES[int(n * step)] for n in range(count)]


def generated_queries(count: int) -> list[str]:
    """Searches about the generated topics, for the realistic corpus (as well as the
    development queries, about the real articles)."""
    prose = Prose(seed=7)
    return [prose.query((prose.topic(), prose.topic())) for _ in range(count)]


def nonsense_queries(count: int) -> list[str]:
    """Expensive nonsense: twelve random words of 12 to 16 letters, each one to correct."""
    rng = random.Random(12)
    return [
        " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(12, 16))) for _ in range(12)
        )
        for _ in range(count)
    ]


def in_process(
    center: HelpCenter,
    label: str,
    queries: list[str],
    nonsense: list[str],
    generated: Sequence[str] = (),
) -> dict[str, Any]:
    """Build the index, then time each query once, uncached, after a warm-up: the development
    `queries` and the `generated` ones together, and the `nonsense` apart."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build(center, Path(folder))
        build_seconds = time.perf_counter() - started
        live = LiveIndex(Path(folder))
        index = live.current()

        def timings(texts: Sequence[str]) -> list[float]:
            result = []
            for text in texts:
                started = time.perf_counter()
                search(index, text, cache_size=0)
                result.append((time.perf_counter() - started) * 1000)
            return result

        timings(queries[:20])  # warm up
        dev = timings(queries)
        other = timings(generated)
        expensive = timings(nonsense)
        live.close()
    ordinary = dev + other
    p50 = percentile(ordinary, 0.5)
    nonsense_p50 = percentile(expensive, 0.5)
    return {
        "corpus": label,
        "articles": len(center.published),
        "queries": len(ordinary),
        "build_s": round(build_seconds, 2),
        "p50_ms": round(p50, 2),
        "p95_ms": round(percentile(ordinary, 0.95), 2),
        "p99_ms": round(percentile(ordinary, 0.99), 2),
        "dev_p99_ms": round(percentile(dev, 0.99), 2),
        "generated_p99_ms": round(percentile(other, 0.99), 2) if other else None,
        "nonsense_p50_ms": round(nonsense_p50, 2),
        "nonsense_vs_ordinary_p50": round(nonsense_p50 / p50, 2),
    }


def semantic_figures(center: HelpCenter, size: int, queries: list[str]) -> dict[str, Any]:
    """Cold start and memory of the model, and hybrid latency at `size` articles."""
    from kb_search.semantic import load_encoder

    encoder = load_encoder()
    if encoder is None:
        return {"available": False}
    costs = semantic_costs()  # cold start, memory and install size, each in a new process
    big = corpus(center, size)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build(big, Path(folder), encoder=encoder)
        build_seconds = time.perf_counter() - started
        live = LiveIndex(Path(folder))
        index = live.current()
        timings = []
        for query in queries:
            encoder.encode_query.cache_clear()  # uncached: each query is encoded
            started = time.perf_counter()
            search(index, query, encoder=encoder, semantic_weight=SEMANTIC_WEIGHT)
            timings.append((time.perf_counter() - started) * 1000)
        live.close()
    return {
        "available": True,
        "articles": size,
        "costs": costs,
        "build_s": round(build_seconds, 1),
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
    }


def zipf_paths(count: int) -> list[str]:
    """Searches as customers make them: a few popular queries, a long tail (Zipf, s=1.1)."""
    from urllib.parse import quote

    rng = random.Random(7)
    weights = [1 / (rank**1.1) for rank in range(1, len(QUERIES) + 1)]
    return [f"/api/search?q={quote(q)}" for q in rng.choices(QUERIES, weights, k=count)]


def load_test(port: int, paths: list[str], seconds: float) -> dict[str, float]:
    """wrk on 127.0.0.1: CLIENTS connections for `seconds` over `paths`; req/s and p99."""
    found = reliability.wrk(port, paths, seconds, CLIENTS)
    if found["failed"]:
        raise RuntimeError(f"the load test got {found['failed']} failed requests")
    return {"rps": found["rps"], "p99_ms": found["p99_ms"]}


def http_figures(center: HelpCenter, site: Path, work: Path, seconds: float) -> dict[str, Any]:
    build(center, work / "releases", site=link_site(site))  # a release, as `kb release` makes
    paths = zipf_paths(5000)
    figures: dict[str, Any] = {}
    for log_on in (True, False):
        log = work / f"log-{log_on}.sqlite3"
        with reliability.serving(
            work / "releases", log, KB_LOG_SEARCHES="on" if log_on else "off"
        ) as port:
            if log_on:
                figures["healthz"] = load_test(port, ["/healthz"], seconds)
                figures["search"] = load_test(port, paths, seconds)
            else:
                figures["search_log_off"] = load_test(port, paths, seconds)
    return figures


def mkdocs_seconds(config: Path, site: Path, runs: int) -> float:
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


PLAIN_BUILD_HOOKS = ("assets.py", "strings.py")


def hooks_ratio(work: Path, runs: int) -> dict[str, float]:
    """The real site with our hooks against the same content and theme with the hooks off."""
    with_hooks = mkdocs_seconds(ROOT / "mkdocs.yml", work / "site-hooks", runs)
    plain = work / "plain"
    shutil.copytree(ROOT / "docs", plain / "docs")
    shutil.copytree(ROOT / "overrides", plain / "overrides")
    # The templates' kb_asset filter and their words come from hooks: those two stay.
    (plain / "hooks").mkdir()
    for kept in PLAIN_BUILD_HOOKS:
        shutil.copy(ROOT / "hooks" / kept, plain / "hooks")
    config = (ROOT / "mkdocs.yml").read_text()
    config = (
        config.split("hooks:")[0]
        + "hooks:\n"
        + "".join(f"  - hooks/{kept}\n" for kept in PLAIN_BUILD_HOOKS)
        + "\nmarkdown_extensions:"
        + config.split("markdown_extensions:")[1]
    )
    # The theme still needs the facts the validation and store hooks would have put on the
    # config: the store's, and its special opening days (none, here).
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text(encoding="utf-8"))
    extra = {"store": store, "special_days": {"calendar": {}, "soon": [], "soon_days": 0}}
    config = config.replace("strict: true", "strict: false").replace(
        "\nextra:\n",
        "\nextra:\n"
        + "".join(f"  {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in extra.items()),
    )
    (plain / "mkdocs.yml").write_text(config)
    without = mkdocs_seconds(plain / "mkdocs.yml", work / "site-plain", runs)
    return {"with_hooks_s": round(with_hooks, 2), "without_hooks_s": round(without, 2)}


def ratios(
    opts: Options,
    latency: list[dict[str, Any]],
    semantic: dict[str, Any],
    builds: dict[str, float],
    load_figures: dict[str, Any],
) -> dict[str, float]:
    """The figures with targets, from whichever parts ran."""
    rows = {(row["corpus"], row["articles"]): row for row in latency}
    figures: dict[str, float] = {
        f"p99_ms_{opts.small}": rows["worst case", opts.small]["p99_ms"],
        f"p99_ms_{opts.large}": rows["worst case", opts.large]["p99_ms"],
        f"realistic_p99_ms_{opts.large}": rows["realistic", opts.large]["p99_ms"],
        "nonsense_vs_ordinary_p50": latency[0]["nonsense_vs_ordinary_p50"],
    }
    if semantic.get("available"):
        figures[f"hybrid_p99_ms_{opts.small}"] = semantic["p99_ms"]
        for name in ("semantic_cold_start_s", "semantic_peak_rss_mb", "semantic_added_mb"):
            figures[name] = semantic["costs"][name]
    if load_figures:
        figures["search_vs_healthz"] = round(
            load_figures["search"]["rps"] / load_figures["healthz"]["rps"], 3
        )
        figures["logging_on_vs_off"] = round(
            load_figures["search"]["rps"] / load_figures["search_log_off"]["rps"], 3
        )
    if builds:
        figures["hooks_vs_no_hooks"] = round(builds["with_hooks_s"] / builds["without_hooks_s"], 3)
    return figures


def report(results: dict[str, Any], goals: dict[str, Target], output: Path) -> list[str]:
    """Print the tables; return the names of figures without a target (a bug here)."""
    print(
        f"{'corpus':>11} {'articles':>9} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'nonsense p50 ms':>16} {'ratio':>6}"
    )
    for row in results["latency"]:
        print(
            f"{row['corpus']:>11} {row['articles']:>9} {row['build_s']:>8} {row['p50_ms']:>7} "
            f"{row['p95_ms']:>7} {row['p99_ms']:>7} {row['nonsense_p50_ms']:>16} "
            f"{row['nonsense_vs_ordinary_p50']:>6}"
        )
    for row in results["latency"]:
        if row["generated_p99_ms"] is not None:
            print(
                f"{row['corpus']} {row['articles']}: p99 {row['dev_p99_ms']} ms for the "
                f"development queries, {row['generated_p99_ms']} ms for the generated ones"
            )
    semantic = results["semantic"]
    if semantic.get("available"):
        print(
            f"\nhybrid at {semantic['articles']:,} articles: p50 {semantic['p50_ms']} ms, p99 "
            f"{semantic['p99_ms']} ms (build {semantic['build_s']} s); "
            + ", ".join(f"{name} {value}" for name, value in semantic["costs"].items())
        )
    load_figures = results["http"]
    if load_figures:
        print(
            f"\nHTTP ({CLIENTS} clients, {results['load_seconds']:.0f} s each): healthz "
            f"{load_figures['healthz']['rps']} req/s, search {load_figures['search']['rps']} "
            f"req/s (p99 {load_figures['search']['p99_ms']} ms), search with logging off "
            f"{load_figures['search_log_off']['rps']} req/s"
        )
    builds = results["builds"]
    if builds:
        print(
            f"mkdocs build: {builds['with_hooks_s']} s with hooks, "
            f"{builds['without_hooks_s']} s without"
        )
    core = results["reliability"]
    if core:
        gaps, log, rel = core["gaps"], core["log"], core["releases"]
        print(
            f"\ngap report at {gaps['forms']:,} forms: {gaps['gaps_report_s']} s in process, "
            f"{gaps['api_gaps_s']} s GET /api/gaps, {gaps['kb_gaps_s']} s kb gaps"
        )
        for case, row in log.items():
            print(
                f"log, {case}: {row['searches_answered']} searches answered, {row['rows']} rows, "
                f"{row['lost']} lost"
            )
        print(f"releases under load: {rel['releases']} switches, {rel['failed']} failed requests")
    audits = results["lighthouse"]
    if audits:
        print("\nLighthouse, mobile preset:")
        for page in lighthouse.PAGES:
            row = audits[page]
            print(
                f"  {page}: {row['scores']}, LCP {row['lcp_s']} s, TBT {row['tbt_ms']} ms, "
                f"{row['transfer_kb']} KiB in {row['requests']} requests; CPU slowdown "
                f"{row['cpu_slowdown']}x (benchmark index {row['benchmark_index']}); "
                f"failing: {', '.join(row['failed']) or 'none'}"
            )
    if results["dashboard"]:
        dashboard.report(results["dashboard"])
    if results["replicas"]:
        replicas.report(results["replicas"])
    if results["axe"]:
        print("\naxe-core (serious, critical, landmarks):")
        for viewport, pages in results["axe"].items():
            found = {page: ids for page, ids in pages.items() if ids}
            print(
                f"  {viewport}: {len(pages)} pages, " + (str(found) if found else "nothing found")
            )
    print()
    figures = results["ratios"]
    for name, goal in goals.items():
        bound = f"{'<=' if goal.at_most else '>='} {goal.limit:g}"
        if name in figures:
            verdict = "met" if goal.met(figures[name]) else "NOT met"
            print(f"{name:<32} {figures[name]:>8}   target {bound:<8} {verdict}")
        else:
            reason = results["not_measured"].get(name, "not measured")
            print(f"{name:<32} {'-':>8}   target {bound:<8} not measured ({reason})")
    missing = [name for name in figures if name not in goals]
    for name in missing:
        print(f"{name:<32} {figures[name]:>8}   NO TARGET (add one to targets() in bench/run.py)")
    for name, curve in results["learning"].items():
        print(f"\nlearning curve, {name} (recall@3 / MRR; seen half, then unseen half):")
        for point in curve:
            cells = [
                f"{half} {ranker} {point[half][ranker]['recall_at_3']:.3f} / "
                f"{point[half][ranker]['mrr']:.3f}"
                for half in ("seen", "unseen")
                for ranker in point[half]
            ]
            print(f"  after {point['visits']:>5} visits: " + "; ".join(cells))
    load = results["machine"]["load_average"]
    print(f"\nmachine load (1 min) {load[0]} at start, {load[1]} at end; written to {output}")
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    opts = options(argv)
    goals = targets(opts.small, opts.large, opts.gap_forms, opts.dashboard_searches)
    center = load(ROOT / "docs")
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    skipped = {part: "skipped with --skip" for part in opts.skip}
    semantic: dict[str, Any] = {}
    builds: dict[str, float] = {}
    load_figures: dict[str, Any] = {}
    core: dict[str, Any] = {}
    curves: dict[str, list[dict[str, Any]]] = {}
    audits: dict[str, Any] = {}
    axe: dict[str, dict[str, list[str]]] = {}
    board: dict[str, Any] = {}
    past_one: dict[str, Any] = {}
    try:
        progress("in-process search, the real help center ...")
        queries = dev_queries(opts.queries)
        nonsense = nonsense_queries(min(30, max(5, opts.queries // 4)))
        latency = [in_process(center, "real", queries, nonsense)]
        for size in (opts.small, opts.large):
            progress(f"in-process search, worst-case corpus of {size:,} ...")
            latency.append(in_process(corpus(center, size), "worst case", queries, nonsense))
        generated = generated_queries(opts.queries)
        for size in (opts.small, opts.large):
            progress(f"in-process search, realistic corpus of {size:,} ...")
            realistic = realistic_corpus(center, size)
            latency.append(in_process(realistic, "realistic", queries, nonsense, generated))
        if "semantic" not in opts.skip:
            progress("semantic ranker ...")
            semantic = semantic_figures(center, opts.small, queries)
            if not semantic["available"]:
                skipped["semantic"] = "the semantic extra or its model is not available"
        if "builds" not in opts.skip:
            progress("mkdocs build with and without hooks ...")
            builds = hooks_ratio(work, opts.build_runs)
        elif "http" not in opts.skip:
            mkdocs_seconds(ROOT / "mkdocs.yml", work / "site-hooks", 1)  # the site to serve
        if "http" not in opts.skip:
            progress("HTTP load on 127.0.0.1 ...")
            load_figures = http_figures(center, work / "site-hooks", work, opts.load_seconds)
        if "reliability" not in opts.skip:
            progress("reliability: the gap report, log rows under floods, releases ...")
            core = reliability.run(
                opts.gap_forms,
                opts.load_seconds,
                opts.lock_seconds,
                release_every=min(3.0, opts.load_seconds),
            )
        if "learning" not in opts.skip:
            for name, (queries_csv, docs) in LEARNING_SETS.items():
                progress(f"learning curve, {name} ...")
                curves[name] = learning_curve(queries_csv, docs, opts.learn_visits)
        if "dashboard" not in opts.skip:
            progress(f"the dashboard at {opts.dashboard_searches:,} logged searches ...")
            board = dashboard.run(opts.dashboard_searches, progress=progress)
        if "replicas" not in opts.skip:
            progress("workers, PostgreSQL and two replicas under releases ...")
            try:
                past_one = replicas.run(
                    center, QUERIES, zipf_paths(5000), opts.load_seconds,
                    min(3.0, opts.load_seconds), opts.write_searches, opts.replica_searches,
                )  # fmt: skip
            except PostgresMissing as no_server:
                skipped["replicas"] = str(no_server)
        unavailable = {"lighthouse": lighthouse.available(), "axe": accessibility.available()}
        skipped |= {part: why for part, why in unavailable.items() if why and part not in skipped}
        browser_parts = set(unavailable) - set(skipped)
        if browser_parts:
            with lighthouse.served_release(work) as base_url:
                if "lighthouse" in browser_parts:
                    runs = opts.lighthouse_runs
                    progress(f"Lighthouse, home page and an article, {runs} runs a page ...")
                    audits = lighthouse.run(base_url, runs=runs)
                if "axe" in browser_parts:
                    progress("axe-core on the pages customers see most, phone and desktop ...")
                    axe = accessibility.run(base_url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    part_of = {
        f"hybrid_p99_ms_{opts.small}": "semantic",
        "semantic_cold_start_s": "semantic",
        "search_vs_healthz": "http",
        "logging_on_vs_off": "http",
        "hooks_vs_no_hooks": "builds",
        **{name: "reliability" for name in RELIABILITY_FIGURES},
        **{name: "lighthouse" for name in lighthouse_targets()},
        "axe_violations": "axe",
        "dashboard_ms": "dashboard",
        "dashboard_90_days_ms": "dashboard",
        **{name: "replicas" for name in replica_targets()},
    }
    figures = {**ratios(opts, latency, semantic, builds, load_figures), **core.get("ratios", {})}
    if audits:
        figures.update(lighthouse.ratios(audits))
    if axe:
        figures.update(accessibility.ratios(axe))
    figures.update(board.get("ratios", {}))
    figures.update(past_one.get("ratios", {}))
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine skews every figure: the 1-minute load at start and end.
            "load_average": [LOAD_AT_START, round(os.getloadavg()[0], 2)],
        },
        "sizes": [opts.small, opts.large],
        "load_seconds": opts.load_seconds,
        "latency": latency,
        "semantic": semantic,
        "http": load_figures,
        "builds": builds,
        "reliability": {k: v for k, v in core.items() if k != "ratios"},
        "learning": curves,
        "lighthouse": audits,
        "axe": axe,
        "dashboard": {k: v for k, v in board.items() if k not in ("ratios", "profile")},
        "replicas": {k: v for k, v in past_one.items() if k != "ratios"},
        "ratios": figures,
        "targets": {name: dataclasses.asdict(goal) for name, goal in goals.items()},
        "met": {name: goals[name].met(value) for name, value in figures.items() if name in goals},
        "no_target": [name for name in figures if name not in goals],
        "not_measured": {
            name: skipped.get(part_of.get(name, ""), "not measured")
            for name in goals
            if name not in figures
        },
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(results, indent=2))
    missing = report(results, goals, opts.output)
    if missing:
        print(f"figures without a target: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
