"""The search service: `create_app(settings)` answers searches and serves the built site.

Searches, clicks and feedback go to the query log without ever delaying or failing a search.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from kb_search import admin_auth, dashboard
from kb_search import metrics as operators_metrics
from kb_search import search as engine
from kb_search.boosts import refresh_regularly
from kb_search.compression import Compression
from kb_search.config import Settings
from kb_search.errors import ERROR_SCHEMA, ApiError, http_error, server_error
from kb_search.metrics import MeasureRequests
from kb_search.params import (
    MAX_BODY_BYTES,
    SEARCH_ID_PATTERN,
    SESSION_PATTERN,
    SOURCES,
    TEXT_PATTERN,
    WORDS_PATTERN,
    article_id,
    choice_param,
    clean_text,
    edition,
    edition_of,
    int_param,
    json_body,
    query_params,
    search_id_param,
    session_param,
)
from kb_search.querylog import SearchEvent
from kb_search.querylog.events import FEEDBACK_REASONS
from kb_search.querylog.writer import StoreBusy
from kb_search.reports import gaps_report
from kb_search.security import SecurityHeaders
from kb_search.service import Service, log_safely, purge_regularly
from kb_search.sitefiles import ReleaseSite
from kb_search.versions import OpenIndex

MAX_MISSING_LENGTH = 500
DEFAULT_LIMIT = 10

schemas = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "Help center search API",
            "version": "1.0",
            "description": (
                "Every error answers one JSON shape, `Error`: {ok: false, error, status}. "
                "A method an endpoint does not have answers 405 with an `Allow` header; "
                "an unknown path under /api/ answers 404. Query parameters not listed are "
                "refused (400), and so is a parameter given twice."
            ),
        },
    }
)


def service(request: Request) -> Service:
    return _service(request.scope)


def _service(scope: Scope) -> Service:
    svc: Service = scope["app"].state.service
    return svc


# Searching is CPU work (Whoosh, the encoder): it runs in threads of its own, so a slow search
# never stalls other requests, and a flood waits in a bounded queue (then 503s) instead of
# taking every thread the pages and /healthz need.
async def api_search(request: Request) -> Response:
    """
    summary: Search the help center in a customer's own words.
    parameters:
      - {name: q, in: query, required: true, schema: {$ref: '#/components/schemas/Query'}}
      - {name: limit, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Limit'}}
      - {name: category, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Category'}, description: "empty: every category"}
      - {name: session, in: query, schema: {$ref: '#/components/schemas/Session'}}
      - {name: typing, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Typing'}}
      - {name: exact, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Exact'}}
      - {name: source, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Source'}}
      - {name: lang, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Language'}}
    responses:
      200:
        description: the best matches first
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [ok, lang, query, corrected, total, search_id, results, elsewhere]
              properties:
                ok: {type: boolean, enum: [true]}
                lang: {type: string, description: the language searched}
                query: {type: string, description: the query as searched (white space collapsed)}
                corrected: {type: string, nullable: true, description: the query with typos fixed}
                total: {type: integer, minimum: 0, description: how many articles are relevant}
                search_id: {$ref: '#/components/schemas/SearchIdOrNull'}
                results: {$ref: '#/components/schemas/Results'}
                elsewhere:
                  type: object
                  nullable: true
                  description: >-
                    when nothing in the language searched matches: the matches in the help
                    center's first language, to be shown marked as in that language (not
                    while typing, nor for agents' or exact searches)
                  additionalProperties: false
                  required: [lang, name, results]
                  properties:
                    lang: {type: string}
                    name: {type: string, description: "the language's own name: English"}
                    results: {$ref: '#/components/schemas/Results'}
      400: {$ref: '#/components/responses/BadRequest'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    return await service(request).compute(_search, request)


def _search(request: Request) -> Response:
    svc = service(request)
    settings = svc.settings
    params = query_params(
        request, {"q", "limit", "category", "session", "typing", "exact", "source", "lang"}
    )
    text = clean_text(params.get("q", ""), "query", settings.max_query_length)
    if not text:
        raise ApiError(400, "q is required: the words to search for")
    limit = int_param(params, "limit", default_limit(settings), 1, settings.max_results)
    # Keystrokes in progress ("wheres", "wheres my") are not what the customer searched for,
    # and a HEAD request sees no results.
    typing = int_param(params, "typing", 0, 0, 1) == 1 or request.method == "HEAD"
    # "Search instead for ...": the customer's words as typed, logged as a search of its own.
    exact = int_param(params, "exact", 0, 0, 1) == 1
    # Support agents search for customers (/agents/): what they type is not a customer's
    # search, so it never enters the query log, the gap report or the click counts.
    by_agent = choice_param(params, "source", SOURCES) == "agents"
    release = svc.open_index()
    index = edition(release, params)
    category = params.get("category") or None
    if category is not None and category not in index.categories:
        raise ApiError(400, f"unknown category '{category[:40]}'")
    session = session_param(params.get("session"))
    answer = engine.search(
        index,
        text,
        limit=limit,
        category=category,
        cache_size=settings.cache_size,
        encoder=svc.encoder,
        semantic_weight=settings.semantic_weight,
        boosts=svc.boosts(index),
        correct=not exact,
    )
    if not typing:
        request.app.state.metrics.searched(index.language.code, answer.total)
    search_id = None if typing or by_agent else uuid.uuid4().hex
    if search_id is not None:
        top = str(answer.results[0].id) if answer.results else None
        event = SearchEvent(
            search_id,
            text,
            answer.total,
            top,
            category,
            answer.corrected,
            session,
            language=index.language.code,
            topic=category or (answer.results[0].category if answer.results else None),
        )
        svc.log_search(request, event)
    return JSONResponse(
        {
            "ok": True,
            "lang": index.language.code,
            "query": text,
            "corrected": answer.corrected,
            "total": answer.total,
            "search_id": search_id,
            "results": [vars(r) for r in answer.results],
            "elsewhere": None
            if answer.results or typing or by_agent or exact
            else _elsewhere(svc, release, index, text),
        }
    )


def _elsewhere(svc: Service, release: OpenIndex, index: OpenIndex, text: str) -> Any:
    """What the first language has for a search that found nothing in another one: a Swedish
    customer may read an English article rather than none (the page marks it as English)."""
    first = release  # the release's own index is its first language's
    if first is index:
        return None
    found = engine.search(first, text, limit=ELSEWHERE_RESULTS, cache_size=svc.settings.cache_size)
    if not found.results:
        return None
    results = [vars(r) for r in found.results]
    return {"lang": first.language.code, "name": first.language_name, "results": results}


async def api_suggest(request: Request) -> Response:
    """
    summary: Article titles for the first keystrokes.
    parameters:
      - {name: q, in: query, required: true, schema: {$ref: '#/components/schemas/Query'}}
      - {name: lang, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Language'}}
    responses:
      200:
        description: titles that start like what was typed, shortest first
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [ok, suggestions]
              properties:
                ok: {type: boolean, enum: [true]}
                suggestions:
                  type: array
                  items:
                    type: object
                    additionalProperties: false
                    required: [id, title, url]
                    properties: {id: {type: integer}, title: {type: string}, url: {type: string}}
      400: {$ref: '#/components/responses/BadRequest'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    return await service(request).compute(_suggest, request)


def _suggest(request: Request) -> Response:
    svc = service(request)
    params = query_params(request, {"q", "lang"})
    text = clean_text(params.get("q", ""), "query", svc.settings.max_query_length)
    if not text:
        raise ApiError(400, "q is required: the words typed so far")
    suggestions = engine.suggest(edition(svc.open_index(), params), text)
    return JSONResponse({"ok": True, "suggestions": suggestions})


async def api_click(request: Request) -> Response:
    """
    summary: A customer opened a search result.
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [search_id, article_id]
            properties:
              search_id: {$ref: '#/components/schemas/SearchId'}
              article_id: {$ref: '#/components/schemas/ArticleId'}
              lang: {$ref: '#/components/schemas/Language'}
              position:
                type: integer
                minimum: 1
                maximum: 100
                description: the result's place in the list it was opened from, from 1
    responses:
      200: {$ref: '#/components/responses/Logged'}
      400: {$ref: '#/components/responses/BadRequest'}
      403: {$ref: '#/components/responses/ForeignOrigin'}
      413: {$ref: '#/components/responses/TooLarge'}
      415: {$ref: '#/components/responses/NotJson'}
      429: {$ref: '#/components/responses/TooManyRequests'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    svc = service(request)
    svc.rate_limit(request)
    data = await json_body(request, {"search_id", "article_id", "lang", "position"})
    search_id = search_id_param(data.get("search_id"))
    index = edition_of(await run_in_threadpool(svc.open_index), data)
    article = article_id(index, data.get("article_id"))
    position = data.get("position")
    if "position" in data and (
        not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 100
    ):
        raise ApiError(400, "position must be a whole number from 1 to 100")
    log_safely(
        "click",
        svc.log.record_click,
        *(search_id, article, index.language.code, position),
        topic=index.records[article]["category"],
    )
    return JSONResponse({"ok": True})


async def api_contact(request: Request) -> Response:
    """
    summary: A visit that searched went on to the contact page or a contact channel.
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [session]
            properties:
              session: {$ref: '#/components/schemas/Session'}
              lang: {$ref: '#/components/schemas/Language'}
    responses:
      200: {$ref: '#/components/responses/Logged'}
      400: {$ref: '#/components/responses/BadRequest'}
      403: {$ref: '#/components/responses/ForeignOrigin'}
      413: {$ref: '#/components/responses/TooLarge'}
      415: {$ref: '#/components/responses/NotJson'}
      429: {$ref: '#/components/responses/TooManyRequests'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    svc = service(request)
    svc.rate_limit(request)
    data = await json_body(request, {"session", "lang"})
    session = data.get("session")
    if not isinstance(session, str):
        raise ApiError(400, "session must be the visit's id its searches sent")
    session_param(session)
    index = edition_of(await run_in_threadpool(svc.open_index), data)
    log_safely("contact", svc.log.record_contact, session, index.language.code)
    return JSONResponse({"ok": True})


async def api_feedback(request: Request) -> Response:
    """
    summary: '"Was this helpful?" for an article, with what was missing.'
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [article_id, helpful]
            properties:
              article_id: {$ref: '#/components/schemas/ArticleId'}
              helpful: {type: boolean}
              missing: {$ref: '#/components/schemas/Missing'}
              reason: {$ref: '#/components/schemas/FeedbackReason'}
              search_id: {$ref: '#/components/schemas/SearchIdOrNull'}
              lang: {$ref: '#/components/schemas/Language'}
    responses:
      200: {$ref: '#/components/responses/Logged'}
      400: {$ref: '#/components/responses/BadRequest'}
      403: {$ref: '#/components/responses/ForeignOrigin'}
      413: {$ref: '#/components/responses/TooLarge'}
      415: {$ref: '#/components/responses/NotJson'}
      429: {$ref: '#/components/responses/TooManyRequests'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    svc = service(request)
    svc.rate_limit(request)
    data = await json_body(
        request, {"article_id", "helpful", "missing", "reason", "search_id", "lang"}
    )
    index = edition_of(await run_in_threadpool(svc.open_index), data)
    article = article_id(index, data.get("article_id"))
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise ApiError(400, "helpful must be true or false")
    missing = data.get("missing")
    if missing is not None and not isinstance(missing, str):
        raise ApiError(400, "missing must be text")
    missing = clean_text(missing, "missing", MAX_MISSING_LENGTH) if missing else None
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or reason not in FEEDBACK_REASONS):
        raise ApiError(400, "reason must be one of " + ", ".join(FEEDBACK_REASONS))
    reason = None if helpful else reason  # a helpful article needs no reason
    search_id = search_id_param(data["search_id"]) if data.get("search_id") is not None else None
    log_safely(
        "feedback",
        svc.log.record_feedback,
        *(article, helpful, missing, search_id, reason),
        language=index.language.code,
        topic=index.records[article]["category"],
    )
    return JSONResponse({"ok": True})


def api_gaps(request: Request) -> Response:  # slow on a big log: Starlette runs it in a thread
    """
    summary: What customers could not find (admin token required), in one language.
    security: [{bearer: []}]
    parameters:
      - {name: limit, in: query, allowEmptyValue: true,
         schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
      - {name: lang, in: query, allowEmptyValue: true,
         schema: {$ref: '#/components/schemas/Language'},
         description: "whose searches and feedback: empty, the first language's"}
    responses:
      200:
        description: searches that found nothing, that no one clicked, articles voted down
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [ok, language, unanswered, no_click, not_helpful]
              properties:
                ok: {type: boolean, enum: [true]}
                language: {type: string, description: the language of the report}
                unanswered: {type: array, items: {$ref: '#/components/schemas/GapGroup'}}
                no_click: {type: array, items: {$ref: '#/components/schemas/GapGroup'}}
                not_helpful:
                  type: array
                  items:
                    type: object
                    additionalProperties: false
                    required: [article_id, not_helpful, helpful, missing, reasons]
                    properties:
                      article_id: {type: string}
                      not_helpful: {type: integer, minimum: 0}
                      helpful: {type: integer, minimum: 0}
                      missing: {type: array, items: {type: string}, description: redacted}
                      reasons:
                        type: object
                        description: how many said why, by reason
                        additionalProperties: {type: integer, minimum: 1}
      400: {$ref: '#/components/responses/BadRequest'}
      401: {$ref: '#/components/responses/Unauthorized'}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    svc = service(request)
    require_admin(request, svc.settings.admin_token)
    params = query_params(request, {"limit", "lang"})
    limit = int_param(params, "limit", 50, 1, 500)
    release = svc.open_index()
    language = edition(release, params).language.code  # an unknown one is a 400
    try:
        report = gaps_report(svc.log, release, limit, language)
    except StoreBusy as error:
        raise ApiError(503, f"the gap report is not available just now: {error}") from None
    return JSONResponse({"ok": True, **report})


def require_admin(request: Request, token: str) -> None:
    if not admin_auth.bearer_matches(request, token):
        raise ApiError(
            401,
            "an admin token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def metrics(request: Request) -> Response:
    svc = service(request)
    if not operators_metrics.allowed(request, svc.settings.admin_token, svc.settings.metrics_from):
        raise ApiError(
            401,
            "metrics need the admin token (Authorization: Bearer <token>), or an address "
            "KB_METRICS_FROM lists",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return operators_metrics.metrics_response(request.app.state.metrics)


async def healthz(request: Request) -> Response:
    """
    summary: Whether the service can answer, which release it serves, and what is wrong.
    responses:
      200:
        description: the service answers; `degraded` says something needs a look
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [ok, status, problems, index, articles, ranker, site, log,
                searches_not_logged]
              properties:
                ok: {type: boolean, enum: [true]}
                status: {type: string, enum: [ok, degraded]}
                problems: {type: array, items: {type: string}}
                index: {type: string, description: the release served}
                articles: {type: integer, minimum: 0}
                ranker: {type: string, enum: [hybrid, lexical]}
                site: {type: boolean, description: whether the release has its site}
                log:
                  type: object
                  description: the query log; each backend adds its own details
                  required: [backend, queued, written, dropped, retrying, last_error]
                  properties:
                    backend: {type: string}
                    queued: {type: integer, minimum: 0}
                    written: {type: integer, minimum: 0}
                    dropped: {type: integer, minimum: 0}
                    retrying: {type: boolean}
                    last_error: {type: string, nullable: true}
                searches_not_logged: {type: integer, minimum: 0,
                  description: "answered but not logged: their client sent too many"}
      500: {$ref: '#/components/responses/ServerError'}
      503: {$ref: '#/components/responses/Unavailable'}
    """
    return JSONResponse(await run_in_threadpool(service(request).health))


def default_limit(settings: Settings) -> int:
    return min(DEFAULT_LIMIT, settings.max_results)


async def openapi(request: Request) -> Response:
    """The handlers' docstrings, with the components they refer to: the limits come from the
    settings, the categories and article ids from the release served now."""
    svc = service(request)
    try:
        index: OpenIndex | None = await run_in_threadpool(svc.open_index)
    except ApiError:
        index = None  # the document still answers, without the release's categories and ids
    document = schemas.get_schema(routes=request.app.routes)
    document["components"] = components(svc.settings, index)
    return JSONResponse(document)


RESULTS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            *("id", "title", "url", "anchor", "summary", "snippet", "category"),
            *("category_title", "score"),
        ],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "url": {"type": "string", "description": "relative to the site: returns/policy/"},
            "anchor": {"type": "string", "nullable": True, "description": "the section matched"},
            "summary": {"type": "string"},
            "snippet": {"type": "string", "description": "HTML: matched words in <mark>"},
            "category": {"type": "string"},
            "category_title": {"type": "string"},
            "score": {"type": "number"},
        },
    },
}
# How many of the first language's articles a search that found nothing in another offers.
ELSEWHERE_RESULTS = 3


def _error(description: str, **headers: str) -> dict[str, Any]:
    """An error answer (the one shape) with the headers it always has."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = {
            name: {"required": True, "description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def components(settings: Settings, index: OpenIndex | None) -> dict[str, Any]:
    """What the endpoints' docstrings refer to: the rules kb_search.params enforces."""
    if index is not None:
        ids = sorted(index.records, key=int)
        article: dict[str, Any] = {
            "oneOf": [
                {"type": "integer", "enum": [int(i) for i in ids]},
                {"type": "string", "enum": ids},
            ]
        }
        category: dict[str, Any] = {"type": "string", "enum": sorted(index.categories)}
        languages: dict[str, Any] = {"type": "string", "enum": ["", *index.editions]}
    else:
        article = {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}
        category = {"type": "string"}
        languages = {"type": "string"}
    search_id = {
        "type": "string",
        "pattern": SEARCH_ID_PATTERN,
        "description": "the search_id a search answered",
    }
    return {
        "schemas": {
            "Error": ERROR_SCHEMA,
            "Query": {
                "type": "string",
                "maxLength": settings.max_query_length,
                "pattern": WORDS_PATTERN,
                "description": "words, not only white space; no control characters",
            },
            "Limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_results,
                "default": default_limit(settings),
            },
            "Category": category | {"description": "a category of the release served"},
            "Session": {
                "type": "string",
                "pattern": SESSION_PATTERN,
                "description": "a random id per visit, to tell visits apart without a cookie",
            },
            "Typing": {
                "type": "integer",
                "enum": [0, 1],
                "default": 0,
                "description": "1 while the customer is still typing: answered, not logged",
            },
            "Exact": {
                "type": "integer",
                "enum": [0, 1],
                "default": 0,
                "description": "1: the words exactly as sent, no typo correction (corrected "
                "is null): the customer's 'Search instead for ...'",
            },
            "Source": {
                "type": "string",
                "enum": list(SOURCES),
                "default": SOURCES[0],
                "description": "agents: a support agent's search (the /agents/ page), answered "
                "but never logged (search_id is null)",
            },
            "Language": languages
            | {"description": "the language to search (its edition); empty: the first"},
            "Results": RESULTS_SCHEMA,
            "SearchId": search_id,
            "SearchIdOrNull": search_id
            | {"nullable": True, "description": "null: a search while typing, or none"},
            "ArticleId": article
            | {"description": "a published article's id, as a number or its digits"},
            "FeedbackReason": {
                "type": "string",
                "nullable": True,
                "enum": [*FEEDBACK_REASONS, None],
                "description": "why it was not helpful, as the page offers it (ignored when "
                "helpful is true)",
            },
            "Missing": {
                "type": "string",
                "nullable": True,
                "maxLength": MAX_MISSING_LENGTH,
                "pattern": TEXT_PATTERN,
                "description": "what the article lacked (redacted before it is stored)",
            },
            "GapGroup": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "count", "first_seen", "last_seen", "examples"],
                "properties": {
                    "key": {"type": "string", "description": "the searches' normalised words"},
                    "count": {"type": "integer", "minimum": 1},
                    "first_seen": {"type": "string", "format": "date-time"},
                    "last_seen": {"type": "string", "format": "date-time"},
                    "examples": {"type": "array", "items": {"type": "string"}},
                    "closest_article": {"type": "string", "nullable": True},
                    "mark": {
                        "type": "object",
                        "nullable": True,
                        "description": "a writer marked it answered by an article, or noise",
                        "additionalProperties": False,
                        "required": ["state", "article_id", "at"],
                        "properties": {
                            "state": {"type": "string", "enum": ["answered", "dismissed"]},
                            "article_id": {"type": "string", "nullable": True},
                            "at": {"type": "string", "format": "date-time"},
                        },
                    },
                },
            },
        },
        "responses": {
            "Logged": {
                "description": "logged",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["ok"],
                            "properties": {"ok": {"type": "boolean", "enum": [True]}},
                        }
                    }
                },
            },
            "BadRequest": _error("a parameter or the body breaks the rules above"),
            "Unauthorized": _error(
                "no admin token, or the wrong one", **{"WWW-Authenticate": "Bearer"}
            ),
            "TooLarge": _error(f"the body is over {MAX_BODY_BYTES} bytes"),
            "NotJson": _error("the body is not sent as Content-Type: application/json"),
            "ForeignOrigin": _error("posted from a page of another site (see KB_CORS_ORIGINS)"),
            "TooManyRequests": _error(
                f"over {settings.rate_limit} requests from this client in a minute",
                **{"Retry-After": "seconds to wait"},
            ),
            "ServerError": _error("a bug: the service log has the details"),
            "Unavailable": _error("no release of the index can be opened, or search is busy"),
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


class ApiRoute(Route):
    """A route that owns its path for every method: a method it lacks gets the API's JSON 405
    with an Allow header (Route.handle raises it), never what the static site would answer."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child_scope


async def api_not_found(scope: Scope, receive: Receive, send: Send) -> None:
    raise ApiError(404, f"no such API endpoint: {scope['path']}")


def routes(site: ReleaseSite) -> list[BaseRoute]:
    return [
        ApiRoute("/api/search", api_search, methods=["GET"]),
        ApiRoute("/api/suggest", api_suggest, methods=["GET"]),
        ApiRoute("/api/click", api_click, methods=["POST"]),
        ApiRoute("/api/feedback", api_feedback, methods=["POST"]),
        ApiRoute("/api/contact", api_contact, methods=["POST"]),
        ApiRoute("/api/gaps", api_gaps, methods=["GET"]),
        ApiRoute("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        ApiRoute("/healthz", healthz, methods=["GET"]),
        ApiRoute("/metrics", metrics, methods=["GET"], include_in_schema=False),
        Mount("/api", app=api_not_found),  # any other path under /api/, with any method
        *dashboard.routes(),
        Mount("/", site),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    watched = operators_metrics.Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = Service(settings)
        app.state.service = svc
        app.state.metrics = watched
        watched.watch(svc.health)
        purging = asyncio.create_task(purge_regularly(svc.log))
        learned = list(svc.learned.values())
        learning = asyncio.create_task(refresh_regularly(learned, svc.index)) if learned else None
        try:
            yield
        finally:
            purging.cancel()
            if learning:
                learning.cancel()
            # Drains what is waiting: no logged search is lost on a clean shutdown.
            await asyncio.to_thread(svc.log.close)
            svc.index.close()

    middleware = [
        Middleware(MeasureRequests, metrics=watched, log_requests=settings.request_log),
        # API answers and any page without a precompressed copy (a site not built by
        # `kb release`); SiteFiles' .br/.gz copies pass through as they are. Skips answers
        # under 500 bytes and images.
        Middleware(Compression, minimum_size=500, compresslevel=6),
        Middleware(SecurityHeaders, site_policy=lambda scope: _service(scope).site_policy()),
    ]
    if settings.trusted_proxies:
        middleware.insert(
            0, Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
        )
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type"],
                max_age=600,
            )
        )
    return Starlette(
        routes=routes(ReleaseSite(lambda scope: _service(scope).site_files())),
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            dashboard.SignInFirst: dashboard.sign_in_first,
            Exception: server_error,
        },
    )
