"""Shared fixtures: one migrated database per test session (SQLite, or PostgreSQL when
CAREPATH_TEST_DATABASE_URL is set), emptied between tests; the app and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import delete, text

from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.tables import metadata
from carepath.web import create_app
from tests import services

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server = services.test_database_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'carepath.db'}"
        return
    services.need_postgres()
    async with services.fresh_postgres_database(server) as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await migrations.upgrade(db)
    yield db
    await db.dispose()


async def _empty_all_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(delete(table))
        else:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(migrated_db: Database) -> Database:
    """The session's database, empty at the start of every test."""
    await _empty_all_tables(migrated_db)
    return migrated_db


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(db: Database, database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        public_url="https://testserver",
        # Tests run the outbox worker themselves when they need it, so that nothing changes
        # behind their back.
        run_worker=False,
        # Webhook tests deliver to receivers on loopback (tests/security checks the refusal).
        webhook_allow_private_targets=True,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the app in-process, over https so Secure cookies flow."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


# The suites that prove docs/reliability.md; `scripts/reliability` runs them by this marker.
_RELIABILITY_DIRS = ("reliability", "security", "privacy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        if not item.path.is_relative_to(tests_root):
            continue
        parts = item.path.relative_to(tests_root).parts
        if parts and parts[0] in _RELIABILITY_DIRS:
            item.add_marker(pytest.mark.reliability)
