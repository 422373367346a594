"""Where the test suite finds PostgreSQL and Redis, and how it skips (or fails) without them."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    """CI sets this so a missing service fails the run instead of silently skipping tests."""
    return os.environ.get("CAREPATH_TEST_REQUIRE_SERVICES") == "1"


def test_database_url() -> str | None:
    """The PostgreSQL server the whole suite runs against, when asked to."""
    return os.environ.get("CAREPATH_TEST_DATABASE_URL") or None


def postgres_url() -> str:
    return test_database_url() or os.environ.get("CAREPATH_TEST_POSTGRES_URL") or DEFAULT_POSTGRES


def redis_url() -> str:
    return os.environ.get("CAREPATH_TEST_REDIS_URL") or DEFAULT_REDIS


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def need_postgres() -> str:
    url = postgres_url()
    if not _reachable(url, 5432):
        message = f"PostgreSQL not reachable at {url}; start it or set CAREPATH_TEST_POSTGRES_URL"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    return url


def need_redis() -> str:
    url = redis_url()
    if not _reachable(url, 6379):
        message = f"Redis not reachable at {url}; start it or set CAREPATH_TEST_REDIS_URL"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    return url


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of `server_url`, dropped afterwards."""
    name = f"carepath_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(server_url)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=5)
        try:
            await asyncio.wait_for(
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), 30
            )
        finally:
            await admin.close()
