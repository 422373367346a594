"""Migrations: empty to head and back, on SQLite and PostgreSQL, matching the models exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.search_index import include_name
from carepath.storage.tables import metadata
from tests import services


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        yield db
        await db.dispose()
        return
    async with services.fresh_postgres_database(services.need_postgres()) as url:
        db = Database(url)
        yield db
        await db.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    return list(compare_metadata(context, metadata))


async def test_upgrade_to_head_matches_the_models_and_downgrade_removes_everything(
    empty_db: Database,
) -> None:
    # given an empty database
    assert await migrations.current_revision(empty_db) is None
    # when it is upgraded to head
    await migrations.upgrade(empty_db)
    # then it is current, has every table, and the schema equals the models exactly
    assert await migrations.is_current(empty_db)
    async with empty_db.engine.connect() as conn:
        assert set(metadata.tables) <= await conn.run_sync(_tables)
        assert await conn.run_sync(_diff) == []
    # when it is downgraded to the start
    await migrations.downgrade(empty_db, "base")
    # then only Alembic's bookkeeping remains
    assert await migrations.current_revision(empty_db) is None
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}
    # and it can go up again
    await migrations.upgrade(empty_db)
    assert await migrations.is_current(empty_db)


async def test_tenants_made_before_0002_get_keys_and_an_event_counter(tmp_path: Path) -> None:
    # given a database at 0001 with a tenant in it
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrations.upgrade(db, "0001")
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, created_at) "
                    "VALUES ('ten_old', 'old', 'Old Co', '2026-01-01 00:00:00')"
                )
            )
        # when it is upgraded
        await migrations.upgrade(db)
        # then the tenant has its keys and can append events
        async with db.uow(write=False) as uow:
            tenant = await uow.tenants.by_slug("old")
            assert tenant is not None
            assert tenant.public_key.startswith("pk_")
            assert len(tenant.identity_secret) >= 32
            assert tenant.survey_kinds == ["csat"]
            assert await uow.events.last_seq(tenant.id) == 0
    finally:
        await db.dispose()
