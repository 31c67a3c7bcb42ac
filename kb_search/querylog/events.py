"""What the query log records: searches, clicks and feedback, each with its own id and time.

Events hold the customer's text as it was sent; it is redacted before anything is stored (see
`kb_search.redact`), and nothing else about the customer (no address, no cookie) is ever taken.
Each event carries the language of the edition it came from ("en", "sv"): gaps, boosts and
synonym suggestions are worked out per language, never across them.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kb_search.strings import strings
from kb_search.text import DEFAULT_LANGUAGE

__all__ = [
    "DEFAULT_LANGUAGE",
    "FEEDBACK_REASONS",
    "ClickEvent",
    "ContactEvent",
    "FeedbackEvent",
    "SearchEvent",
    "iso",
]


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SearchEvent:
    search_id: str  # random id made by the caller (uuid4 hex); clicks refer to it
    query: str  # raw text as typed; redacted before it is stored
    result_count: int
    top_result: str | None  # article id of the first result
    category: str | None  # category filter, if any
    corrected: str | None  # the corrected query the search used, if any
    session: str | None = None  # a random id from the client, never an IP or cookie
    at: datetime = field(default_factory=_now)
    language: str = DEFAULT_LANGUAGE  # the edition searched: its analyzer groups the search
    # The category the dashboard counts it under: its filter, else its first result's.
    topic: str | None = None

    def same_as(self) -> Hashable:
        """Searches alike in all but id, visit and time are stored together: one hot query
        from many customers is one group (each row keeps its own id, visit and time)."""
        return ("search", self.language, self.query, self.result_count, self.top_result,
                self.category, self.corrected, self.topic)  # fmt: skip


@dataclass(frozen=True)
class ClickEvent:
    search_id: str
    article_id: str
    at: datetime = field(default_factory=_now)
    event_id: str = field(default_factory=_new_id)
    language: str = DEFAULT_LANGUAGE  # the edition the article was opened in
    position: int | None = None  # the result's place in the list it was opened from, from 1
    topic: str | None = None  # the article's category

    def same_as(self) -> Hashable:
        return ("click", self.event_id)


# Why an article was not helpful, as the page offers it (kb-article-footer.html) and as the
# gap report says it: the stored value, and the customer's words in English. Every language's
# words are kb_search/strings.yml's `feedback_reason_<value>`.
FEEDBACK_REASONS = {
    reason: strings(DEFAULT_LANGUAGE)[f"feedback_reason_{reason}"]
    for reason in ("outdated", "unclear", "not_answered", "other")
}


@dataclass(frozen=True)
class FeedbackEvent:
    article_id: str
    helpful: bool
    missing: str | None  # "what was missing", raw; redacted before it is stored
    search_id: str | None = None
    reason: str | None = None  # one of FEEDBACK_REASONS, for "not helpful"
    at: datetime = field(default_factory=_now)
    event_id: str = field(default_factory=_new_id)
    language: str = DEFAULT_LANGUAGE  # the edition the article was read in
    topic: str | None = None  # the article's category

    def same_as(self) -> Hashable:
        return ("feedback", self.event_id)


@dataclass(frozen=True)
class ContactEvent:
    """A visit that searched opened the contact page or one of the contact block's channels:
    the self-service share counts visits whose last click on an article was not followed
    by one."""

    session: str  # the visit's random id, as its searches carry it
    at: datetime = field(default_factory=_now)
    event_id: str = field(default_factory=_new_id)
    language: str = DEFAULT_LANGUAGE

    def same_as(self) -> Hashable:
        return ("contact", self.event_id)


Event = SearchEvent | ClickEvent | FeedbackEvent | ContactEvent


def iso(moment: datetime) -> str:
    """UTC, fixed width, so that text order is time order (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")
