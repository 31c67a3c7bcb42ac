"""Security headers (a Content-Security-Policy on the site and the API) and per-client limits."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class SecurityHeaders:
    """Adds security headers to every response: the site's policy, or the API's stricter one."""

    def __init__(self, app: ASGIApp, site_policy: str) -> None:
        self.app = app
        self.site_policy = site_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/") or scope["path"] == "/healthz"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = API_POLICY if is_api else self.site_policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimiter:
    """A fixed one-minute window per client. Client addresses live in memory only, briefly."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.time() if now is None else now
        window = int(now // 60)
        with self._lock:
            if len(self._windows) > 10_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get(client, (window, 0))
            if start != window:
                start, count = window, 0
            if count >= self.per_minute:
                return max(1, int((window + 1) * 60 - now))
            self._windows[client] = (start, count + 1)
            return 0
