"""The dashboard's figures: what customers searched, found, missed and thought, over a period,
beside the period before it. Backend-independent: a store answers with the daily sums of
`daily.py`; this module turns them into rates, groups forms as `kb gaps` does, and follows
each gap group over its life (did the article that answers it help?).

Definitions (the page says them too):
- zero-result rate: searches that found nothing / searches;
- no-click rate: searches with results of which no result was opened / searches with results;
- click-through rate: searches with a result opened / searches;
- average click position: the mean place (from 1) of the results opened;
- self-service: visits that searched whose last opened article was not followed by the
  contact page / visits that searched.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kb_search.querylog.daily import DAY_COUNTERS
from kb_search.querylog.gaps import GapGroup, merge

PERIODS = (7, 30, 90)
MAX_CUSTOM_DAYS = 731
TOP = 20  # rows of each top table
MAX_TOP_FORMS = 2000  # the most searched forms a top table groups (the rest cannot reach it)
GAP_WINDOW_DAYS = 90  # the longest before/after window of an answered gap
MARK_STATES = ("answered", "dismissed")


class InsightFigures(Protocol):
    """What a log store answers for the dashboard (kb_search.querylog.sqlite has these)."""

    def day_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[Any, ...]]: ...
    def form_figures(
        self, start: str, end: str, since: str, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, int, int, int]]: ...
    def gap_forms(
        self, language: str, category: str | None
    ) -> list[tuple[str, int, int, int, str, str]]: ...
    def form_days(
        self, forms: Sequence[str], language: str, category: str | None
    ) -> list[tuple[str, int, int, int]]: ...
    def article_figures(
        self, start: str, end: str, language: str, category: str | None
    ) -> list[tuple[str, str, int, int, int]]: ...
    def latest_queries(self, forms: Sequence[str], language: str) -> dict[str, str]: ...
    def missing_texts(
        self, articles: Sequence[str], start: str, end: str, language: str
    ) -> dict[str, list[str]]: ...
    def gap_marks(self, language: str) -> Mapping[str, tuple[str, str | None, dt.datetime]]: ...


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included (UTC)."""

    start: dt.date
    end: dt.date

    @classmethod
    def last(cls, days: int, today: dt.date) -> Period:
        return cls(today - dt.timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of as many days just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(self.days)]


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """Sums of DAY_COUNTERS over some days, with the rates the dashboard shows."""

    counts: dict[str, int]

    def __getattr__(self, name: str) -> int:
        try:
            return self.counts[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def with_results(self) -> int:
        return self.counts["searches"] - self.counts["zero_results"]

    @property
    def rates(self) -> dict[str, float | None]:
        c = self.counts
        return {
            "zero_result_rate": ratio(c["zero_results"], c["searches"]),
            "no_click_rate": ratio(
                max(0, self.with_results - c["clicked_with_results"]), self.with_results
            ),
            "click_through_rate": ratio(c["clicked_searches"], c["searches"]),
            "average_click_position": ratio(c["position_sum"], c["positioned_clicks"]),
            "helpful_share": ratio(c["helpful"], c["helpful"] + c["not_helpful"]),
            "self_service_share": ratio(c["self_served"], c["visits"]),
        }


def _sum(rows: Sequence[Figures]) -> Figures:
    return Figures({name: sum(r.counts[name] for r in rows) for name in DAY_COUNTERS})


@dataclass
class Term:
    """A group of forms (as `kb gaps` groups them) in a top table."""

    key: str
    example: str  # the latest search of the group still kept, else its key
    count: int  # this period
    previous: int  # the period before
    searches: int  # all its searches this period
    members: list[str] = field(default_factory=list)


@dataclass
class ArticleRow:
    article_id: str
    title: str
    category: str
    clicks: int
    helpful: int
    not_helpful: int
    missing: list[str] = field(default_factory=list)

    @property
    def helpful_share(self) -> float | None:
        return ratio(self.helpful, self.helpful + self.not_helpful)


@dataclass
class Window:
    """A gap group's searches over some days."""

    days: int
    searches: int = 0
    zero_results: int = 0
    clicked: int = 0

    @property
    def zero_result_rate(self) -> float | None:
        return ratio(self.zero_results, self.searches)

    @property
    def no_click_rate(self) -> float | None:
        with_results = self.searches - self.zero_results
        return ratio(max(0, with_results - self.clicked), with_results)


@dataclass
class GapLife:
    """A group of searches that found nothing, from when it appeared to now."""

    key: str
    example: str
    first_seen: dt.date
    last_seen: dt.date
    searches: int
    zero_results: int
    members: list[str]
    state: str | None = None  # answered, dismissed, or None (open)
    article_id: str | None = None
    marked: dt.date | None = None
    by_writer: bool = True  # False: answered by a published `kb draft` article's searches
    before: Window | None = None  # as many days before the answer as there are after it
    after: Window | None = None


@dataclass
class Insights:
    language: str
    category: str | None
    period: Period
    total: Figures
    previous: Figures
    days: list[tuple[dt.date, Figures]]
    top_searches: list[Term]
    top_zero: list[Term]
    top_no_click: list[Term]
    articles: list[ArticleRow]
    gaps: list[GapLife]


def _days(
    store: InsightFigures, period: Period, language: str, category: str | None
) -> dict[dt.date, Figures]:
    rows = store.day_figures(period.start.isoformat(), period.end.isoformat(), language, category)
    return {
        dt.date.fromisoformat(day): Figures(dict(zip(DAY_COUNTERS, map(int, sums), strict=True)))
        for day, *sums in rows
    }


def _empty() -> Figures:
    return Figures(dict.fromkeys(DAY_COUNTERS, 0))


PAST_RETENTION = "(words past retention)"


def grouped(counts: Mapping[str, int]) -> list[tuple[str, int, list[str]]]:
    """(key, count, member forms) of forms grouped as `kb gaps` groups them, most first; a
    form whose words are past retention (`#12`) stays alone."""
    stamp = dt.datetime(2000, 1, 1)
    groups = [
        (group.key, group.count, members)
        for group, members in merge(
            GapGroup(form, n, stamp, stamp) for form, n in counts.items() if form[:1] != "#"
        )
    ]
    groups += [(form, n, [form]) for form, n in counts.items() if form[:1] == "#"]
    return sorted(groups, key=lambda g: (-g[1], g[0]))


def _top(
    rows: Sequence[tuple[str, int, int, int, int, int, int]], current: Any, previous: Any
) -> list[Term]:
    """The top groups by `current(row)`, with `previous(row)` summed over each group."""
    counted = heapq.nsmallest(MAX_TOP_FORMS, ((current(r), r) for r in rows),
                              key=lambda x: (-x[0], x[1][0]))  # fmt: skip
    by_form = {r[0]: (n, previous(r), r[1]) for n, r in counted[:MAX_TOP_FORMS] if n > 0}
    return [
        Term(
            key,
            key,
            count,
            sum(by_form[m][1] for m in members),
            sum(by_form[m][2] for m in members),
            members,
        )
        for key, count, members in grouped({f: v[0] for f, v in by_form.items()})[: TOP * 2]
    ]


def _window(series: Mapping[dt.date, tuple[int, int, int]], start: dt.date, days: int) -> Window:
    window = Window(days)
    for offset in range(days):
        searches, zero, clicked = series.get(start + dt.timedelta(days=offset), (0, 0, 0))
        window.searches += searches
        window.zero_results += zero
        window.clicked += clicked
    return window


def gap_series(
    store: InsightFigures, members: Sequence[str], language: str, category: str | None
) -> dict[dt.date, tuple[int, int, int]]:
    """(searches, zero results, clicked) of a group's forms, by day."""
    return {
        dt.date.fromisoformat(day): (int(s), int(z), int(c))
        for day, s, z, c in store.form_days(members, language, category)
    }


def gap_lives(
    store: InsightFigures,
    language: str,
    category: str | None,
    today: dt.date,
    answers: Mapping[str, tuple[str, dt.date]],
    limit: int = TOP,
    only: str | None = None,
) -> list[GapLife]:
    """The most searched groups that ever found nothing (and every marked or answered one),
    each with the rates before and after its answer. `answers`: normalised form -> (article,
    date) for the searches published articles say they answer (their `queries`). `only`: just
    the group that holds this form, if any."""
    rows = store.gap_forms(language, category)
    rows = sorted(rows, key=lambda r: (-r[2], r[0]))[:MAX_TOP_FORMS]
    by_form = {r[0]: r for r in rows}
    marks = store.gap_marks(language)
    lives = []
    for rank, (key, _, members) in enumerate(grouped({r[0]: r[2] for r in rows})):
        mark = next((marks[m] for m in members if m in marks), None)
        answer = next((answers[m] for m in members if m in answers), None)
        if only is not None and only not in members:
            continue
        if only is None and rank >= limit and mark is None and answer is None:
            continue
        member_rows = [by_form[m] for m in members]
        life = GapLife(
            key=key,
            example=key,
            first_seen=min(dt.date.fromisoformat(r[4]) for r in member_rows),
            last_seen=max(dt.date.fromisoformat(r[5]) for r in member_rows),
            searches=sum(r[1] for r in member_rows),
            zero_results=sum(r[2] for r in member_rows),
            members=list(members),
        )
        if mark is not None:
            life.state, life.article_id, life.marked = mark[0], mark[1], mark[2].date()
        elif answer is not None:
            life.state, life.article_id, life.marked = "answered", answer[0], answer[1]
            life.by_writer = False
        if life.state == "answered" and life.marked is not None:
            series = gap_series(store, members, language, category)
            days = max(0, min(GAP_WINDOW_DAYS, (today - life.marked).days))
            life.after = _window(series, life.marked, days)
            life.before = _window(series, life.marked - dt.timedelta(days=days), days)
        lives.append(life)
    return lives


def insights(
    store: InsightFigures,
    period: Period,
    language: str,
    category: str | None,
    titles: Mapping[str, tuple[str, str]],
    answers: Mapping[str, tuple[str, dt.date]],
    today: dt.date,
) -> Insights:
    """Every figure of the dashboard for one language (and category) over `period`.
    `titles`: article id -> (title, category) of the articles the release has."""
    days = _days(store, Period(period.previous.start, period.end), language, category)
    current = [days.get(day, _empty()) for day in period.each_day()]
    before = [days.get(day, _empty()) for day in period.previous.each_day()]
    forms = store.form_figures(
        period.previous.start.isoformat(),
        period.end.isoformat(),
        period.start.isoformat(),
        language,
        category,
    )
    # Groups a writer dismissed as noise (a bot, a test) leave the gap tables, not the totals.
    dismissed = {key for key, mark in store.gap_marks(language).items() if mark[0] == "dismissed"}

    def kept(terms: list[Term]) -> list[Term]:
        return [t for t in terms if dismissed.isdisjoint(t.members)][:TOP]

    tops = (
        _top(forms, lambda r: r[1], lambda r: r[4])[:TOP],
        kept(_top(forms, lambda r: r[2], lambda r: r[5])),
        kept(_top(forms, lambda r: r[1] - r[2] - r[3], lambda r: r[4] - r[5] - r[6])),
    )
    gaps = gap_lives(store, language, category, today, answers)
    shown: list[Term | GapLife] = [*tops[0], *tops[1], *tops[2], *gaps]
    examples = store.latest_queries(list(dict.fromkeys(t.key for t in shown)), language)
    for row in shown:
        row.example = examples.get(row.key, PAST_RETENTION if row.key[:1] == "#" else row.key)
    articles = [
        ArticleRow(
            article,
            *titles.get(article, (f"#{article} (no longer published)", cat)),
            clicks,
            helpful,
            not_helpful,
        )
        for article, cat, clicks, helpful, not_helpful in store.article_figures(
            period.start.isoformat(), period.end.isoformat(), language, category
        )
    ]
    voted = [a for a in articles if a.helpful + a.not_helpful]
    # Worst first: the lowest helpful share, then the most votes against.
    voted.sort(key=lambda a: (a.helpful_share or 0.0, -a.not_helpful, a.article_id))
    texts = store.missing_texts(
        [a.article_id for a in voted[:TOP]], period.start.isoformat(), period.end.isoformat(),
        language,
    )  # fmt: skip
    for article_row in voted[:TOP]:
        article_row.missing = texts.get(article_row.article_id, [])
    return Insights(
        language=language,
        category=category,
        period=period,
        total=_sum(current),
        previous=_sum(before),
        days=list(zip(period.each_day(), current, strict=True)),
        top_searches=tops[0],
        top_zero=tops[1],
        top_no_click=tops[2],
        articles=voted,
        gaps=gaps,
    )
