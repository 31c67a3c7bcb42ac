"""The search service: `create_app(settings)` answers searches and serves the built site.

Searches, clicks and feedback go to the query log without ever delaying or failing a search.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
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
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from kb_search import search as engine
from kb_search.config import Settings
from kb_search.errors import ApiError, http_error, server_error
from kb_search.params import (
    article_id,
    clean_text,
    int_param,
    json_body,
    query_params,
    search_id_param,
    session_param,
)
from kb_search.querylog import QueryLog, SearchEvent, to_dict
from kb_search.security import SecurityHeaders
from kb_search.service import Service, log_safely, purge_regularly
from kb_search.sitefiles import ReleaseSite
from kb_search.versions import OpenIndex

MAX_MISSING_LENGTH = 500

schemas = SchemaGenerator(
    {"openapi": "3.0.0", "info": {"title": "Help center search API", "version": "1.0"}}
)


def service(request: Request) -> Service:
    return _service(request.scope)


def _service(scope: Scope) -> Service:
    svc: Service = scope["app"].state.service
    return svc


# Handlers that search are plain functions: Starlette runs them in its thread pool, so a slow
# search (Whoosh and the encoder are CPU work) never stalls other requests or static files.
def api_search(request: Request) -> Response:
    """
    summary: Search the help center in a customer's own words.
    parameters:
      - {name: q, in: query, required: true, schema: {type: string, maxLength: 200}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 20, default: 10}}
      - {name: category, in: query, schema: {type: string}}
      - {name: session, in: query, schema: {type: string}, description: a random id per visit}
      - {name: typing, in: query, schema: {type: integer, enum: [0, 1]},
         description: "1 while the customer is still typing: answered, not logged"}
    responses:
      200: {description: "results (id, title, url, anchor, summary, snippet, category, score),
        total, corrected query, search_id"}
      400: {description: "bad query: {ok: false, error, status}"}
    """
    svc = service(request)
    settings = svc.settings
    params = query_params(request, {"q", "limit", "category", "session", "typing"})
    text = clean_text(params.get("q", ""), "query", settings.max_query_length)
    if not text:
        raise ApiError(400, "q is required: the words to search for")
    limit = int_param(params, "limit", 10, 1, settings.max_results)
    # Keystrokes in progress ("wheres", "wheres my") are not what the customer searched for.
    typing = int_param(params, "typing", 0, 0, 1) == 1
    index = svc.open_index()
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
    )
    search_id = None if typing else uuid.uuid4().hex
    if search_id is not None:
        top = str(answer.results[0].id) if answer.results else None
        event = SearchEvent(search_id, text, answer.total, top, category, answer.corrected, session)
        svc.log_search(request, event)
    return JSONResponse(
        {
            "ok": True,
            "query": text,
            "corrected": answer.corrected,
            "total": answer.total,
            "search_id": search_id,
            "results": [vars(r) for r in answer.results],
        }
    )


def api_suggest(request: Request) -> Response:
    """
    summary: Article titles for the first keystrokes.
    parameters:
      - {name: q, in: query, required: true, schema: {type: string, maxLength: 200}}
    responses:
      200: {description: "suggestions: id, title, url"}
    """
    svc = service(request)
    params = query_params(request, {"q"})
    text = clean_text(params.get("q", ""), "query", svc.settings.max_query_length)
    suggestions = engine.suggest(svc.open_index(), text) if text else []
    return JSONResponse({"ok": True, "suggestions": suggestions})


async def api_click(request: Request) -> Response:
    """
    summary: A customer opened a search result.
    requestBody:
      content: {application/json: {schema: {type: object, required: [search_id, article_id],
        properties: {search_id: {type: string}, article_id: {type: integer}}}}}
    responses:
      200: {description: logged}
      429: {description: too many requests from this client}
    """
    svc = service(request)
    svc.rate_limit(request)
    data = await json_body(request, {"search_id", "article_id"})
    search_id = search_id_param(data.get("search_id"))
    index = await run_in_threadpool(svc.open_index)
    article = article_id(index, data.get("article_id"))
    log_safely("click", svc.log.record_click, search_id, article)
    return JSONResponse({"ok": True})


async def api_feedback(request: Request) -> Response:
    """
    summary: '"Was this helpful?" for an article, with what was missing.'
    requestBody:
      content: {application/json: {schema: {type: object, required: [article_id, helpful],
        properties: {article_id: {type: integer}, helpful: {type: boolean},
        missing: {type: string, maxLength: 500}, search_id: {type: string}}}}}
    responses:
      200: {description: logged (free text is redacted before it is stored)}
      429: {description: too many requests from this client}
    """
    svc = service(request)
    svc.rate_limit(request)
    data = await json_body(request, {"article_id", "helpful", "missing", "search_id"})
    index = await run_in_threadpool(svc.open_index)
    article = article_id(index, data.get("article_id"))
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise ApiError(400, "helpful must be true or false")
    missing = data.get("missing")
    if missing is not None and not isinstance(missing, str):
        raise ApiError(400, "missing must be text")
    missing = clean_text(missing, "missing", MAX_MISSING_LENGTH) if missing else None
    search_id = search_id_param(data["search_id"]) if data.get("search_id") is not None else None
    log_safely("feedback", svc.log.record_feedback, article, helpful, missing, search_id)
    return JSONResponse({"ok": True})


def api_gaps(request: Request) -> Response:  # slow on a big log: Starlette runs it in a thread
    """
    summary: What customers could not find (admin token required).
    security: [{bearer: []}]
    responses:
      200: {description: "unanswered, no_click and not_helpful groups"}
      401: {description: missing or wrong token}
    """
    svc = service(request)
    require_admin(request, svc.settings.admin_token)
    params = query_params(request, {"limit"})
    limit = int_param(params, "limit", 50, 1, 500)
    report = gaps_report(svc.log, svc.open_index(), limit)
    return JSONResponse({"ok": True, **report})


def gaps_report(query_log: QueryLog, index: OpenIndex, limit: int) -> dict[str, Any]:
    """The log's gap report, each group with the closest existing article, if any."""
    report = query_log.gaps(limit=limit)
    for group in [*report.unanswered, *report.no_click]:
        # Past retention a group keeps only its key (redacted, normalised words): search that.
        closest = engine.search(index, group.examples[0] if group.examples else group.key, limit=1)
        if closest.results:
            group.closest_article = str(closest.results[0].id)
    return to_dict(report)


def require_admin(request: Request, token: str) -> None:
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {token}"
    if not token or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            401,
            "an admin token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def healthz(request: Request) -> Response:
    """
    summary: Whether the service can answer, which release it serves, and what is wrong.
    responses:
      200: {description: "ok, status (ok or degraded), problems, index version, article count,
        ranker, site, log (backend, queued, written, dropped, retrying, last_error)"}
      503: {description: no release can be served}
    """
    return JSONResponse(service(request).health())


async def openapi(request: Request) -> Response:
    return JSONResponse(schemas.get_schema(routes=request.app.routes))


async def api_not_found(request: Request) -> Response:
    raise ApiError(404, f"no such API endpoint: {request.url.path}")


def routes(site: ReleaseSite) -> list[BaseRoute]:
    return [
        Route("/api/search", api_search, methods=["GET"]),
        Route("/api/suggest", api_suggest, methods=["GET"]),
        Route("/api/click", api_click, methods=["POST"]),
        Route("/api/feedback", api_feedback, methods=["POST"]),
        Route("/api/gaps", api_gaps, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/{rest:path}", api_not_found, include_in_schema=False),
        Mount("/", site),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = Service(settings)
        app.state.service = svc
        purging = asyncio.create_task(purge_regularly(svc.log))
        try:
            yield
        finally:
            purging.cancel()
            # Drains what is waiting: no logged search is lost on a clean shutdown.
            await asyncio.to_thread(svc.log.close)
            svc.index.close()

    middleware = [
        Middleware(SecurityHeaders, site_policy=lambda scope: _service(scope).site_policy())
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
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
