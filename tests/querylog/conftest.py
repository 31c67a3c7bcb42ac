"""Every store test runs on both backends: a SQLite file in tmp_path, and a real PostgreSQL
server (tests/pg.py) with an empty database for the test. The server starts once a session,
and only when a PostgreSQL test runs."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kb_search.querylog import LogStore, QueryLog, SearchEvent
from kb_search.querylog.postgres import PostgresStore
from kb_search.querylog.sqlite import SQLiteStore

BACKENDS = ("sqlite", "postgres")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def search(
    query: str,
    results: int = 0,
    *,
    search_id: str | None = None,
    at: datetime | None = None,
) -> SearchEvent:
    return SearchEvent(
        search_id=search_id or uuid.uuid4().hex,
        query=query,
        result_count=results,
        top_result="101" if results else None,
        category=None,
        corrected=None,
        session="c0ffee",
        at=at or datetime.now(UTC),
    )


@dataclass
class Backend:
    """One backend's store maker, and a way to look at what it stored."""

    name: str
    location: str  # the SQLite file, or the database's URL
    _stores: list[LogStore] = field(default_factory=list)

    def store(self) -> LogStore:
        """A new store on the same log (another replica, for PostgreSQL)."""
        made: LogStore = (
            SQLiteStore(Path(self.location))
            if self.name == "sqlite"
            else PostgresStore(self.location)
        )
        self._stores.append(made)
        return made

    def log(self, **settings: Any) -> QueryLog:
        return QueryLog(self.store(), **settings)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """What a query the two backends both understand returns."""
        if self.name == "sqlite":
            with sqlite3.connect(self.location) as conn:
                found = conn.execute(sql).fetchall()
            conn.close()
            return found
        with psycopg.connect(self.location) as pg:
            return [tuple(row) for row in pg.execute(sql.encode()).fetchall()]

    def count(self, sql: str = "SELECT COUNT(*) FROM searches") -> int:
        return int(self.rows(sql)[0][0])

    def everything(self) -> str:
        """Every value in every table, as text: nothing stored is left out."""
        tables = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            if self.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        return " ".join(
            str(value)
            for (table,) in self.rows(tables)
            for row in self.rows(f"SELECT * FROM {table}")
            for value in row
        )

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        found = Backend("sqlite", str(tmp_path / "var" / "querylog.db"))
    else:
        found = Backend("postgres", request.getfixturevalue("postgres_url"))
    yield found
    found.close()


@pytest.fixture
def querylog(backend: Backend) -> Iterator[QueryLog]:
    log = backend.log()
    yield log
    log.close()
