"""The ingest hot path's statements: what each message costs the database (docs/performance.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.domain.cases import CaseStatus
from carepath.domain.contacts import Channel
from carepath.storage import Database
from tests.factories import make_tenant, system
from tests.inbound import inbound

LIVE = (
    "business_hours: {timezone: UTC, weekly: {mon: '00:00-24:00', tue: '00:00-24:00', "
    "wed: '00:00-24:00', thu: '00:00-24:00', fri: '00:00-24:00', sat: '00:00-24:00', "
    "sun: '00:00-24:00'}}\n"
    "strategy: {defaults: {treatment: live, skill: general, sla_seconds: 600}}\n"
)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_new_customers_case_is_inserted_once_already_queued(db: Database) -> None:
    # given a tenant whose strategy sends every new case straight to the queue
    tenant = await make_tenant(db)
    await do_apply_tenant_config(db, system(tenant), LIVE)
    # when a new customer writes
    with statements(db) as seen:
        result = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550123"))
    # then the case went in once, queued: routing's config read did not flush it early
    assert result.new_case
    assert result.case.status is CaseStatus.QUEUED
    assert len([s for s in seen if s.startswith("INSERT INTO CASES")]) == 1
    assert not [s for s in seen if s.startswith("UPDATE CASES")]
    async with db.uow(write=False) as uow:
        stored = await uow.cases.get(tenant.id, result.case.id)
    assert stored is not None
    assert stored.status is CaseStatus.QUEUED


async def test_a_known_senders_identity_and_customer_are_one_read(db: Database) -> None:
    # given a customer who wrote before
    tenant = await make_tenant(db)
    first = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550124"))
    # when they write again
    with statements(db) as seen:
        again = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550124"))
    # then they are the same customer on the same case, found with one statement that reads
    # the identity joined with its customer, and no read of the customer by itself
    assert again.customer.id == first.customer.id
    assert again.case.id == first.case.id
    reads = [s for s in seen if s.startswith("SELECT") and "FROM IDENTITIES" in s]
    assert len(reads) == 1
    assert "JOIN CUSTOMERS" in reads[0]
    assert not [s for s in seen if s.startswith("SELECT CUSTOMERS.ID, CUSTOMERS.TENANT_ID")]


async def test_concurrent_sqlite_reads_reuse_pooled_connections(tmp_path: Path) -> None:
    # given a SQLite file database whose pool has served 16 concurrent readers once
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=16)
    connects: list[object] = []
    event.listen(db.engine.sync_engine, "connect", lambda *_args: connects.append(1))

    async def read() -> None:
        async with db.uow(write=False) as uow:
            await uow.session.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)  # all of them hold a connection at once

    try:
        await asyncio.gather(*(read() for _ in range(16)))
        opened = len(connects)
        # when 16 readers come again
        await asyncio.gather(*(read() for _ in range(16)))
        # then none of them opened a connection (a thread and four PRAGMAs each)
        assert opened == 16
        assert len(connects) == opened
    finally:
        await db.dispose()
