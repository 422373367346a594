"""Settings: the secret key rules and the database URL checks."""

from __future__ import annotations

import pytest

from carepath.errors import ConfigurationError
from carepath.settings import DEMO_SECRET_KEY, load_settings


def test_a_missing_secret_is_refused_outside_demo_mode() -> None:
    settings = load_settings(secret_key=None)
    with pytest.raises(ConfigurationError, match="CAREPATH_SECRET_KEY is not set"):
        settings.secret()


@pytest.mark.parametrize("key", [DEMO_SECRET_KEY, "short-secret"])
def test_the_demo_key_or_a_short_key_is_refused_outside_demo_mode(key: str) -> None:
    with pytest.raises(ConfigurationError, match="CAREPATH_SECRET_KEY"):
        load_settings(secret_key=key).secret()


def test_demo_mode_runs_without_a_secret() -> None:
    assert load_settings(secret_key=None, demo_mode=True).secret() == DEMO_SECRET_KEY


def test_a_long_random_secret_is_accepted() -> None:
    assert load_settings(secret_key="k" * 48).secret() == "k" * 48


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/care", "postgresql+asyncpg://u:p@db:5432/care"),
        ("postgres://u@db/care", "postgresql+asyncpg://u@db/care"),
        ("sqlite:////var/lib/carepath.db", "sqlite+aiosqlite:////var/lib/carepath.db"),
    ],
)
def test_short_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert load_settings(database_url=given).effective_database_url == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url at all"])
def test_an_unsupported_database_url_names_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError, match="CAREPATH_DATABASE_URL"):
        load_settings(database_url=url)


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: object) -> None:
    settings = load_settings(data_dir="/srv/carepath")
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/carepath/carepath.db"
