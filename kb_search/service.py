"""The live state every request shares: the release, the query log, the limits, the encoder.

The service keeps answering whatever its log or its index does, and says what is wrong in
`health()` (shown by `/healthz`): a release that would not open, a log store that is busy or
losing events, searches that were answered but not logged because one client sent too many.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request

from kb_search import search as engine
from kb_search import spelling
from kb_search.boosts import Boosts, LearnedBoosts
from kb_search.config import Settings
from kb_search.errors import ApiError
from kb_search.querylog import QueryLog, SearchEvent, open_log
from kb_search.redact import redact
from kb_search.security import RateLimiter, site_policy
from kb_search.semantic import load_encoder
from kb_search.sitefiles import SiteFiles
from kb_search.text import LANGUAGES
from kb_search.versions import IndexUnavailable, LiveIndex, OpenIndex

log = logging.getLogger("kb_search.app")
T = TypeVar("T")
PURGE_EVERY_SECONDS = 6 * 3600
WRONG_TOKENS_PER_MINUTE = 5  # sign-in attempts with a wrong admin token, per client
_NO_SITE_POLICY = site_policy([])


class Service:
    """The parts every request shares; kept on `app.state.service`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index = LiveIndex(settings.index_dir)
        self.log: QueryLog = open_log(settings)
        # Learned in the background (kb_search.boosts.refresh_regularly), one per language the
        # search can analyse; empty when off.
        self.learned = (
            {code: LearnedBoosts(self.log.store, code) for code in LANGUAGES}
            if settings.learned_boosts and settings.log_searches
            else {}
        )
        self.limiter = RateLimiter(settings.rate_limit)
        self.search_log_limiter = RateLimiter(settings.log_searches_per_minute)
        self.sign_in_limiter = RateLimiter(WRONG_TOKENS_PER_MINUTE)  # the dashboard's
        self.encoder = load_encoder(settings.model_dir) if settings.semantic_weight else None
        # The word lists load now, not in a customer's first search in a language.
        for analysis in LANGUAGES.values():
            spelling.is_real_word("", analysis.code)
            analysis.parts("everyday")  # a compound-reading language's everyday words
        redact("I'm Anna")
        # At most this many searches compute at once, in threads of their own.
        self.search_threads = anyio.CapacityLimiter(settings.search_threads)
        self._not_logged = 0  # searches answered but not logged: their client sent too many
        self._turned_away = 0  # searches answered 503: too many were waiting
        self._untrusted_forwarding = False  # X-Forwarded-For seen, but no proxy is trusted
        self._counter_lock = threading.Lock()

    async def compute(self, call: Callable[[Request], T], request: Request) -> T:
        """Run a search in the search threads, or answer 503 at once when too many wait."""
        if self.search_threads.statistics().tasks_waiting >= self.settings.search_queue:
            with self._counter_lock:
                self._turned_away += 1
            raise ApiError(
                503, "search is busy just now; try again in a moment", headers={"Retry-After": "1"}
            )
        return await anyio.to_thread.run_sync(call, request, limiter=self.search_threads)

    def boosts(self, index: OpenIndex) -> Boosts | None:
        learned = self.learned.get(index.language.code)
        return learned.current(index) if learned else None

    def ranker(self, index: OpenIndex) -> str:
        ready = engine.hybrid_ready(index, self.encoder, self.settings.semantic_weight)
        return "hybrid" if ready else "lexical"

    def open_index(self) -> OpenIndex:
        """The release to answer from (blocking: call from a worker thread), or a 503."""
        try:
            return self.index.current()
        except IndexUnavailable as error:
            raise ApiError(503, f"search is not ready: {error}") from None

    def site_files(self) -> tuple[SiteFiles, str] | None:
        try:
            site = self.index.current().site
        except IndexUnavailable:
            return None
        return (site.files, site.policy) if site else None

    def site_policy(self) -> str:
        serving = self.index.serving()
        return serving.site.policy if serving and serving.site else _NO_SITE_POLICY

    def client(self, request: Request) -> str:
        """The client's address; behind a proxy, KB_TRUSTED_PROXIES must name it (else every
        customer behind it is one client, which /healthz then says)."""
        if not self.settings.trusted_proxies and "x-forwarded-for" in request.headers:
            self._untrusted_forwarding = True
        return request.client.host if request.client else "unknown"

    def rate_limit(self, request: Request) -> None:
        wait = self.limiter.retry_after(self.client(request))
        if wait:
            raise ApiError(
                429,
                f"too many requests; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )

    def log_search(self, request: Request, event: SearchEvent) -> None:
        """Log a search unless its client has had its share of logged searches this minute."""
        if self.search_log_limiter.retry_after(self.client(request)):
            with self._counter_lock:
                self._not_logged += 1
            return
        log_safely("search", self.log.record_search, event)

    def _without_paths(self, text: str) -> str:
        for path, name in (
            (self.settings.index_dir, "KB_INDEX_DIR"),
            (self.settings.log_db, "KB_LOG_URL"),
        ):
            if path is not None:
                text = text.replace(str(path.resolve()), name).replace(str(path), name)
        return text

    def health(self) -> dict[str, Any]:
        """What `/healthz` shows; raises ApiError(503) when no release can be served."""
        index = self.open_index()
        problems = []
        if self.index.problem:
            problems.append(self.index.problem)
        if index.site is None:
            problems.append("this release has no site: run `kb release`")
        log_health = self.log.health()
        if log_health["retrying"]:
            problems.append(f"the query log is busy and being retried: {log_health['last_error']}")
        if log_health["dropped"]:
            problems.append(f"the query log dropped {log_health['dropped']} events")
        if self._untrusted_forwarding:
            problems.append(
                "requests come through a proxy (X-Forwarded-For) that KB_TRUSTED_PROXIES does "
                "not name: every client behind it shares one rate limit"
            )
        with self._counter_lock:
            not_logged, turned_away = self._not_logged, self._turned_away
        if turned_away:
            problems.append(f"{turned_away} searches were turned away: too many were waiting")
        # The service is public: it names no folder or file of the machine it runs on.
        problems = [self._without_paths(p) for p in problems]
        if log_health["last_error"]:
            log_health["last_error"] = self._without_paths(log_health["last_error"])
        log_health.pop("path", None)
        log_health.pop("url", None)  # a database's host and user are not the public's
        return {
            "ok": True,
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "index": index.version,
            "articles": len(index.records),
            "ranker": self.ranker(index),
            "site": index.site is not None,
            "log": log_health,
            "searches_not_logged": not_logged,
        }


def log_safely(action: str, call: Any, *args: Any, **named: Any) -> None:
    """The log must never break an answer: its failures go to the service log only."""
    try:
        call(*args, **named)
    except Exception:
        log.exception("could not log %s", action)


async def purge_regularly(query_log: QueryLog) -> None:
    """Retention: delete what is older than KB_LOG_RETENTION_DAYS, now and every few hours."""
    while True:
        try:
            removed = await asyncio.to_thread(query_log.purge)
            if removed:
                log.info("deleted %d logged searches past the retention period", removed)
        except Exception:
            log.exception("could not purge the query log")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
