"""Every setting, once: its name, default and help. Read from `KB_*` environment variables.

The operators' guide lists these same settings; a test fails when the two disagree.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    cast: Callable[[str], Any] = str
    old_name: str | None = None  # an earlier name of the setting, still read when set alone

    @property
    def env(self) -> str:
        return "KB_" + self.name.upper()

    @property
    def old_env(self) -> str | None:
        return "KB_" + self.old_name.upper() if self.old_name else None


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError("must be a number from 0 to 1")
    return value


def _origins(text: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in text.split(",") if origin.strip())


def _log_url(text: str) -> str:
    """`sqlite:///path` or `postgresql://...`; a bare path (the old KB_LOG_DB) is taken as a
    SQLite file."""
    if not text.strip():
        raise ValueError("is empty: give sqlite:///<path>, or set KB_LOG_SEARCHES=off")
    if "://" not in text:
        return "sqlite:///" + text
    if not text.startswith(("sqlite:///", "postgresql://")):
        raise ValueError(
            "must be sqlite:///<path> (for example sqlite:///var/querylog.sqlite3) or"
            " postgresql://<user>@<host>/<database> (libpq's URL; the password best in"
            " ~/.pgpass or PGPASSWORD)"
        )
    return text


def _addresses(text: str) -> tuple[str, ...]:
    import ipaddress

    found = tuple(a.strip() for a in text.split(",") if a.strip())
    for address in found:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ValueError(f"{address!r} is not an IP address or network") from None
    return found


def _flag(text: str) -> bool:
    if text.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
        raise ValueError("must be on or off")
    return text.lower() in {"1", "true", "yes", "on"}


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "docs_dir", "docs", "The articles, store facts and synonyms the index is built from.", Path
    ),
    Setting(
        "index_dir",
        "var/releases",
        "Where `kb release` and `kb index` write releases (the search index and the built "
        "site, switched together); the service follows the newest without a restart.",
        Path,
    ),
    Setting(
        "release_keep_minutes",
        "10",
        "A replaced release is deleted this long after it was replaced (the one before the "
        "current one is always kept), so requests and replicas still on it can finish.",
        _positive_int,
    ),
    Setting(
        "log_url",
        "sqlite:///var/querylog.sqlite3",
        "Where logged searches, clicks and feedback are stored: `sqlite:///relative/path` or "
        "`sqlite:////absolute/path` (created when missing), or "
        "`postgresql://user@host:port/database` for one log shared by several replicas (libpq's "
        "URL; keep the password in `~/.pgpass` or `PGPASSWORD`, it is never shown). The service "
        "creates and upgrades the PostgreSQL tables itself; the database and its user are yours "
        "to make. The old `KB_LOG_DB=<path>` still works.",
        _log_url,
        old_name="log_db",
    ),
    Setting("host", "127.0.0.1", "The address `kb serve` listens on."),
    Setting("port", "8000", "The port `kb serve` listens on.", _positive_int),
    Setting(
        "admin_token",
        "",
        "Token for the dashboard (`/admin/`: typed once into its sign-in form) and the admin "
        "endpoints (`/api/gaps`: sent as `Authorization: Bearer <token>`). Empty: the dashboard "
        "is off and admin endpoints always answer 401.",
    ),
    Setting(
        "log_retention_days",
        "90",
        "Logged searches, clicks, feedback and example texts older than this are deleted, and so "
        "is a group of unanswered searches nobody has searched for since.",
        _positive_int,
    ),
    Setting(
        "figures_retention_days",
        "731",
        "The dashboard's daily figures (counts per day, language, category, normalised search "
        "and article; no customer's own words) and the writers' gap marks are kept this long; "
        "at least KB_LOG_RETENTION_DAYS.",
        _positive_int,
    ),
    Setting("log_searches", "on", "Log searches, clicks and feedback (on/off).", _flag),
    Setting(
        "metrics_from",
        "",
        "Addresses or networks (comma-separated) that may read `/metrics` without the admin "
        "token, e.g. your Prometheus server's. Empty: only with the token.",
        _addresses,
    ),
    Setting(
        "request_log",
        "off",
        "One JSON line per request on the `kb_search.requests` logger (method, endpoint, path, "
        "status, milliseconds; never a query string) (on/off).",
        _flag,
    ),
    Setting(
        "rate_limit",
        "30",
        "Feedback and click requests allowed per client per minute.",
        _positive_int,
    ),
    Setting(
        "log_searches_per_minute",
        "60",
        "Searches logged per client per minute; more are answered but not logged, so one "
        "client cannot fill the log or the gap report.",
        _positive_int,
    ),
    Setting(
        "trusted_proxies",
        "",
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
        "header names the client (for rate limits). Empty: the header is never trusted.",
        _addresses,
    ),
    Setting(
        "cors_origins",
        "",
        "Comma-separated origins allowed to call the API from a "
        "browser (for a site on another host). Empty: same origin only.",
        _origins,
    ),
    Setting(
        "search_threads",
        "4",
        "Searches computed at once (each in a thread of its own); more wait their turn.",
        _positive_int,
    ),
    Setting(
        "search_queue",
        "64",
        "Searches that may wait their turn; past this a search answers 503 at once, so a flood "
        "cannot stall the pages and /healthz.",
        _positive_int,
    ),
    Setting("max_query_length", "200", "Longest search accepted, in characters.", _positive_int),
    Setting("max_results", "20", "Most results one search may ask for (`limit`).", _positive_int),
    Setting(
        "cache_size",
        "1024",
        "Searches kept in the in-memory result cache per index version.",
        _positive_int,
    ),
    Setting(
        "semantic_weight",
        "0.75",
        "Share of the semantic ranker in the final score (0 to 1; 0 turns it off). Used only "
        "when the [semantic] extra is installed and the index has vectors.",
        _share,
    ),
    Setting(
        "model_dir",
        "",
        "A BERT sentence-embedding model folder (model.safetensors, tokenizer.json, "
        "config.json) for the semantic ranker. Empty: the all-MiniLM-L6-v2 model that `kb model` "
        "fetched into this Python environment.",
    ),
    Setting(
        "learned_boosts",
        "on",
        "Move up the article most customers open for a search they repeat, learned from the "
        "query log (on/off; `kb explain` shows each boost and its evidence).",
        _flag,
    ),
    Setting(
        "site_url",
        "",
        "The help center's public address: the permalinks `kb link` prints (empty: the "
        "`website` in store.yml), and, read when the site is built, its canonical links, "
        "og:url, sitemap.xml and the Sitemap line of robots.txt (empty: relative links only, "
        "an empty sitemap).",
    ),
    Setting(
        "search_test_k",
        "3",
        "`kb check`: each front matter query must find its article within this many results.",
        _positive_int,
    ),
    Setting(
        "review_after_days",
        "365",
        "`kb check` warns about articles whose `reviewed` date is older than this.",
        _positive_int,
    ),
    Setting(
        "max_paragraph_words",
        "80",
        "`kb check` warns about paragraphs longer than this (customers read on phones).",
        _positive_int,
    ),
)


@dataclass(frozen=True)
class Settings:
    docs_dir: Path
    index_dir: Path
    release_keep_minutes: int
    log_url: str
    host: str
    port: int
    admin_token: str
    log_retention_days: int
    figures_retention_days: int
    log_searches: bool
    metrics_from: tuple[str, ...]
    request_log: bool
    rate_limit: int
    log_searches_per_minute: int
    trusted_proxies: tuple[str, ...]
    cors_origins: tuple[str, ...]
    search_threads: int
    search_queue: int
    max_query_length: int
    max_results: int
    cache_size: int
    semantic_weight: float
    model_dir: str
    learned_boosts: bool
    site_url: str
    search_test_k: int
    review_after_days: int
    max_paragraph_words: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read each setting from KB_<NAME>, else its default; `overrides` win over both."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.old_name in overrides:
                overrides[setting.name] = setting.cast(str(overrides.pop(setting.old_name)))
            if setting.name in overrides:
                values[setting.name] = overrides.pop(setting.name)
                continue
            name = setting.env
            if name not in environ and setting.old_env and setting.old_env in environ:
                name = setting.old_env
            raw = environ.get(name, setting.default)
            try:
                values[setting.name] = setting.cast(raw)
            except ValueError as error:
                raise SettingsError(f"{name}={raw!r} is not usable: {error}") from None
        if overrides:
            raise SettingsError(f"unknown setting {sorted(overrides)[0]!r}")
        return cls(**values)

    @property
    def log_db(self) -> Path | None:
        """The SQLite file of the query log, when it is one."""
        from kb_search.querylog import sqlite_path

        return sqlite_path(self.log_url)
