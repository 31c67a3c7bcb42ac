"""The private log of customers' searches, clicks and feedback, and the gaps it reveals.

- `events`: what is recorded; `writer`: the batching thread that stores it without ever
  delaying a search; `sqlite` and `postgres`: the two stores (the only SQL; one logical
  schema); `gaps`: grouping and merging, `daily`: what the daily figures count, `insights`: the
  dashboard's figures, each the same for every store.
- `QueryLog` joins a recorder (`record_*`, `flush`, `close`) and a store that answers with raw
  figures, so another database is one new store module.

Privacy by design: every text is redacted before it is stored, every stored text carries its
time and goes with retention, and no address or cookie is ever taken.

Languages: every event carries the language of its edition, and every report is one language's
(`gaps(language="sv")`); retention is the same for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from kb_search.querylog import gaps
from kb_search.querylog.daily import FIGURES_RETENTION_DAYS
from kb_search.querylog.events import (
    DEFAULT_LANGUAGE,
    ClickEvent,
    ContactEvent,
    FeedbackEvent,
    SearchEvent,
)
from kb_search.querylog.gaps import ArticleFeedback, GapFigures, GapGroup, GapReport, to_dict
from kb_search.querylog.insights import InsightFigures
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.querylog.writer import BatchingWriter, EventStore

__all__ = [
    "ArticleFeedback",
    "ClickEvent",
    "ContactEvent",
    "FeedbackEvent",
    "GapGroup",
    "GapReport",
    "LogStore",
    "QueryLog",
    "SearchEvent",
    "open_log",
    "open_store",
    "sqlite_path",
    "to_dict",
]


class LogStore(EventStore, GapFigures, InsightFigures, Protocol):
    """A storage backend: takes the writer's batches and answers with raw figures."""

    def evidence(
        self, follow_up_minutes: int, language: str = ...
    ) -> list[tuple[str, str, str]]: ...
    def reformulations(
        self, follow_up_minutes: int, language: str = ...
    ) -> list[tuple[str, str, str]]: ...
    def click_counts(
        self, since: datetime, min_visits: int, language: str = ...
    ) -> list[tuple[str, str | None, int, str | None]]: ...
    def purge(self, cutoff: datetime, figures_cutoff: datetime | None = None) -> int: ...
    def mark_gap(
        self, language: str, key: str, state: str | None, article: str | None, at: datetime
    ) -> None: ...
    def describe(self) -> dict[str, Any]: ...
    def migrate(self) -> tuple[int, int]: ...


class _NoStore:
    """Stores nothing: for `KB_LOG_SEARCHES=off`."""

    name = "off"

    def write(self, batch: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def gap_groups(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[GapGroup]:
        return []

    def gap_examples(
        self, keys: Any, language: str = DEFAULT_LANGUAGE
    ) -> dict[str, list[tuple[str, datetime]]]:
        return {}

    def unclicked(
        self, limit: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, datetime]]:
        return []

    def not_helpful(self, limit: int, language: str = DEFAULT_LANGUAGE) -> list[ArticleFeedback]:
        return []

    def evidence(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        return []

    def reformulations(
        self, follow_up_minutes: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str, str]]:
        return []

    def click_counts(
        self, since: datetime, min_visits: int, language: str = DEFAULT_LANGUAGE
    ) -> list[tuple[str, str | None, int, str | None]]:
        return []

    def purge(self, cutoff: datetime, figures_cutoff: datetime | None = None) -> int:
        return 0

    def describe(self) -> dict[str, Any]:
        return {}

    def migrate(self) -> tuple[int, int]:
        return 0, 0

    def _nothing(self, *_: Any) -> list[Any]:
        return []

    day_figures = form_figures = gap_forms = form_days = article_figures = _nothing

    def latest_queries(self, *_: Any) -> dict[str, str]:
        return {}

    def missing_texts(self, *_: Any) -> dict[str, list[str]]:
        return {}

    def gap_marks(self, language: str) -> dict[str, tuple[str, str | None, datetime]]:
        return {}

    def mark_gap(self, *_: Any) -> None:
        raise ValueError("the query log is off (KB_LOG_SEARCHES=off): nothing to mark")


@dataclass
class QueryLog:
    """What the service and the `kb` command use: record events, report gaps, purge."""

    store: LogStore
    retention_days: int = 90
    figures_retention_days: int = FIGURES_RETENTION_DAYS  # the daily figures, and gap marks

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, not {self.retention_days}")
        if self.figures_retention_days < self.retention_days:
            raise ValueError(
                f"figures_retention_days ({self.figures_retention_days}) must be at least"
                f" retention_days ({self.retention_days})"
            )
        self.writer = BatchingWriter(self.store)

    def record_search(self, event: SearchEvent) -> None:
        self.writer.record(event)

    def record_click(
        self,
        search_id: str,
        article_id: str,
        language: str = DEFAULT_LANGUAGE,
        position: int | None = None,
        topic: str | None = None,
    ) -> None:
        event = ClickEvent(search_id, article_id, language=language, position=position,
                           topic=topic)  # fmt: skip
        self.writer.record(event)

    def record_contact(self, session: str, language: str = DEFAULT_LANGUAGE) -> None:
        self.writer.record(ContactEvent(session, language=language))

    def record_feedback(
        self,
        article_id: str,
        helpful: bool,
        missing: str | None,
        search_id: str | None = None,
        reason: str | None = None,
        language: str = DEFAULT_LANGUAGE,
        topic: str | None = None,
    ) -> None:
        event = FeedbackEvent(article_id, helpful, missing, search_id, reason, language=language,
                              topic=topic)  # fmt: skip
        self.writer.record(event)

    def flush(self, timeout: float | None = None) -> bool:
        return self.writer.flush(timeout)

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> QueryLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def gaps(self, *, limit: int = 50, language: str = DEFAULT_LANGUAGE) -> GapReport:
        """What customers of one language did not find: read from what is written (see
        `flush`)."""
        return gaps.report(self.store, limit, language)

    def purge(self, now: datetime | None = None) -> int:
        """Delete every row and every text older than the retention period, and the daily
        figures older than theirs."""
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=self.retention_days)
        return self.store.purge(cutoff, now - timedelta(days=self.figures_retention_days))

    def health(self) -> dict[str, Any]:
        return {"backend": self.store.name, **vars(self.writer.health()), **self.store.describe()}


class LogSettings(Protocol):
    """What `open_log` reads from the settings (kb_search.config.Settings has these)."""

    @property
    def log_url(self) -> str: ...
    @property
    def log_retention_days(self) -> int: ...
    @property
    def figures_retention_days(self) -> int: ...
    @property
    def log_searches(self) -> bool: ...


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///relative/path` or `sqlite:////absolute/path` URL."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        return None
    return Path(parts.path[1:] if parts.path.startswith("/") else parts.path)


def open_store(url: str) -> LogStore:
    """The store a `KB_LOG_URL` names (nothing is connected to or created yet)."""
    path = sqlite_path(url)
    if path is not None:
        return SQLiteStore(path)
    if urlsplit(url).scheme == "postgresql":
        from kb_search.querylog.postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore(url)
    raise ValueError(f"KB_LOG_URL {url!r}: give sqlite:///<path> or postgresql://<server>/<db>")


def open_log(settings: LogSettings) -> QueryLog:
    """The log the settings name; one that stores nothing when logging is off."""
    store = open_store(settings.log_url) if settings.log_searches else _NoStore()
    return QueryLog(store, settings.log_retention_days, settings.figures_retention_days)
