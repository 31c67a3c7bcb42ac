"""The insights dashboard at scale: GET /admin/ on a log of N logged searches (1,000,000 by
default; target: the main page in <= 300 ms).

A realistic log is generated over the last DAYS days (later days busier, weekends quieter) and
written through `SQLiteStore.write` in big batches, searches alike grouped as the batching
writer groups them, so the daily figures are counted as the service counts them:

- 80% English and 20% Swedish visits of 1 to 4 searches each (a few without a visit id);
- queries drawn Zipf-like from ~30,000 distinct phrases per run: the help center's own titles,
  queries, tags and synonyms first, then word combinations of one article's words (some with a
  typo, searched as corrected), and ~8% of searches from phrases of everyday words outside the
  help center, which find nothing (some of them typos of others, so gap groups merge);
- ~55% of searches with a result opened (position 1 to 5, mostly 1; now and then two), each
  phrase with its own click-through rate, so the no-click table has something to show;
- some visits ending on the contact page, a few thousand helpful / not helpful votes, and a
  few gaps marked answered or dismissed by a writer.

The service's own retention (90 days of raw rows; the daily figures for two years) is applied
before the pages are timed, as the service applies it in its first minute. Then the real app
(`create_app`, signed in through the real form) answers GET /admin/ (30 days, the default),
/admin/?period=90 and the gap page of the most searched zero-result group: the first request
of each is left out, then REQUESTS are timed one after another.

Run alone for the figures and a profile of the main page (every table, SQL query and template
in one thread, cumulative times):

    python bench/dashboard.py --searches 1000000 --profile
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import csv
import datetime as dt
import io
import itertools
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import Article, HelpCenter, load
from kb_search.config import Settings
from kb_search.querylog import QueryLog
from kb_search.querylog.events import (
    FEEDBACK_REASONS,
    ClickEvent,
    ContactEvent,
    Event,
    FeedbackEvent,
    SearchEvent,
)
from kb_search.querylog.insights import PERIODS
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.querylog.writer import Batch
from kb_search.text import language as language_of
from kb_search.versions import build

ROOT = Path(__file__).resolve().parent.parent
SEARCHES = 1_000_000
DAYS = 400
PHRASES = 30_000  # distinct phrases, both languages
SWEDISH_SHARE = 0.2
ZERO_SHARE = 0.08  # searches that find nothing
ZERO_PHRASE_SHARE = 0.2  # of the distinct phrases: the unanswered ones are a long tail
CLICKED_SHARE = 0.55  # searches with at least one result opened
VOTES_PER_SEARCH = 1 / 300  # a few thousand votes at 1,000,000 searches
CONTACT_SHARE = 0.06  # visits that end on the contact page
NO_VISIT_SHARE = 0.05  # searches sent without a visit id
BATCH_SEARCHES = 20_000  # searches a batch holds, at least (whole days)
POSITIONS = ((1, 2, 3, 4, 5), (65, 15, 10, 6, 4))  # where opened results were, how often
SESSION_LENGTHS = ((1, 2, 3, 4), (50, 25, 15, 10))
REQUESTS = 10  # timed requests a page, after one left out
TARGET_MS = 300.0
PAGES = {"30 days": "/admin/", "90 days": "/admin/?period=90"}
MARKS = {"answered": 8, "dismissed": 2}  # gaps a writer has marked
MISSING = {
    "en": ["the price of express delivery", "what happens on a public holiday",
           "how long a refund takes to my card", "which countries you ship to"],
    "sv": ["priset för expressleverans", "vad som gäller på helgdagar",
           "hur lång tid återbetalningen tar", "vilka länder ni skickar till"],
}  # fmt: skip
_WORD = re.compile(r"[a-zåäö]{3,}")


@dataclass(frozen=True)
class Phrase:
    """A search as many customers type it, and what it finds each time."""

    text: str
    result_count: int
    top_result: str | None
    topic: str | None  # the first result's category
    corrected: str | None = None  # the phrase's spelling correction, when it has a typo
    click_rate: float = 0.0  # of its searches, those with a result opened
    others: tuple[str, ...] = ()  # the articles at positions 2 to 5


@dataclass
class Vocabulary:
    """One language's phrases, each list drawn Zipf-like (s = 1) by its order."""

    answered: list[Phrase]
    unanswered: list[Phrase]
    categories: dict[str, str]  # article id -> category
    answered_weights: list[float] = field(init=False)
    unanswered_weights: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.answered_weights = _zipf(len(self.answered))
        self.unanswered_weights = _zipf(len(self.unanswered))

    def draw(self, rng: random.Random) -> Phrase:
        if rng.random() < ZERO_SHARE:
            return _pick(rng, self.unanswered, self.unanswered_weights)
        return _pick(rng, self.answered, self.answered_weights)


def _zipf(count: int) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 2.7) for rank in range(count)))


def _pick(rng: random.Random, phrases: list[Phrase], weights: list[float]) -> Phrase:
    return phrases[bisect.bisect(weights, rng.random() * weights[-1])]


def _typo(rng: random.Random, words: list[str]) -> list[str]:
    """One letter left out of one word of five letters or more (the others as they were)."""
    long_ones = [n for n, w in enumerate(words) if len(w) >= 5]
    if not long_ones:
        return words
    n = rng.choice(long_ones)
    cut = rng.randrange(1, len(words[n]))
    return [*words[:n], words[n][:cut] + words[n][cut + 1 :], *words[n + 1 :]]


def _article_words(article: Article, code: str) -> list[str]:
    """An article's own words, stop words left out: what its generated searches are made of."""
    text = " ".join([article.title, article.summary, *article.queries, *article.tags,
                     *article.synonyms, article.markdown])  # fmt: skip
    words = dict.fromkeys(_WORD.findall(text.lower()))
    return [w for w in words if not language_of(code).is_stop_word(w)]


def vocabulary(center: HelpCenter, distinct: int, rng: random.Random) -> Vocabulary:
    """`distinct` phrases of the center's language: its own first (the most searched), then
    generated ones; ZERO_PHRASE_SHARE of them find nothing."""
    from wordfreq import top_n_list

    code = center.language
    articles = list(center.published)
    categories = {str(a.id): a.category for a in articles}
    by_category: dict[str, list[str]] = {}
    for article in articles:
        by_category.setdefault(article.category, []).append(str(article.id))
    words_of = {str(a.id): _article_words(a, code) for a in articles}

    def phrase(text: str, article: Article, corrected: str | None = None) -> Phrase:
        own = str(article.id)
        near = [i for i in by_category[article.category] if i != own]
        far = [str(a.id) for a in rng.sample(articles, 5) if a.id != article.id]
        click_rate = min(0.95, max(0.02, rng.gauss(CLICKED_SHARE / (1 - ZERO_SHARE), 0.2)))
        return Phrase(text, rng.randint(1, 40), own, article.category, corrected, click_rate,
                      tuple((near + far)[:4]))  # fmt: skip

    seen: set[str] = set()
    answered: list[Phrase] = []
    own_phrases = [
        (text.lower(), a) for a in articles for text in (a.title, *a.queries, *a.tags, *a.synonyms)
    ]
    rng.shuffle(own_phrases)
    for text, article in own_phrases:
        if text not in seen:
            seen.add(text)
            answered.append(phrase(text, article))
    wanted = round(distinct * (1 - ZERO_PHRASE_SHARE))
    generated: list[Phrase] = []
    while len(answered) + len(generated) < wanted:
        article = rng.choice(articles)
        pool = words_of[str(article.id)]
        words = rng.sample(pool, min(len(pool), rng.choice((1, 2, 2, 3, 3, 3, 4))))
        text = " ".join(words)
        if rng.random() < 0.08:
            typed = " ".join(_typo(rng, words))
            if typed not in seen and typed != text:
                seen.add(typed)
                generated.append(phrase(typed, article, corrected=text))
            continue
        if text not in seen:
            seen.add(text)
            generated.append(phrase(text, article))
    rng.shuffle(generated)
    own_words = {w for pool in words_of.values() for w in pool}
    everyday = [w for w in top_n_list(code, 30_000) if _WORD.fullmatch(w) and w not in own_words]
    unanswered: list[Phrase] = []
    while len(unanswered) < distinct - wanted:
        if unanswered and rng.random() < 0.15:  # a typo of one of the most searched
            words = _typo(rng, rng.choice(unanswered[:500]).text.split())
        else:
            words = rng.sample(everyday, rng.choice((1, 2, 2, 3)))
        text = " ".join(words)
        if text not in seen:
            seen.add(text)
            unanswered.append(Phrase(text, 0, None, None))
    return Vocabulary(answered + generated, unanswered, categories)


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


@dataclass
class LogMaker:
    """Visits day by day, from DAYS days ago to now, as batches the writer would write."""

    vocabularies: dict[str, Vocabulary]
    rng: random.Random
    now: dt.datetime
    searches: int = 0
    events: int = 0

    def day_counts(self, total: int) -> list[tuple[dt.datetime, int]]:
        """(midnight, searches) of each day, oldest first: busier each day, quieter at weekends."""
        today = dt.datetime.combine(self.now.date(), dt.time(), dt.UTC)
        days = [today - dt.timedelta(days=ago) for ago in range(DAYS - 1, -1, -1)]
        weights = [(1 + 2 * n / (DAYS - 1)) * (0.7 if d.weekday() >= 5 else 1.0)
                   for n, d in enumerate(days)]  # fmt: skip
        whole = sum(weights)
        counts = [int(total * w / whole) for w in weights]
        counts[-1] += total - sum(counts)
        return list(zip(days, counts, strict=True))

    def visit(self, midnight: dt.datetime, most: int, events: list[Event]) -> int:
        """One visit's searches (`most` at most), clicks, votes and contact; returns how many
        searches."""
        rng = self.rng
        language = "sv" if rng.random() < SWEDISH_SHARE else "en"
        words = self.vocabularies[language]
        session = None if rng.random() < NO_VISIT_SHARE else _hex(rng)
        span = min(86_400.0, (self.now - midnight).total_seconds() - 600)
        at = midnight + dt.timedelta(seconds=max(0.0, span) * rng.betavariate(2.5, 2))
        count = min(most, rng.choices(*SESSION_LENGTHS)[0] if session else 1)
        for _ in range(count):
            phrase = words.draw(rng)
            search_id = _hex(rng)
            category = phrase.topic if phrase.topic and rng.random() < 0.02 else None
            events.append(SearchEvent(search_id, phrase.text, phrase.result_count,
                                      phrase.top_result, category, phrase.corrected, session,
                                      at=min(at, self.now), language=language,
                                      topic=phrase.topic))  # fmt: skip
            if phrase.result_count and rng.random() < phrase.click_rate:
                self.clicks(phrase, search_id, at, language, words, events)
            at += dt.timedelta(seconds=rng.uniform(5, 90))
        if session and rng.random() < CONTACT_SHARE:
            events.append(ContactEvent(session, at=min(at, self.now), language=language))
        return count

    def clicks(
        self,
        phrase: Phrase,
        search_id: str,
        at: dt.datetime,
        language: str,
        words: Vocabulary,
        events: list[Event],
    ) -> None:
        rng = self.rng
        how_many = 2 if rng.random() < 0.15 else 1
        positions = sorted({rng.choices(*POSITIONS)[0] for _ in range(how_many)})
        for position in (min(p, phrase.result_count) for p in positions):
            article = phrase.top_result if position == 1 else phrase.others[position - 2]
            assert article is not None
            clicked = min(at + dt.timedelta(seconds=rng.uniform(2, 40)), self.now)
            topic = words.categories[article]
            events.append(ClickEvent(search_id, article, at=clicked, language=language,
                                     position=position, topic=topic))  # fmt: skip
            if rng.random() < VOTES_PER_SEARCH / CLICKED_SHARE / how_many:
                helpful = rng.random() < 0.65
                reason = None if helpful else rng.choice(list(FEEDBACK_REASONS))
                missing = rng.choice(MISSING[language]) if reason and rng.random() < 0.4 else None
                vote = FeedbackEvent(article, helpful, missing, search_id, reason, at=clicked,
                                     language=language, topic=topic)  # fmt: skip
                events.append(vote)

    def batches(self, total: int) -> Iterator[Batch]:
        """The log, whole days a batch, BATCH_SEARCHES searches or more each."""
        events: list[Event] = []
        searches = 0
        for midnight, count in self.day_counts(total):
            made = 0
            while made < count:
                made += self.visit(midnight, count - made, events)
            searches += made
            if searches >= BATCH_SEARCHES:
                yield self.grouped(events, searches)
                events, searches = [], 0
        if events:
            yield self.grouped(events, searches)

    def grouped(self, events: list[Event], searches: int) -> Batch:
        """Searches alike in one group (as the writer keeps them), first; then the rest in
        order, so that every click finds its search and every contact its visit."""
        groups: dict[Any, list[Event]] = {}
        rest: list[list[Event]] = []
        for event in events:
            if isinstance(event, SearchEvent):
                groups.setdefault(event.same_as(), []).append(event)
            else:
                rest.append([event])
        self.searches += searches
        self.events += len(events)
        return [*groups.values(), *rest]


def log_maker(center: HelpCenter, searches: int, phrases: int = PHRASES) -> LogMaker:
    """A maker of the log of `searches` searches, the same for the same numbers."""
    rng = random.Random(searches)
    share = {"en": 1 - SWEDISH_SHARE, "sv": SWEDISH_SHARE}
    vocabularies = {
        code: vocabulary(center.editions[code], round(phrases * part), rng)
        for code, part in share.items()
    }
    return LogMaker(vocabularies, rng, dt.datetime.now(dt.UTC))


def realistic_events(center: HelpCenter, searches: int, phrases: int) -> list[Event]:
    """The events of a generated log of `searches` searches, each click after its search (as
    the service's writer receives them)."""
    maker = log_maker(center, searches, phrases)
    return [event for batch in maker.batches(searches) for group in batch for event in group]


def fill_log(path: Path, center: HelpCenter, searches: int) -> dict[str, Any]:
    """Generate and write the log; how long each took, and how much was written."""
    started = time.perf_counter()
    maker = log_maker(center, searches)
    vocabularies = maker.vocabularies
    rng = maker.rng
    vocabulary_s = time.perf_counter() - started
    store = SQLiteStore(path)
    writing = 0.0
    batches = 0
    make_started = time.perf_counter()
    for batch in maker.batches(searches):
        write_started = time.perf_counter()
        store.write(batch)
        writing += time.perf_counter() - write_started
        batches += 1
    making = time.perf_counter() - make_started - writing
    mark_gaps(store, vocabularies, rng)
    store.close()
    purge_started = time.perf_counter()
    raw_deleted = QueryLog(SQLiteStore(path)).purge()  # the service's retention, as at start
    purge_s = time.perf_counter() - purge_started
    return {
        "searches": maker.searches,
        "events": maker.events,
        "distinct_phrases": sum(len(v.answered) + len(v.unanswered) for v in vocabularies.values()),
        "batches": batches,
        "vocabulary_s": round(vocabulary_s, 1),
        "generate_s": round(making, 1),
        "write_s": round(writing, 1),
        "events_per_s": round(maker.events / writing),
        "purge_s": round(purge_s, 1),
        "raw_rows_purged": raw_deleted,
        "db_mb": round(sum(f.stat().st_size for f in path.parent.glob(path.name + "*")) / 2**20),
    }


def mark_gaps(store: SQLiteStore, vocabularies: dict[str, Vocabulary], rng: random.Random) -> None:
    """A writer's marks on the most searched forms that found nothing: some answered by an
    article some weeks ago (their before / after windows are worked out), some dismissed."""
    now = dt.datetime.now(dt.UTC)
    for code, words in vocabularies.items():
        forms = sorted(store.gap_forms(code, None), key=lambda row: (-row[2], row[0]))
        top = iter(row[0] for row in forms)
        articles = list(words.categories)
        for state, count in MARKS.items():
            for form in itertools.islice(top, count):
                at = now - dt.timedelta(days=rng.randint(10, 80))
                article = rng.choice(articles) if state == "answered" else None
                store.mark_gap(code, form, state, article, at)


def sign_in(client: TestClient) -> None:
    """Through the real form: its CSRF value, then the token."""
    form = client.get("/admin/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None, form.text
    answer = client.post(
        "/admin/sign-in",
        data={"csrf": csrf.group(1), "token": "bench", "next": "/admin/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def time_page(
    client: TestClient, path: str, requests: int, counted: bool = False
) -> dict[str, float]:
    """The page's median and p95, ms, over `requests` after one left out (warm). `counted`:
    each request counts its figures afresh (the dashboard keeps a filter set's figures for a
    minute: this is the first request of each minute)."""
    timings = []
    for n in range(requests + 1):
        if counted and hasattr(client.app.state, "insights_cache"):  # type: ignore[attr-defined]
            client.app.state.insights_cache.clear()  # type: ignore[attr-defined]
        started = time.perf_counter()
        answer = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
        if n:
            timings.append(elapsed)
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "kb": round(len(answer.content) / 1024, 1),
    }


def live(client: TestClient) -> None:
    """One search logged, as a live service always has: its writer then keeps its own
    connection open, and each of the dashboard's reads does not start the log file's
    write-ahead log anew (SQLite checkpoints and removes it when the last connection closes)."""
    assert client.get("/api/search", params={"q": "return label"}).status_code == 200
    client.app.state.service.log.flush()  # type: ignore[attr-defined]


def top_zero_group(client: TestClient) -> str:
    """The key of the most searched zero-result group, as the dashboard's CSV says it."""
    table = client.get("/admin/export/zero-results.csv").text.splitlines()
    if len(table) < 2:
        raise RuntimeError("the log has no zero-result group:\n" + "\n".join(table))
    return next(csv.reader(table[1:2]))[0]


def settings_for(work: Path) -> Settings:
    release = work / "releases"
    build(load(ROOT / "docs"), release)
    # No semantic model: the dashboard does not use it, and it would only slow the start.
    return Settings.from_env({}, docs_dir=ROOT / "docs", index_dir=release,
                             log_db=work / "log.sqlite3", admin_token="bench",
                             semantic_weight=0)  # fmt: skip


def run(
    searches: int = SEARCHES,
    requests: int = REQUESTS,
    profile: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """The log's figures, each page's timings and the ratios with targets; with `profile`,
    also where the main page's time goes."""
    with tempfile.TemporaryDirectory(prefix="kb-bench-dashboard-") as folder:
        work = Path(folder)
        settings = settings_for(work)
        log = fill_log(work / "log.sqlite3", load(ROOT / "docs"), searches)
        progress(f"  log written in {log['write_s']} s; timing the pages ...")
        with TestClient(create_app(settings)) as client:
            sign_in(client)
            live(client)
            load_before = os.getloadavg()[0]
            pages = {name: time_page(client, path, requests) for name, path in PAGES.items()}
            pages |= {f"{name}, counted afresh": time_page(client, path, requests, counted=True)
                      for name, path in PAGES.items()}  # fmt: skip
            key = top_zero_group(client)
            pages["gap"] = time_page(client, f"/admin/gap?lang=en&key={quote(key)}", requests)
            load_after = os.getloadavg()[0]
            profiles = profiled(client.app.state.service) if profile else ""  # type: ignore[attr-defined]
    main = pages["30 days"]["median_ms"]
    return {
        "log": log,
        "pages": pages,
        # Other work on the machine slows every page: the 1-minute load before and after.
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "gap_key": key,
        "target_ms": TARGET_MS,
        "times_the_target": round(main / TARGET_MS, 2),
        "profile": profiles,
        "ratios": {
            "dashboard_ms": main,
            "dashboard_90_days_ms": pages["90 days"]["median_ms"],
        },
    }


def profiled(svc: Any, top: int = 45) -> str:
    """The main page's work in this thread, under cProfile (the app answers in other
    threads, which cProfile does not follow): its figures (each SQL query is one store
    method), charts and template, as `kb_search.dashboard.dashboard` makes them."""
    from kb_search import dashboard

    def page(period: str) -> None:
        context = dashboard._compute(svc, {"period": period}, dashboard.InsightsCache())
        found = context["found"]
        dashboard._page("dashboard.html", session_csrf="-", charts=dashboard._charts(found),
                        figures=dashboard._headline(found), periods=PERIODS, **context)  # fmt: skip

    out = io.StringIO()
    for period in ("30", "90"):
        page(period)  # warm
        profiler = cProfile.Profile()
        profiler.enable()
        page(period)
        profiler.disable()
        out.write(f"\n=== GET /admin/?period={period}, one request, in this thread ===\n")
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def report(figures: dict[str, Any]) -> None:
    log, pages = figures["log"], figures["pages"]
    print(
        f"\ndashboard at {log['searches']:,} logged searches ({log['events']:,} events, "
        f"{log['distinct_phrases']:,} phrases to draw from, {log['db_mb']} MB): generated in "
        f"{log['generate_s']} s, written in {log['write_s']} s ({log['events_per_s']:,} events/s, "
        f"{log['batches']} batches), retention purged {log['raw_rows_purged']:,} raw rows in "
        f"{log['purge_s']} s"
    )
    for name, row in pages.items():
        print(f"  GET /admin/ {name:<8} median {row['median_ms']:>7} ms, p95 {row['p95_ms']:>7} ms"
              f" ({row['kb']} KiB)")  # fmt: skip
    load = figures["load_average"]
    print(
        f"  main page: {figures['times_the_target']}x the {figures['target_ms']:g} ms target; "
        f"gap page of '{figures['gap_key']}'; machine load {load[0]} before, {load[1]} after"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--searches", type=int, default=SEARCHES)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--profile", action="store_true", help="also profile the main page")
    args = parser.parse_args(argv)
    figures = run(args.searches, args.requests, args.profile)
    report(figures)
    print(figures["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
