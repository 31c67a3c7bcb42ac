"""Gzip on the fly for what has no precompressed copy (API answers, a site not built by
`kb release`), around Starlette's GZipMiddleware, made exact about HTTP:

- a client that refuses gzip (`gzip;q=0`) gets none (Starlette only looks for the word);
- a gzipped answer's ETag is weak: the plain file's strong ETag names other bytes;
- `Vary: Accept-Encoding` once, though SiteFiles and the middleware each add it.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb_search.sitefiles import accepted_codings


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "gzip" not in accepted_codings(Headers(scope=scope).get("accept-encoding", "")):
            await self.app(scope, receive, send)
            return

        async def exact(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if headers.get("content-encoding") == "gzip" and etag and not etag.startswith("W/"):
                    headers["etag"] = "W/" + etag
                vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
                if vary:
                    headers["vary"] = ", ".join(dict.fromkeys(vary))
            await send(message)

        await self.gzip(scope, receive, exact)
