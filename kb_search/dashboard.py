"""`/admin/`: the insights dashboard for writers and operators, served by the service only.

What customers searched, found, missed and thought over a period beside the period before,
from the log's daily figures (kb_search.querylog.insights); each gap group's life, and whether
the article that answers it helped. Pages are drawn on the server (Jinja, autoescaped; charts
as SVG, kb_search.charts) and run no script; every table is also a CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from kb_search import admin_auth, charts
from kb_search import search as engine
from kb_search.errors import ApiError
from kb_search.params import query_params
from kb_search.querylog.gaps import MAX_EXAMPLES, normalise
from kb_search.querylog.insights import (
    MAX_CUSTOM_DAYS,
    PAST_RETENTION,
    PERIODS,
    GapLife,
    Insights,
    Period,
    gap_lives,
    gap_series,
    insights,
)
from kb_search.reports import language_name, spreadsheet_cell
from kb_search.service import Service
from kb_search.versions import OpenIndex

DEFAULT_PERIOD = 30
CACHE_SECONDS = 60
EARLIEST_YEAR = 2000  # no figure is older; and the period before must still be a date
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
TABLES = ("days", "searches", "zero-results", "no-clicks", "articles", "gaps")


@cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("kb_search", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    none = "\N{EN DASH}"  # no figure: nothing to divide by
    env.filters["percent"] = lambda v: none if v is None else f"{v:.1%}"
    env.filters["number"] = lambda v: (
        none if v is None else f"{v:,.0f}".replace(",", "\N{THIN SPACE}")
    )
    env.filters["decimal"] = lambda v: none if v is None else f"{v:.2f}"
    return env


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _signed_in(request: Request) -> tuple[Service, admin_auth.Session]:
    svc = _service(request)
    found = admin_auth.session(request, _dashboard_on(svc))
    if found is None:
        raise SignInFirst(request)
    return svc, found


class SignInFirst(Exception):
    """No valid session: answered with a redirect to the sign-in form (`sign_in_first`)."""

    def __init__(self, request: Request) -> None:
        self.target = request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _to_sign_in(target: str) -> RedirectResponse:
    return RedirectResponse(
        "/admin/sign-in?" + urlencode({"next": target}), status_code=303, headers=HEADERS
    )


def _next(target: str | None) -> str:
    """Where to go after signing in: a dashboard page, never another site."""
    if target and target.startswith("/admin/") and "//" not in target and "\\" not in target:
        return target
    return "/admin/"


# --- filters --------------------------------------------------------------------------------


def _date(params: dict[str, str], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(params[name])
    except (KeyError, ValueError):
        raise ApiError(400, f"{name} must be a date written YYYY-MM-DD") from None


def _filters(
    params: dict[str, str], release: OpenIndex, today: dt.date
) -> tuple[Period, str, str | None, str]:
    """(period, language, category, the period's name) of the page's query."""
    chosen = params.get("period") or str(DEFAULT_PERIOD)
    if chosen == "custom":
        period = Period(_date(params, "from"), _date(params, "to"))
        if period.days < 1 or period.days > MAX_CUSTOM_DAYS:
            raise ApiError(400, f"from must come before to, at most {MAX_CUSTOM_DAYS} days before")
        if period.start.year < EARLIEST_YEAR or period.end > today + dt.timedelta(days=366):
            raise ApiError(400, f"the dates must be from {EARLIEST_YEAR} to next year")
    elif chosen in {str(days) for days in PERIODS}:
        period = Period.last(int(chosen), today)
    else:
        raise ApiError(400, "period must be one of 7, 30, 90 or custom")
    language = params.get("lang") or release.language.code
    if language not in release.editions:
        raise ApiError(400, f"lang must be one of: {', '.join(release.editions)}")
    category = params.get("category") or None
    if category is not None and category not in release.in_language(language).categories:
        raise ApiError(400, f"unknown category '{category[:40]}'")
    return period, language, category, chosen


def _articles(index: OpenIndex) -> dict[str, tuple[str, str]]:
    return {i: (r["title"], r["category"]) for i, r in index.records.items()}


def _answers(index: OpenIndex) -> dict[str, tuple[str, dt.date]]:
    """Normalised form -> (article, date) for the searches published articles answer: a
    `kb draft` article keeps its gap's searches in `queries`."""
    found = {}
    for article, record in index.records.items():
        reviewed = record.get("reviewed")
        for query in record.get("queries", ()):
            if reviewed:
                found[normalise(query, index.language.code)] = (
                    article,
                    dt.date.fromisoformat(reviewed),
                )
    return found


def _categories(index: OpenIndex) -> list[tuple[str, str]]:
    titles = {r["category"]: r["category_title"] for r in index.records.values()}
    return sorted(titles.items(), key=lambda item: item[1])


class InsightsCache:
    """The figures of each filter set for CACHE_SECONDS: a writer going back and forth between
    the dashboard and its gaps does not count a million searches again each time (a mark
    clears it). Kept per process, in memory."""

    def __init__(self) -> None:
        self._found: dict[tuple[Any, ...], tuple[float, Insights]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], Insights]) -> Insights:
        now = time.monotonic()
        with self._lock:
            kept = self._found.get(key)
        if kept and now - kept[0] < CACHE_SECONDS:
            return kept[1]
        found = compute()
        with self._lock:
            self._found = {k: v for k, v in self._found.items() if now - v[0] < CACHE_SECONDS}
            self._found[key] = (now, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


def _cache(request: Request) -> InsightsCache:
    state = request.app.state
    if not hasattr(state, "insights_cache"):
        state.insights_cache = InsightsCache()
    cache: InsightsCache = state.insights_cache
    return cache


def _compute(svc: Service, params: dict[str, str], cache: InsightsCache) -> dict[str, Any]:
    release = svc.open_index()
    today = _today()
    period, language, category, chosen = _filters(params, release, today)
    index = release.in_language(language)
    found = cache.get(
        (release.version, language, category, period, today),
        lambda: insights(
            svc.log.store, period, language, category, _articles(index), _answers(index), today
        ),
    )
    return {
        "found": found,
        "chosen": chosen,
        "index": index,
        "languages": [(code, language_name(code)) for code in release.editions],
        "categories": _categories(index),
        "query": {
            k: v
            for k, v in params.items()
            if k in {"period", "from", "to", "lang", "category"} and v
        },
        "today": today,
    }


def _charts(found: Insights) -> dict[str, Any]:
    days = [day for day, _ in found.days]
    rates = [figures.rates for _, figures in found.days]
    return {
        "searches": charts.day_chart(
            "Searches per day, with the zero-result and no-click rates",
            days,
            charts.Series("searches", [f.searches for _, f in found.days]),
            [
                charts.Series("zero-result rate", [r["zero_result_rate"] for r in rates]),
                charts.Series("no-click rate", [r["no_click_rate"] for r in rates]),
            ],
        ),
        "clicks": charts.day_chart(
            "Click-through rate and self-service share per day",
            days,
            None,
            [
                charts.Series("click-through rate", [r["click_through_rate"] for r in rates]),
                charts.Series("self-service share", [r["self_service_share"] for r in rates]),
            ],
        ),
        "position": charts.day_chart(
            "Average position of the results opened, per day",
            days,
            None,
            [charts.Series("average click position", [r["average_click_position"] for r in rates])],
            line_format="{:.1f}",
            line_top=None,
        ),
        "gaps": charts.before_after(
            "Zero-result rate of each answered gap, before and since its answer",
            [
                (g.example, g.before.zero_result_rate, g.after.zero_result_rate)
                for g in found.gaps
                if g.before is not None and g.after is not None and g.after.days
            ],
        ),
    }


def _change(now: float | None, before: float | None, rate: bool) -> str:
    if now is None or before is None:
        return "no figure to compare"
    if rate:
        points = (now - before) * 100
        return "no change" if abs(points) < 0.05 else f"{points:+.1f} points"
    if before == 0:
        return "new" if now else "no change"
    return f"{(now - before) / before:+.0%}"


# The figures at the top: label, figure, how it is written, whether more is better.
HEADLINE = (
    ("Searches", "searches", "number", None),
    ("Zero-result rate", "zero_result_rate", "percent", False),
    ("No-click rate", "no_click_rate", "percent", False),
    ("Click-through rate", "click_through_rate", "percent", True),
    ("Average click position", "average_click_position", "decimal", False),
    ("Found it helpful", "helpful_share", "percent", True),
    ("Self-service", "self_service_share", "percent", True),
)


def _headline(found: Insights) -> list[dict[str, Any]]:
    """This period's figures, the period before's, and the change."""
    figures = []
    for label, name, kind, more_is_better in HEADLINE:
        now, before = ({**f.counts, **f.rates}[name] for f in (found.total, found.previous))
        better = None
        if now is not None and before is not None and now != before and more_is_better is not None:
            better = (now > before) == more_is_better
        change = _change(now, before, kind == "percent")
        figures.append({"label": label, "value": now, "previous": before, "kind": kind,
                        "change": change, "better": better})  # fmt: skip
    return figures


# --- pages ----------------------------------------------------------------------------------


async def dashboard(request: Request) -> Response:
    svc, signed_in = _signed_in(request)
    params = query_params(request, {"period", "from", "to", "lang", "category"})
    context = await run_in_threadpool(_compute, svc, params, _cache(request))
    return _page(
        "dashboard.html",
        session_csrf=signed_in.csrf,
        charts=_charts(context["found"]),
        figures=_headline(context["found"]),
        periods=PERIODS,
        **context,
    )


def _gap(svc: Service, params: dict[str, str]) -> dict[str, Any]:
    release = svc.open_index()
    today = _today()
    _, language, category, _ = _filters({"lang": params.get("lang", "")}, release, today)
    key = params.get("key", "")
    if not key or len(key) > 300:
        raise ApiError(400, "key must be a gap group's key")
    index = release.in_language(language)
    store = svc.log.store
    lives = gap_lives(store, language, category, today, _answers(index), only=key)
    life = lives[0] if lives else None  # None: a group that always found something
    members = life.members if life else [key]
    series = gap_series(store, members, language, None)
    if not series and life is None:
        raise ApiError(404, "no searches of that group are kept")
    start = min(series) if series else today
    period = Period(max(start, today - dt.timedelta(days=365)), today)
    days = period.each_day()
    counts = [series.get(day, (0, 0, 0)) for day in days]
    examples = store.gap_examples(members, language)
    texts = sorted((e for m in members for e in examples.get(m, [])), key=lambda e: e[1])
    example_texts = list(dict.fromkeys(t for t, _ in reversed(texts)))[:MAX_EXAMPLES]
    if not example_texts:  # a group that found something, or whose examples were not kept
        example_texts = list(store.latest_queries(members[:MAX_EXAMPLES], language).values())
    text = example_texts[0] if example_texts else key
    if life is None:  # a group that always found something: its figures from its days
        life = GapLife(key, key, start, max(series, default=start),
                       sum(c[0] for c in series.values()), 0, members)  # fmt: skip
    life.example = text if example_texts or key[:1] != "#" else PAST_RETENTION
    closest = engine.search(index, text, limit=3, cache_size=1024).results if key[:1] != "#" else []
    chart = charts.day_chart(
        f"Searches of “{life.example}” per day, and how many found nothing",
        days,
        charts.Series("searches", [c[0] for c in counts]),
        [charts.Series("zero-result rate", [c[1] / c[0] if c[0] else None for c in counts])],
        marker=life.marked if life.state == "answered" else None,
    )
    return {
        "key": key,
        "life": life,
        "language": language,
        "examples": example_texts,
        "closest": closest,
        "articles": sorted(((i, t) for i, (t, _) in _articles(index).items()), key=lambda a: a[1]),
        "chart": chart,
        "rows": [(day, *c) for day, c in zip(days, counts, strict=True) if c[0]],
    }


async def gap_page(request: Request) -> Response:
    svc, signed_in = _signed_in(request)
    params = query_params(request, {"lang", "key"})
    context = await run_in_threadpool(_gap, svc, params)
    return _page("gap.html", session_csrf=signed_in.csrf, **context)


async def mark_gap(request: Request) -> Response:
    svc, signed_in = _signed_in(request)
    fields = await admin_auth.form(request)
    admin_auth.check_csrf(fields.get("csrf"), signed_in.csrf)
    release = await run_in_threadpool(svc.open_index)
    language = fields.get("lang", "")
    if language not in release.editions:
        raise ApiError(400, f"lang must be one of: {', '.join(release.editions)}")
    key = fields.get("key", "")
    if not key or len(key) > 300:
        raise ApiError(400, "key must be a gap group's key")
    action = fields.get("action", "")
    article: str | None = None
    if action == "answered":
        article = fields.get("article", "")
        if article not in release.in_language(language).records:
            raise ApiError(400, "article must be a published article of that language")
    elif action not in ("dismissed", "reopen"):
        raise ApiError(400, "action must be answered, dismissed or reopen")
    state = None if action == "reopen" else action
    now = dt.datetime.now(dt.UTC)
    try:
        await run_in_threadpool(svc.log.store.mark_gap, language, key, state, article, now)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    _cache(request).clear()
    target = "/admin/gap?" + urlencode({"lang": language, "key": key})
    return RedirectResponse(target, status_code=303, headers=HEADERS)


# --- CSV ------------------------------------------------------------------------------------


def _rows(found: Insights, table: str) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
    if table == "days":
        names = ["day", "searches", "zero_results", "clicked_searches", "clicks", "helpful",
                 "not_helpful", "visits", "self_served", "zero_result_rate", "no_click_rate",
                 "click_through_rate", "average_click_position", "self_service_share"]  # fmt: skip
        return names, (
            [
                day.isoformat(),
                *(f.counts[n] for n in names[1:9]),
                *(f.rates[n] for n in names[9:]),
            ]
            for day, f in found.days
        )
    if table in ("searches", "zero-results", "no-clicks"):
        terms = {"searches": found.top_searches, "zero-results": found.top_zero,
                 "no-clicks": found.top_no_click}[table]  # fmt: skip
        names = ["group", "example", "count", "previous_period", "searches", "forms"]
        return names, (
            [t.key, t.example, t.count, t.previous, t.searches, " | ".join(t.members)]
            for t in terms
        )
    if table == "articles":
        names = ["article", "title", "category", "clicks", "helpful", "not_helpful",
                 "helpful_share", "missing"]  # fmt: skip
        return names, (
            [
                a.article_id,
                a.title,
                a.category,
                a.clicks,
                a.helpful,
                a.not_helpful,
                a.helpful_share,
                " | ".join(a.missing),
            ]
            for a in found.articles
        )
    names = ["group", "example", "first_seen", "last_seen", "searches", "zero_results",
             "state", "article", "marked", "zero_result_rate_before", "zero_result_rate_after",
             "no_click_rate_before", "no_click_rate_after", "window_days"]  # fmt: skip
    return names, (
        [g.key, g.example, g.first_seen, g.last_seen, g.searches, g.zero_results, g.state or "open",
         g.article_id, g.marked,
         *((g.before.zero_result_rate, g.after.zero_result_rate, g.before.no_click_rate,
            g.after.no_click_rate, g.after.days) if g.before and g.after else ("",) * 5)]
        for g in found.gaps
    )  # fmt: skip


async def export(request: Request) -> Response:
    svc, _ = _signed_in(request)
    table = request.path_params["table"]
    if table not in TABLES:
        raise ApiError(404, f"no such table; one of: {', '.join(TABLES)}")
    params = query_params(request, {"period", "from", "to", "lang", "category"})
    context = await run_in_threadpool(_compute, svc, params, _cache(request))
    found: Insights = context["found"]
    names, rows = _rows(found, table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    name = f"{table}-{found.language}-{found.period.start}-{found.period.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- signing in -----------------------------------------------------------------------------


def _dashboard_on(svc: Service) -> str:
    if not svc.settings.admin_token:
        raise ApiError(404, "the dashboard is off: set KB_ADMIN_TOKEN to turn it on")
    return svc.settings.admin_token


def _sign_in_form(
    request: Request, token: str, target: str, problem: str | None = None, status: int = 200
) -> Response:
    """The sign-in form, with a CSRF value of its own in a cookie."""
    csrf = admin_auth.new_csrf()
    response = _page("sign_in.html", status, next=target, problem=problem, csrf=csrf)
    admin_auth.start_sign_in(request, response, token, csrf)
    return response


async def sign_in_page(request: Request) -> Response:
    token = _dashboard_on(_service(request))
    params = query_params(request, {"next"})
    return _sign_in_form(request, token, _next(params.get("next")))


async def sign_in(request: Request) -> Response:
    svc = _service(request)
    token = _dashboard_on(svc)
    fields = await admin_auth.form(request)
    # From here to counting a wrong token nothing awaits: requests that arrive together are
    # still counted one after the other.
    limiter = svc.sign_in_limiter
    client = svc.client(request)
    wait = limiter.waiting(client)
    if wait:
        raise ApiError(429, f"too many wrong tokens; try again in {wait} seconds",
                       headers={"Retry-After": str(wait)})  # fmt: skip
    admin_auth.check_csrf(fields.get("csrf"), admin_auth.sign_in_csrf(request, token))
    target = _next(fields.get("next"))
    if not admin_auth.token_matches(fields.get("token", ""), token):
        limiter.retry_after(client)  # counts the failure
        return _sign_in_form(request, token, target, "That is not the admin token.", 401)
    response = RedirectResponse(target, status_code=303, headers=HEADERS)
    admin_auth.start_session(request, response, token)
    return response


async def sign_out(request: Request) -> Response:
    _, signed_in = _signed_in(request)
    fields = await admin_auth.form(request)
    admin_auth.check_csrf(fields.get("csrf"), signed_in.csrf)
    response = RedirectResponse("/admin/sign-in", status_code=303, headers=HEADERS)
    admin_auth.end_session(response)
    return response


async def stylesheet(request: Request) -> Response:
    css = _templates().loader.get_source(_templates(), "admin.css")[0]  # type: ignore[union-attr]
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def to_dashboard(request: Request) -> Response:
    return RedirectResponse("/admin/", status_code=308)


def routes() -> list[BaseRoute]:
    return [
        Route("/admin", to_dashboard),
        Mount(
            "/admin",
            routes=[
                Route("/", dashboard, methods=["GET"]),
                Route("/gap", gap_page, methods=["GET"]),
                Route("/gap", mark_gap, methods=["POST"]),
                Route("/export/{table}.csv", export, methods=["GET"]),
                Route("/sign-in", sign_in_page, methods=["GET"]),
                Route("/sign-in", sign_in, methods=["POST"]),
                Route("/sign-out", sign_out, methods=["POST"]),
                Route("/admin.css", stylesheet, methods=["GET"]),
            ],
        ),
    ]


async def sign_in_first(request: Request, exc: Exception) -> Response:
    """A page asked for without a session: the sign-in form, then back to that page."""
    assert isinstance(exc, SignInFirst)
    return _to_sign_in(exc.target)
