"""What operators watch: `/metrics` in the Prometheus text format, and a structured request log.

Counted per app (each app has its own registry, so tests and several apps in one process never
share figures): requests and their duration per endpoint (the route, never the path a client
made up, so the label set stays small), searches and zero-result searches per language, the
query log's queue and its dropped events, the release served and the ranker in use.

The request log is one JSON line per request (method, endpoint, path, status, duration); it
never holds a query string, where customers' searches are.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb_search.admin_auth import bearer_matches
from kb_search.errors import ApiError

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
request_log = logging.getLogger("kb_search.requests")
# Seconds: a search answers in milliseconds; a page of the site in less.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The figures of one app; of every worker together under `kb serve --workers N` (which
    sets PROMETHEUS_MULTIPROC_DIR: each process writes its counts there, a scrape adds them
    up; the log's queue and the release are those of the worker that answers)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        counted = None if shared else self.registry  # in files, not in this process's registry
        self.requests = Counter(
            "kb_requests",
            "Requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=counted,
        )
        self.latency = Histogram(
            "kb_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            buckets=BUCKETS,
            registry=counted,
        )
        self.searches = Counter(
            "kb_searches", "Searches answered, by language.", ["language"], registry=counted
        )
        self.zero_results = Counter(
            "kb_zero_result_searches",
            "Searches that found nothing, by language.",
            ["language"],
            registry=counted,
        )

    def watch(self, state: Callable[[], dict[str, Any]]) -> None:
        """Read the service's state (`Service.health`) at every scrape."""
        self.registry.register(_StateCollector(state))

    def searched(self, language: str, found: int) -> None:
        self.searches.labels(language).inc()
        if not found:
            self.zero_results.labels(language).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        self.state = state

    def collect(self) -> Iterable[Metric]:
        try:
            health = self.state()
        except ApiError:  # no release can be opened: the figures of what is known
            health = {"log": {}, "index": "", "ranker": "", "status": "unavailable"}
        log = health.get("log", {})
        queued = GaugeMetricFamily("kb_log_queued_events", "Events waiting to be written.")
        queued.add_metric([], log.get("queued", 0))
        yield queued
        dropped = GaugeMetricFamily(
            "kb_log_dropped_events", "Events the query log could not keep, since start."
        )
        dropped.add_metric([], log.get("dropped", 0))
        yield dropped
        written = GaugeMetricFamily("kb_log_written_events", "Events written, since start.")
        written.add_metric([], log.get("written", 0))
        yield written
        release = InfoMetricFamily("kb_release", "The release served and how it ranks.")
        release.add_metric(
            [],
            {
                "index": str(health.get("index", "")),
                "ranker": str(health.get("ranker", "")),
                "log_backend": str(log.get("backend", "")),
                "status": str(health.get("status", "")),
            },
        )
        yield release


def endpoint_of(scope: Scope) -> str:
    """The route a request matched ("/api/search", "/admin/gap"), or "site" for the pages: read
    from what the router left in the scope, so no request is routed twice."""
    route = scope.get("route")
    if route is None:
        return "other"
    endpoint = scope.get("root_path", "") + getattr(route, "path", "")
    return endpoint or "site"  # Mount("/"): the static site


class MeasureRequests:
    """Counts and times every request; writes the request log line when it is on."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool) -> None:
        self.app, self.metrics, self.log_requests = app, metrics, log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            endpoint = endpoint_of(scope)  # the router has matched it by now
            self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(seconds)
            if self.log_requests:
                request_log.info(
                    json.dumps(
                        {
                            "method": scope["method"],
                            "endpoint": endpoint,
                            "path": scope["path"][:200],  # never the query string
                            "status": status,
                            "ms": round(seconds * 1000, 1),
                        }
                    )
                )


def allowed(request: Request, token: str, addresses: tuple[str, ...]) -> bool:
    """From an address KB_METRICS_FROM lists, or with the admin token."""
    if bearer_matches(request, token):
        return True
    client = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in addresses)


def metrics_response(metrics: Metrics) -> Response:
    return Response(metrics.text(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
