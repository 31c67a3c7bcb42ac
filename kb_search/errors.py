"""One JSON error shape for every error the service returns; locked by tests/test_errors.py.

{"ok": false, "error": "query is too long (max 200 characters)", "status": 400}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("kb_search.app")


# The shape above as JSON Schema, for the OpenAPI document: every error answer has it.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "error", "status"],
    "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean", "enum": [False]},
        "error": {"type": "string", "minLength": 1, "description": "what was wrong, in words"},
        "status": {
            "type": "integer",
            "minimum": 400,
            "maximum": 599,
            "description": "the HTTP status code",
        },
    },
}


class ApiError(HTTPException):
    """A client error with a message a person can act on."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(
        {"ok": False, "error": message, "status": status}, status_code=status, headers=headers
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc, ApiError) else _PLAIN.get(exc.status_code, exc.detail)
    return error_response(exc.status_code, message, exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error_response(500, "something went wrong on our side; please try again")


_PLAIN = {
    404: "not found",
    405: "method not allowed",
}
