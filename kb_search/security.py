"""Security headers (a Content-Security-Policy on the site and the API) and per-client limits."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb_search.sitefiles import POLICY_KEY

_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"
    r"(.*?)</script>",
    re.DOTALL,
)


def inline_script_hashes(site_dir: Path) -> list[str]:
    """CSP hashes of the theme's inline scripts, so no page needs 'unsafe-inline'."""
    found: set[str] = set()
    for page in site_dir.rglob("*.html") if site_dir.is_dir() else []:
        for script in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8")):
            digest = hashlib.sha256(script.encode("utf-8")).digest()
            found.add("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")
    return sorted(found)


def site_policy(script_hashes: list[str], connect: tuple[str, ...] = ()) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src " + " ".join(["'self'", *script_hashes]),
            "style-src 'self' 'unsafe-inline'",  # the theme sets style attributes
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src " + " ".join(["'self'", *connect]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The dashboard runs no script at all; its one stylesheet is its own.
ADMIN_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """Adds security headers to every response: the site's policy, or the API's stricter one.

    `site_policy` is asked per page: each release of the site has its own script hashes.
    """

    def __init__(self, app: ASGIApp, site_policy: Callable[[Scope], str]) -> None:
        self.app = app
        self.site_policy = site_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        is_api = path.startswith("/api/") or path == "/healthz"
        is_admin = path == "/admin" or path.startswith("/admin/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The policy of the release that served the page (a switch may come between).
                page_policy = scope.get(POLICY_KEY) or self.site_policy(scope)
                headers["Content-Security-Policy"] = (
                    API_POLICY if is_api else ADMIN_POLICY if is_admin else page_policy
                )
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimiter:
    """So many requests per client per minute (a moving window, in memory only).

    Client addresses are kept only as long as their window lasts.
    """

    def __init__(self, per_minute: int) -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> int:
        """0 when the request may go ahead (and counts it), else the seconds until it may."""
        if self._limiter.hit(self._item, client):
            return 0
        return self._reset(client)

    def waiting(self, client: str) -> int:
        """0 when the client has hits left (and counts none), else the seconds until it has."""
        return 0 if self._limiter.test(self._item, client) else self._reset(client)

    def _reset(self, client: str) -> int:
        reset = self._limiter.get_window_stats(self._item, client).reset_time
        return max(1, math.ceil(reset - time.time()))
