"""Concurrent messages from the same few customers: the batched write transactions that
PostgreSQL runs side by side (several processes, or BATCH_CONCURRENCY lanes) can deadlock on
their cases and identities.
One customer's messages take one lane (storage/write_batches.py), and a deadlock victim
(other conflicts) is run again: every message is stored once, none answered with an error."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from carepath.actions.ingest import IngestResult, do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.conflicts import is_transient_conflict
from carepath.storage.tables import messages, tenants
from tests.factories import make_company
from tests.inbound import inbound

SENDERS = [f"+1650555{n:04d}" for n in range(3)]


async def test_concurrent_messages_of_the_same_customers_are_all_stored(db: Database) -> None:
    tenants = [(await make_company(db)).tenant.id for _ in range(2)]

    async def nth(i: int, text: str) -> IngestResult:
        return await do_ingest_inbound(
            db, inbound(tenants[i % 2], Channel.SMS, SENDERS[i % 3], text, external_id=f"SM{text}")
        )

    for i in range(6):  # the customers exist, each with an open case
        await nth(i, f"first-{i}")
    results = await asyncio.gather(*(nth(i, f"m-{i}") for i in range(80)))

    assert len(results) == 80
    async with db.uow(write=False) as uow:
        stored = await uow.session.scalar(select(func.count()).select_from(messages))
    assert stored == 86


async def test_a_deadlock_victim_is_told_from_other_errors(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite's writers queue for its one write lock")
    a, b = (await make_company(db)).tenant.id, (await make_company(db)).tenant.id
    both_locked_one = asyncio.Barrier(2)

    async def lock_in_order(first: str, second: str) -> None:
        async with db.uow() as uow:
            for n, tenant_id in enumerate((first, second)):
                await uow.session.execute(
                    update(tenants).where(tenants.c.id == tenant_id).values(name=f"n{n}")
                )
                if n == 0:
                    await both_locked_one.wait()

    outcomes = await asyncio.gather(
        lock_in_order(a, b), lock_in_order(b, a), return_exceptions=True
    )

    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(errors) == 1
    assert is_transient_conflict(errors[0])
    assert not is_transient_conflict(IntegrityError("insert", {}, Exception("duplicate key")))
