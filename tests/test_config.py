"""Settings: read once from KB_* variables, cast, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.config import SETTINGS, Settings, SettingsError


def test_defaults_are_the_embedded_ones() -> None:
    settings = Settings.from_env({})
    assert settings.index_dir == Path("var/index")
    assert settings.log_db == Path("var/querylog.sqlite3")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.admin_token == "" and settings.cors_origins == ()


def test_environment_values_are_cast() -> None:
    settings = Settings.from_env(
        {
            "KB_PORT": "9000",
            "KB_CORS_ORIGINS": "https://a.example/, https://b.example",
            "KB_LOG_SEARCHES": "off",
            "KB_LOG_DB": "/tmp/x.sqlite3",
        }
    )
    assert settings.port == 9000
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.log_searches is False
    assert settings.log_db == Path("/tmp/x.sqlite3")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KB_PORT": "eighty"}, "KB_PORT='eighty' is not usable"),
        ({"KB_RATE_LIMIT": "0"}, "KB_RATE_LIMIT='0' is not usable: must be a positive"),
        ({"KB_LOG_SEARCHES": "maybe"}, "KB_LOG_SEARCHES='maybe' is not usable: must be on or off"),
    ],
)
def test_unusable_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_every_setting_has_help() -> None:
    assert all(s.help.endswith((".", ")")) and s.env.startswith("KB_") for s in SETTINGS)
