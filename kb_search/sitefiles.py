"""The built site, served with caching that suits each kind of file."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Receive, Scope, Send

# Theme assets carry a content hash in their name (main.57a0d79d.min.css): cache them for good.
_FINGERPRINTED = re.compile(r"\.[0-9a-f]{8}\.min\.(?:js|css)$")
FOREVER = "public, max-age=31536000, immutable"

# Precompressed copies (`kb release` writes them: precompress() in sitebuild.py), best first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def fingerprint(data: bytes) -> str:
    """The `?v=` of our own assets (hooks/assets.py puts it in the pages' links)."""
    return hashlib.sha256(data).hexdigest()[:10]


@functools.lru_cache(maxsize=256)
def _file_fingerprint(file: str, size: int, mtime_ns: int) -> str:
    """A file's fingerprint, read once per version of the file (any `?v=` asks for it)."""
    return fingerprint(Path(file).read_bytes())


def cache_control(
    path: str,
    version: str | None = None,
    file: str | None = None,
    stat: os.stat_result | None = None,
) -> str:
    """`version` is the request's `?v=`: cached for good only when it is this file's content
    hash, so an old page's link never pins new content (or new content an old link)."""
    if _FINGERPRINTED.search(path):
        return FOREVER
    if (
        version
        and file
        and stat
        and _file_fingerprint(file, stat.st_size, stat.st_mtime_ns) == version
    ):
        return FOREVER
    if path.endswith((".html", ".json", ".xml")) or path.endswith("/") or "." not in path:
        return "no-cache"  # revalidate: a rebuilt site shows at once
    return "public, max-age=3600"


def accepted_codings(accept_encoding: str) -> set[str]:
    """The codings a client accepts (`q=0` refuses one)."""
    accepted = set()
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if not re.fullmatch(r"q=0(?:\.0*)?", params.replace(" ", "")):
            accepted.add(coding.strip())
    return accepted


class SiteFiles(StaticFiles):
    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        # A precompressed copy is never a file of its own: fetched by its name it would come
        # as binary junk labelled text/html (and be gzipped again on the way).
        for _, suffix in ENCODINGS:
            if path.endswith(suffix):
                _, original = super().lookup_path(path.removesuffix(suffix))
                if original is not None:
                    return "", None
        return super().lookup_path(path)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 404 and isinstance(response, FileResponse):
            # StaticFiles sends its 404.html as it is: our copies and caching serve it too,
            # and under /sv/ the Swedish one (each language's folder has its own).
            own_path, own_stat = self._language_404(path)
            page = own_path if own_stat is not None else response.path
            stat_result = own_stat or response.stat_result or os.stat(page)
            return self.file_response(page, stat_result, scope, status_code=404)
        location = response.headers.get("location")
        if location is not None:
            # "/returns" -> "/returns/" names no host: the Host header is the client's to set.
            parts = urlsplit(location)
            response.headers["location"] = urlunsplit(("", "", parts.path, parts.query, ""))
        return response

    def _language_404(self, path: str) -> tuple[str, os.stat_result | None]:
        """The 404 page of the folder `path` starts with, when that folder has one."""
        folder, slash, _ = path.partition("/")
        if not slash or not folder:
            return "", None
        return self.lookup_path(f"{folder}/404.html")

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, or its precompressed copy when the client accepts it (its own ETag: a
        different representation), with the caching that suits it."""
        request_headers = Headers(scope=scope)
        full_path = os.fspath(full_path)
        accepted = accepted_codings(request_headers.get("accept-encoding", ""))
        headers: dict[str, str] = {}
        served, served_stat = full_path, stat_result
        for coding, suffix in ENCODINGS:
            try:
                variant_stat = os.stat(full_path + suffix)
            except OSError:
                continue
            if variant_stat.st_mtime_ns < stat_result.st_mtime_ns:
                continue  # older than the file: the file was changed after `kb release`
            headers["Vary"] = "Accept-Encoding"  # a cache must not hand br to a client without
            if coding in accepted and served == full_path:
                served, served_stat = full_path + suffix, variant_stat
                headers["Content-Encoding"] = coding
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        version = query.get("v", [None])[0]
        headers["Cache-Control"] = cache_control(scope["path"], version, full_path, stat_result)
        # The media type of what it is, not of the .br/.gz it travels in.
        response = FileResponse(
            served,
            status_code=status_code,
            stat_result=served_stat,
            headers=headers,
            media_type=mimetypes.guess_type(full_path)[0] or "text/plain",
        )
        if status_code == 200 and self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
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
