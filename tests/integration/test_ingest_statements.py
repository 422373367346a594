"""The ingest hot path's statements: what each message costs the database (docs/performance.md)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.domain.cases import CaseStatus
from carepath.domain.contacts import Channel
from carepath.storage import Database, UnitOfWork
from tests.factories import make_tenant, system
from tests.inbound import inbound
from tests.statements import executed

LIVE = (
    "business_hours: {timezone: UTC, weekly: {mon: '00:00-24:00', tue: '00:00-24:00', "
    "wed: '00:00-24:00', thu: '00:00-24:00', fri: '00:00-24:00', sat: '00:00-24:00', "
    "sun: '00:00-24:00'}}\n"
    "strategy: {defaults: {treatment: live, skill: general, sla_seconds: 600}}\n"
)


def statements(db: Database) -> AbstractContextManager[list[str]]:
    return executed(db.engine)


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


async def test_the_webhooks_lone_read_runs_outside_a_transaction(db: Database) -> None:
    # given a tenant
    tenant = await make_tenant(db)

    async def reads_in_transaction(uow: UnitOfWork) -> bool:
        assert await uow.tenants.get(tenant.id) is not None
        driver = (await (await uow.session.connection()).get_raw_connection()).driver_connection
        assert driver is not None
        return bool(driver.in_transaction if db.is_sqlite else driver.is_in_transaction())

    # when the webhook's one read runs (Database.lone_read), and an ordinary read for contrast
    with statements(db) as seen:
        async with db.lone_read() as uow:
            lone = await reads_in_transaction(uow)
    async with db.uow(write=False) as uow:
        ordinary = await reads_in_transaction(uow)
    # then only the ordinary read opened a transaction (BEGIN and ROLLBACK are round trips)
    assert ordinary
    assert not lone
    assert not [s for s in seen if s.startswith("BEGIN")]


async def test_the_message_and_its_journey_event_go_in_after_what_they_refer_to(
    db: Database,
) -> None:
    # given a tenant
    tenant = await make_tenant(db)
    # when a new customer writes (card number included)
    text = "card 4111 1111 1111 1111 was charged twice"
    with statements(db) as seen:
        result = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550125", text))
    # then the message and journey event are inserted once each, after the case and contact
    inserts = [s.split()[2] for s in seen if s.startswith("INSERT INTO")]
    for child in ("MESSAGES", "JOURNEY_EVENTS"):
        assert inserts.count(child) == 1
        assert inserts.index(child) > inserts.index("CASES")
        assert inserts.index(child) > inserts.index("CONTACTS")
    # and what the caller holds is what was stored (masked), readable after the commit
    async with db.uow(write=False) as uow:
        stored = await uow.messages.get(tenant.id, result.message.id)
        journey = await uow.journey.of_customers(tenant.id, [result.customer.id])
    assert stored is not None
    assert result.contact is not None
    assert "4111 1111 1111 1111" not in result.message.text
    assert (stored.text, stored.contact_id, stored.case_id) == (
        result.message.text,
        result.contact.id,
        result.case.id,
    )
    assert [(j.contact_id, j.case_id) for j in journey] == [(result.contact.id, result.case.id)]


async def test_a_pooled_connection_the_server_dropped_is_replaced(database_url: str) -> None:
    # given a PostgreSQL pool of one connection, whose server process is then terminated
    # (SQLite has no server to drop it)
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    db = Database(database_url, pool_size=1)
    try:
        async with db.uow(write=False) as uow:
            pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        killer = Database(database_url)
        try:
            async with killer.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await killer.dispose()
        # when the next units of work check the pooled connections out
        async with db.lone_read() as uow:
            read = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.uow() as uow:
            await uow.session.execute(text("SELECT 1"))
        # then they ran on a new connection instead of failing (the ping on checkout)
        assert read != pid
    finally:
        await db.dispose()
