"""Who may see the dashboard: the admin token, typed once into a sign-in form, then a signed
session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS); a CSRF token on every form.

The signing key is derived from KB_ADMIN_TOKEN, so changing the token signs everyone out. The
cookie holds no data but its own random ids, and no session is kept on the server (any
replica takes it): signing out deletes the browser's cookie, and a copy of it works until it
expires (SESSION_SECONDS). Wrong tokens are limited per client, per process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from kb_search.errors import ApiError

SESSION_COOKIE = "kb_admin"
SIGN_IN_COOKIE = "kb_admin_sign_in"  # ties a sign-in form to the browser that loaded it
SESSION_SECONDS = 8 * 3600
SIGN_IN_SECONDS = 3600
PATH = "/admin"
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class Session:
    csrf: str  # the token every form of this session posts back


def _serializer(token: str, purpose: str) -> URLSafeTimedSerializer:
    key = hmac.new(token.encode(), b"kb-admin-" + purpose.encode(), hashlib.sha256).hexdigest()
    return URLSafeTimedSerializer(key, salt=purpose)


def _load(request: Request, token: str, cookie: str, max_age: int) -> dict[str, Any] | None:
    value = request.cookies.get(cookie)
    if not token or not value:
        return None
    try:
        data = _serializer(token, cookie).loads(value, max_age=max_age)
    except BadSignature:  # forged, from an earlier token, or expired (SignatureExpired)
        return None
    return data if isinstance(data, dict) else None


def session(request: Request, token: str) -> Session | None:
    """The signed-in session the request carries, if any."""
    data = _load(request, token, SESSION_COOKIE, SESSION_SECONDS)
    csrf = data.get("csrf") if data else None
    return Session(csrf) if isinstance(csrf, str) else None


def _set(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def start_sign_in(request: Request, response: Response, token: str, csrf: str) -> None:
    """A sign-in form's CSRF value, in a signed cookie of its own."""
    value = _serializer(token, SIGN_IN_COOKIE).dumps({"csrf": csrf})
    _set(response, request, SIGN_IN_COOKIE, value, SIGN_IN_SECONDS)


def sign_in_csrf(request: Request, token: str) -> str | None:
    data = _load(request, token, SIGN_IN_COOKIE, SIGN_IN_SECONDS)
    csrf = data.get("csrf") if data else None
    return csrf if isinstance(csrf, str) else None


def start_session(request: Request, response: Response, token: str) -> None:
    value = _serializer(token, SESSION_COOKIE).dumps({"csrf": new_csrf()})
    _set(response, request, SESSION_COOKIE, value, SESSION_SECONDS)
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True, samesite="strict")


def bearer_matches(request: Request, token: str) -> bool:
    """`Authorization: Bearer <token>` with the admin token (the scheme in any case, RFC 9110):
    the API's and the CLI's way in."""
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(sent, token)


def token_matches(sent: str, token: str) -> bool:
    """Compared as digests, in constant time: not even the token's length shows."""
    digests = (hashlib.sha256(text.encode()).digest() for text in (sent.strip(), token))
    return bool(token) and hmac.compare_digest(*digests)


async def form(request: Request) -> dict[str, str]:
    """A posted form's fields (each once), from this site's own pages only."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise ApiError(415, "a form is posted as application/x-www-form-urlencoded")
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        raise ApiError(403, "posted from a page of another site")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise ApiError(413, f"the form is over {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "the form cannot be read") from None
    found: dict[str, str] = {}
    for name, value in fields:
        if name in found:
            raise ApiError(400, f"{name[:40]!r} is given twice")
        found[name] = value
    return found


def check_csrf(sent: str | None, expected: str | None) -> None:
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(403, "this form has expired or was not sent from the dashboard: reload it")
