"""Daily figures: what the dashboard shows, counted as events arrive and kept for two years.

Raw searches go with retention (90 days by default), so the dashboard's history cannot be
counted from them: every batch adds to per-day counters instead, keyed by day (UTC), language
and category. The rules of what counts live here, the same for every store; a store adds the
increments with upserts (`counter = counter + n`), so that writers never read a figure to
write it back, and answers the few facts a rule needs about earlier events (`Facts`).

- a search counts on its day under its `topic` (its category filter, else its first result's
  category; '' for none), and under the number of its normalised form (`form_daily`); the
  form's words (redacted and analysed, as gaps are grouped by) are kept in `forms` only while
  it is searched within the log's retention, so no customer's words outlive it, and a number
  whose words are gone shows as "words past retention";
- a click counts on its search's day, once per search for the click-through rate, and each
  time for the clicks and the average position; on its own day for the article;
- feedback counts on its day, for its article and the article's category;
- a visit (the client's random session id) counts on the day of its first search; it is
  self-served while the last article it opened from a search was not followed by a view of
  the contact page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from kb_search.querylog.events import ClickEvent, ContactEvent, FeedbackEvent, SearchEvent, iso

DAY_COUNTERS = (
    "searches",
    "zero_results",
    "clicked_searches",  # searches with at least one click
    "clicked_with_results",  # of those, searches that found something (the no-click rate's)
    "clicks",
    "positioned_clicks",  # clicks that said the result's position
    "position_sum",
    "helpful",
    "not_helpful",
    "visits",  # visits that searched
    "self_served",  # of those, visits whose last click was not followed by the contact page
    "contacted",  # of those, visits that opened the contact page
)
FORM_COUNTERS = ("searches", "zero_results", "clicked_searches", "clicked_with_results")
ARTICLE_COUNTERS = ("clicks", "helpful", "not_helpful")
# Table -> its key columns, as a store keeps them.
KEYS = {
    "daily": ("day", "language", "category"),
    "form_daily": ("day", "language", "category", "form"),
    "article_daily": ("day", "language", "article_id"),
}
# At least two years of figures, whatever the raw log's retention.
FIGURES_RETENTION_DAYS = 731


def day_of(at: str) -> str:
    """The UTC day of a stored time (`iso`): its first ten characters."""
    return at[:10]


@dataclass(frozen=True)
class LoggedSearch:
    """What a store knows of the search a click refers to."""

    day: str
    language: str  # a Swedish search may open an English article: it counts as Swedish
    category: str
    form: int | None  # the number its normalised words are counted under (None: no words)
    clicked_before: bool
    found: bool = True  # it had results (a click on a search that found nothing opened an
    # article offered in another language)


@dataclass(frozen=True)
class Visit:
    """A visit's row: the day and category of its first search, and its state."""

    day: str
    category: str
    clicked: bool  # its last click was not followed by the contact page (self-served now)
    contacted: bool  # it has opened the contact page


@dataclass
class Tally:
    """The increments one batch makes, summed per row, for a store to add."""

    rows: dict[tuple[str, tuple[str, ...]], Counter[str]] = field(default_factory=dict)
    categories: dict[tuple[str, ...], str] = field(default_factory=dict)  # article -> category

    def add(self, table: str, key: tuple[str, ...], **counts: int) -> None:
        self.rows.setdefault((table, key), Counter()).update(counts)

    def searches(
        self, group: list[SearchEvent], form: int | None, new_visits: list[SearchEvent]
    ) -> None:
        """Searches alike (one stored group) counted under their form's number, and those of
        them that began a visit."""
        for event in group:
            day, topic = day_of(iso(event.at)), event.topic or ""
            zero = int(event.result_count == 0)
            self.add("daily", (day, event.language, topic), searches=1, zero_results=zero)
            if form is not None:
                self.add("form_daily", (day, event.language, topic, str(form)), searches=1,
                         zero_results=zero)  # fmt: skip
        for event in new_visits:
            self.add("daily", (day_of(iso(event.at)), event.language, event.topic or ""), visits=1)

    def click(self, event: ClickEvent, search: LoggedSearch | None, visit: Visit | None) -> None:
        """A click, the search it came from (None: not written yet, or past retention), and
        its visit as it was before the click."""
        key = (day_of(iso(event.at)), event.language, event.article_id)
        self.add("article_daily", key, clicks=1)
        self.categories[key] = event.topic or ""
        if search is not None:
            self.search_clicked(search, event.position, visit)

    def search_clicked(
        self, search: LoggedSearch, position: int | None, visit: Visit | None
    ) -> None:
        """A click counted for its search: when it is written, or, when it came before its
        search (another process wrote it first), when the search is."""
        first = int(not search.clicked_before)
        counts = {"clicks": 1, "clicked_searches": first,
                  "clicked_with_results": first * int(search.found)}  # fmt: skip
        if position is not None:
            counts |= {"positioned_clicks": 1, "position_sum": position}
        self.add("daily", (search.day, search.language, search.category), **counts)
        if search.form is not None and first:
            form_key = (search.day, search.language, search.category, str(search.form))
            self.add("form_daily", form_key, clicked_searches=1,
                     clicked_with_results=int(search.found))  # fmt: skip
        if visit is not None and not visit.clicked:
            self.add("daily", (visit.day, search.language, visit.category), self_served=1)

    def feedback(self, event: FeedbackEvent) -> None:
        day, topic = day_of(iso(event.at)), event.topic or ""
        votes = {"helpful": int(event.helpful), "not_helpful": int(not event.helpful)}
        self.add("daily", (day, event.language, topic), **votes)
        key = (day, event.language, event.article_id)
        self.add("article_daily", key, **votes)
        self.categories[key] = topic

    def contact(self, event: ContactEvent, visit: Visit) -> None:
        """The contact page opened in a visit that searched (its state before)."""
        key = (visit.day, event.language, visit.category)
        self.add("daily", key, self_served=-int(visit.clicked), contacted=int(not visit.contacted))

    def increments(self) -> Iterator[tuple[str, dict[str, str], dict[str, int], dict[str, str]]]:
        """(table, key columns, counts, other columns) for each row to add to."""
        for (table, key), counts in self.rows.items():
            extra = {"category": self.categories[key]} if table == "article_daily" else {}
            yield table, dict(zip(KEYS[table], key, strict=True)), dict(counts), extra
