"""The built site, served with caching that suits each kind of file."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

# Theme assets carry a content hash in their name (main.57a0d79d.min.css): cache them for good.
_FINGERPRINTED = re.compile(r"\.[0-9a-f]{8}\.min\.(?:js|css)$")


def cache_control(path: str) -> str:
    if _FINGERPRINTED.search(path):
        return "public, max-age=31536000, immutable"
    if path.endswith((".html", ".json", ".xml")) or path.endswith("/") or "." not in path:
        return "no-cache"  # revalidate: a rebuilt site shows at once
    return "public, max-age=3600"


class SiteFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        location = response.headers.get("location")
        if location is not None:
            # "/returns" -> "/returns/" names no host: the Host header is the client's to set.
            parts = urlsplit(location)
            response.headers["location"] = urlunsplit(("", "", parts.path, parts.query, ""))
        if response.status_code in (200, 304):
            response.headers.setdefault("Cache-Control", cache_control(scope["path"]))
        return response


# A release's files and its Content-Security-Policy, or None when it has no site.
SiteOf = Callable[[Scope], "tuple[SiteFiles, str] | None"]
# Where the page's own policy travels to the security headers.
POLICY_KEY = "kb.site_policy"


class ReleaseSite:
    """The current release's site: each request is served from the release open at that time,
    so a new release (a rebuilt site) replaces the old one between two requests, never during
    one, and never leaves a half-built folder in view."""

    def __init__(self, site_of: SiteOf) -> None:
        self.site_of = site_of  # may open a new release: called in a worker thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site = await run_in_threadpool(self.site_of, scope)
        if site is None:
            response = PlainTextResponse(
                "The help center's pages are not built yet: run `kb release`.", status_code=503
            )
            await response(scope, receive, send)
            return
        files, policy = site
        scope[POLICY_KEY] = policy  # the policy of the release that serves this page
        await files(scope, receive, send)
