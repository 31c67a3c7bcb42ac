"""The search service: `create_app(settings)` answers searches and serves the built site.

Searches, clicks and feedback go to the query log without ever delaying or failing a search.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator

from kb_search import search as engine
from kb_search.config import Settings
from kb_search.errors import ApiError, http_error, server_error
from kb_search.index import IndexMissing, LiveIndex, OpenIndex
from kb_search.params import clean_text, int_param, json_body, query_params
from kb_search.querylog import QueryLog, SearchRecord, open_log, to_dict
from kb_search.security import RateLimiter, SecurityHeaders, inline_script_hashes, site_policy
from kb_search.semantic import load_encoder
from kb_search.sitefiles import SiteFiles

log = logging.getLogger("kb_search.app")
PURGE_EVERY_SECONDS = 6 * 3600
MAX_MISSING_LENGTH = 500
_SEARCH_ID = re.compile(r"[0-9a-f]{32}")
_SESSION = re.compile(r"[0-9A-Za-z_-]{8,64}")

schemas = SchemaGenerator(
    {"openapi": "3.0.0", "info": {"title": "Help center search API", "version": "1.0"}}
)


class Service:
    """The parts every request shares; kept on `app.state.service`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index = LiveIndex(settings.index_dir)
        self.log: QueryLog = open_log(settings)
        self.limiter = RateLimiter(settings.rate_limit)
        self.encoder = load_encoder(settings.model_dir) if settings.semantic_weight else None

    def ranker(self, index: OpenIndex) -> str:
        ready = engine.hybrid_ready(index, self.encoder, self.settings.semantic_weight)
        return "hybrid" if ready else "lexical"

    def open_index(self) -> OpenIndex:
        try:
            return self.index.current()
        except IndexMissing as error:
            raise ApiError(503, f"search is not ready: {error}") from None


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def _log_safely(action: str, call: Any, *args: Any) -> None:
    """The log must never break an answer: its failures go to the service log only."""
    try:
        call(*args)
    except Exception:
        log.exception("could not log %s", action)


async def api_search(request: Request) -> Response:
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
    session = params.get("session")
    if session is not None and not _SESSION.fullmatch(session):
        raise ApiError(400, "session must be 8 to 64 letters, digits, - or _")
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
        record = SearchRecord(
            search_id=search_id,
            query=text,
            result_count=answer.total,
            top_result=top,
            category=category,
            corrected=answer.corrected,
            session=session,
        )
        _log_safely("search", svc.log.record_search, record)
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


async def api_suggest(request: Request) -> Response:
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


def _article_id(svc: Service, value: Any) -> str:
    article = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if article not in svc.open_index().records:
        raise ApiError(400, "article_id is not a published article")
    return article


def _search_id(value: Any) -> str:
    if not isinstance(value, str) or not _SEARCH_ID.fullmatch(value):
        raise ApiError(400, "search_id must be the id a search returned")
    return value


def _rate_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = service(request).limiter.retry_after(client)
    if wait:
        raise ApiError(
            429,
            f"too many requests; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )


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
    _rate_limit(request)
    svc = service(request)
    data = await json_body(request, {"search_id", "article_id"})
    search_id = _search_id(data.get("search_id"))
    article = _article_id(svc, data.get("article_id"))
    _log_safely("click", svc.log.record_click, search_id, article)
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
    _rate_limit(request)
    svc = service(request)
    data = await json_body(request, {"article_id", "helpful", "missing", "search_id"})
    article = _article_id(svc, data.get("article_id"))
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise ApiError(400, "helpful must be true or false")
    missing = data.get("missing")
    if missing is not None and not isinstance(missing, str):
        raise ApiError(400, "missing must be text")
    missing = clean_text(missing, "missing", MAX_MISSING_LENGTH) if missing else None
    search_id = _search_id(data["search_id"]) if data.get("search_id") is not None else None
    _log_safely("feedback", svc.log.record_feedback, article, helpful, missing, search_id)
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


async def healthz(request: Request) -> Response:
    """
    summary: Whether the service can answer, and which index it uses.
    responses:
      200: {description: "ok, index version, article count, ranker"}
      503: {description: no index yet}
    """
    svc = service(request)
    index = svc.open_index()
    return JSONResponse(
        {
            "ok": True,
            "index": index.version,
            "articles": len(index.records),
            "ranker": svc.ranker(index),
        }
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(schemas.get_schema(routes=request.app.routes))


async def api_not_found(request: Request) -> Response:
    raise ApiError(404, f"no such API endpoint: {request.url.path}")


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/api/search", api_search, methods=["GET"]),
        Route("/api/suggest", api_suggest, methods=["GET"]),
        Route("/api/click", api_click, methods=["POST"]),
        Route("/api/feedback", api_feedback, methods=["POST"]),
        Route("/api/gaps", api_gaps, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/{rest:path}", api_not_found, include_in_schema=False),
        Mount("/", SiteFiles(directory=settings.site_dir, html=True, check_dir=False)),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = Service(settings)
        app.state.service = svc
        purging = asyncio.create_task(_purge_regularly(svc.log))
        try:
            yield
        finally:
            purging.cancel()
            svc.log.close()  # drains the queue: no logged search is lost on a clean shutdown
            svc.index.close()

    middleware = [
        Middleware(
            SecurityHeaders, site_policy=site_policy(inline_script_hashes(settings.site_dir))
        )
    ]
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
        routes=routes(settings),
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


async def _purge_regularly(query_log: QueryLog) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(query_log.purge)
            if removed:
                log.info("deleted %d logged searches past the retention period", removed)
        except Exception:
            log.exception("could not purge the query log")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
