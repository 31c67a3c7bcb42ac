"""Reading what a client sends: strict query parameters and small JSON bodies, or a clear 4xx."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

from kb_search.errors import ApiError

if TYPE_CHECKING:
    from kb_search.versions import OpenIndex

MAX_BODY_BYTES = 4096

# The rules below are both checked here and published in the OpenAPI document (kb_search.app),
# written once, as regular expressions both Python and JSON Schema (ECMA-262) read alike.
SEARCH_ID_PATTERN = "^[0-9a-f]{32}$"
SESSION_PATTERN = "^[0-9A-Za-z_-]{8,64}$"
# Control characters (Unicode Cc) but tab, line feed and carriage return, which are white space:
# feedback is typed in a <textarea>, and its line breaks are collapsed like any other space.
_CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
WORDS_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"  # and not only white space
_REFUSED = re.compile(rf"[{_CONTROL}\ud800-\udfff]")  # and lone surrogates (JSON's "\ud800")
# Who searches: a customer (the default, logged) or a support agent for a customer (never logged).
SOURCES = ("customer", "agents")
_SEARCH_ID = re.compile(SEARCH_ID_PATTERN)
_SESSION = re.compile(SESSION_PATTERN)


def clean_text(value: str, name: str, max_length: int) -> str:
    """Refuse control characters and text longer than `max_length` as sent; collapse white space."""
    if _REFUSED.search(value):
        raise ApiError(400, f"{name} contains control characters")
    if len(value) > max_length:
        raise ApiError(400, f"{name} is too long (max {max_length} characters)")
    return " ".join(value.split())


def query_params(request: Request, allowed: Collection[str]) -> dict[str, str]:
    """The query string as a dict; unknown, repeated or badly encoded parameters are refused."""
    raw = request.scope.get("query_string", b"")
    try:
        text = raw.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=len(allowed) + 1,
        )
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "the query string is not valid UTF-8 URL encoding") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise ApiError(
                400, f"unknown parameter '{name[:40]}' (allowed: {', '.join(sorted(allowed))})"
            )
        if name in params:
            raise ApiError(400, f"parameter '{name}' is given twice")
        params[name] = value
    return params


def whole_number(text: str) -> int | None:
    """0-9 digits only: str.isdigit() also accepts '²', which int() refuses."""
    # Longer than any limit we have; and int() refuses more than 4,300 digits.
    if len(text) > 9:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return number


def edition(release: OpenIndex, params: dict[str, str]) -> OpenIndex:
    """The index of the language `lang` names; missing or empty: the first language's."""
    code = params.get("lang")
    if not code:
        return release
    if code not in release.editions:
        raise ApiError(400, f"lang must be one of: {', '.join(release.editions)}")
    return release.in_language(code)


def edition_of(release: OpenIndex, body: dict[str, Any]) -> OpenIndex:
    """The index of the language a JSON body's `lang` names (the page's language)."""
    code = body.get("lang", "")
    if not isinstance(code, str):
        raise ApiError(400, "lang must be text")
    return edition(release, {"lang": code})


def choice_param(params: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`; missing or empty is the first (the default)."""
    raw = params.get(name) or choices[0]
    if raw not in choices:
        raise ApiError(400, f"{name} must be one of: {', '.join(choices)}")
    return raw


async def json_body(request: Request, allowed: Collection[str]) -> dict[str, Any]:
    """A small JSON object; oversized, malformed or unexpected bodies are refused."""
    # Exactly JSON: "text/plain; x=json" is a form a browser sends from any site, unasked.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "send JSON with Content-Type: application/json")
    # Browsers say when a request comes from another site's page (Fetch Metadata); such a
    # post is refused unless its origin is one KB_CORS_ORIGINS allows. (Exact JSON already
    # makes a browser ask first; this holds whatever proxy stands in front.)
    origin = request.headers.get("origin", "").rstrip("/")
    cors = request.app.state.service.settings.cors_origins
    if request.headers.get("sec-fetch-site") == "cross-site" and origin not in cors:
        raise ApiError(403, "a page of another site may not post here (see KB_CORS_ORIGINS)")
    declared = request.headers.get("content-length")
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or int(declared) > MAX_BODY_BYTES
    ):
        raise ApiError(413, f"the body is too large (max {MAX_BODY_BYTES} bytes)")
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ApiError(413, f"the body is too large (max {MAX_BODY_BYTES} bytes)")
    except ClientDisconnect:  # the customer left mid-request: nothing to answer, no error
        raise ApiError(400, "the body did not arrive whole") from None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # [[[[... nests past the stack
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(
            400, f"unknown field '{str(unknown[0])[:40]}' (allowed: {', '.join(sorted(allowed))})"
        )
    return data


def session_param(value: str | None) -> str | None:
    if value is not None and not _SESSION.fullmatch(value):
        raise ApiError(400, "session must be 8 to 64 letters, digits, - or _")
    return value


def search_id_param(value: Any) -> str:
    if not isinstance(value, str) or not _SEARCH_ID.fullmatch(value):
        raise ApiError(400, "search_id must be the id a search returned")
    return value


def article_id(index: OpenIndex, value: Any) -> str:
    """A published article's id, given as a number or its digits."""
    article = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if article not in index.records:
        raise ApiError(400, "article_id is not a published article")
    return article
