"""Settings: read once from KB_* variables, cast, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.config import SETTINGS, Settings, SettingsError


def test_defaults_are_the_embedded_ones() -> None:
    settings = Settings.from_env({})
    assert settings.index_dir == Path("var/releases")
    assert settings.log_url == "sqlite:///var/querylog.sqlite3"
    assert settings.log_db == Path("var/querylog.sqlite3")
    assert settings.trusted_proxies == ()
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
        ({"KB_LOG_URL": "mysql://x"}, "KB_LOG_URL='mysql://x' is not usable: must be sqlite:///"),
        ({"KB_LOG_DB": "mysql://x"}, "KB_LOG_DB='mysql://x' is not usable"),
        ({"KB_TRUSTED_PROXIES": "10.0.0.1, proxy"}, "'proxy' is not an IP address"),
    ],
)
def test_unusable_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_new_name_wins_over_the_old_one() -> None:
    both = {"KB_LOG_URL": "sqlite:////srv/new.sqlite3", "KB_LOG_DB": "/srv/old.sqlite3"}
    assert Settings.from_env(both).log_db == Path("/srv/new.sqlite3")
    assert Settings.from_env({"KB_LOG_DB": "/srv/old.sqlite3"}).log_db == Path("/srv/old.sqlite3")


def test_every_setting_in_the_registry_is_a_setting_and_its_default_is_usable() -> None:
    settings = Settings.from_env({})
    assert [s.name for s in SETTINGS] == list(vars(settings))
    for setting in SETTINGS:
        assert getattr(settings, setting.name) == setting.cast(setting.default), setting.env
        assert setting.help.endswith((".", ")")), setting.env
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        Settings.from_env({}, colour="blue")
