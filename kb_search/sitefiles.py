"""The built site, served with caching that suits each kind of file."""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

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
        if response.status_code in (200, 304):
            response.headers.setdefault("Cache-Control", cache_control(scope["path"]))
        return response
