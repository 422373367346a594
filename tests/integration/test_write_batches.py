"""WriteBatcher: concurrent writes share transactions, each member answered after the commit,
one member's failure undoing only its own writes; and ingest's duplicates inside one batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.clock import replay_at, utcnow
from carepath.domain.contacts import Channel
from carepath.domain.outbox import OutboxItem
from carepath.domain.tenants import Tenant
from carepath.storage import Database, UnitOfWork
from carepath.storage.tables import messages
from carepath.storage.write_batches import WriteBatcher
from tests.factories import make_tenant
from tests.inbound import inbound


class Refused(Exception):
    pass


def writer(tenant: Tenant, name: str, seen: list[object], *, fail: bool = False) -> Any:
    """Work that writes an outbox row and an event, notes its transaction, and may then fail."""

    async def work(uow: UnitOfWork) -> str:
        seen.append(uow)  # the object, not its id: a freed object's id is reused
        uow.outbox.add(OutboxItem(tenant_id=tenant.id, kind="test", payload={"name": name}))
        await uow.events.append(tenant.id, "test.written", {"name": name})
        await uow.flush()
        if fail:
            raise Refused(name)
        return name

    return work


async def stored(db: Database, tenant: Tenant) -> tuple[list[str], list[tuple[int, str]]]:
    async with db.uow(write=False) as uow:
        rows = (await uow.outbox.list(tenant.id, status=None, limit=100, cursor=None)).items
        events = await uow.events.after(tenant.id, 0, limit=100)
    return sorted(r.payload["name"] for r in rows), [(e.seq, e.payload["name"]) for e in events]


async def test_concurrent_writes_share_transactions_and_commit_in_submission_order(
    db: Database,
) -> None:
    # given a batcher taking at most 3 writes per transaction
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow, max_batch=3)
    seen: list[object] = []
    names = [f"w{n}" for n in range(7)]
    # when 7 writes arrive at once
    results = await asyncio.gather(*(batcher.run(writer(tenant, n, seen)) for n in names))
    # then each got its own result, in 3 transactions of at most 3 (3 + 3 + 1)
    assert results == names
    assert batcher.batches == 3
    transactions = list(dict.fromkeys(id(uow) for uow in seen))
    assert [[id(uow) for uow in seen].count(t) for t in transactions] == [3, 3, 1]
    # and everything is stored, the events numbered gap-free in submission order
    rows, events = await stored(db, tenant)
    assert rows == names
    assert events == [(seq, name) for seq, name in zip(range(1, 8), names, strict=True)]


async def test_a_failing_member_undoes_only_its_own_writes(db: Database) -> None:
    # given three writes in one batch, the middle one failing after it wrote
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow)
    seen: list[object] = []
    outcomes = await asyncio.gather(
        batcher.run(writer(tenant, "first", seen)),
        batcher.run(writer(tenant, "broken", seen, fail=True)),
        batcher.run(writer(tenant, "last", seen)),
        return_exceptions=True,
    )
    # then they shared one transaction; the failing caller got its own error
    assert len({id(uow) for uow in seen}) == 1
    assert outcomes[0] == "first"
    assert outcomes[2] == "last"
    assert isinstance(outcomes[1], Refused)
    # and nothing of the failed member is stored, the others are, with seqs left gap-free
    rows, events = await stored(db, tenant)
    assert rows == ["first", "last"]
    assert events == [(1, "first"), (2, "last")]


async def test_a_lone_write_runs_at_once_without_a_savepoint(db: Database) -> None:
    # given an idle batcher
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]).upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        # when one write arrives alone
        assert await batcher.run(writer(tenant, "alone", [])) == "alone"
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # then it ran in its own transaction, with no savepoint and nothing waiting on a timer
    assert batcher.batches == 1
    assert not [s for s in statements if "SAVEPOINT" in s]


async def test_a_lone_failing_write_rolls_back_and_the_next_one_commits(db: Database) -> None:
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow)
    with pytest.raises(Refused):
        await batcher.run(writer(tenant, "broken", [], fail=True))
    assert await batcher.run(writer(tenant, "next", [])) == "next"
    assert await stored(db, tenant) == (["next"], [(1, "next")])


async def test_close_drains_what_was_submitted_then_refuses(db: Database) -> None:
    # given writes submitted but not yet run
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow, max_batch=2)
    pending = [asyncio.ensure_future(batcher.run(writer(tenant, f"w{n}", []))) for n in range(5)]
    await asyncio.sleep(0)
    # when the batcher closes
    await batcher.close()
    # then every one of them committed and was answered
    assert all(p.done() for p in pending)
    assert [p.result() for p in pending] == [f"w{n}" for n in range(5)]
    assert (await stored(db, tenant))[0] == [f"w{n}" for n in range(5)]
    with pytest.raises(RuntimeError, match="closed"):
        await batcher.run(writer(tenant, "late", []))


async def test_the_work_sees_its_submitters_context(db: Database) -> None:
    # given two writes submitted under different replayed clocks (the demo's history)
    batcher = WriteBatcher(db.uow)
    then = utcnow().replace(year=2020)

    async def now(_uow: UnitOfWork) -> int:
        return utcnow().year

    async def at_then() -> int:
        with replay_at(then):
            return await batcher.run(now)

    # then each ran with its own context, though they shared a transaction
    assert list(await asyncio.gather(at_then(), batcher.run(now))) == [2020, utcnow().year]
    assert batcher.batches == 1


async def test_concurrent_provider_retries_store_one_message_even_in_one_batch(
    db: Database,
) -> None:
    # given a message and its provider retries arriving at once (they share a batch)
    tenant = await make_tenant(db)
    message = inbound(tenant.id, Channel.SMS, "+16505550100", "hi", external_id="SM-dup")
    others = [
        inbound(tenant.id, Channel.SMS, f"+1650555011{n}", "hello", external_id=f"SM-{n}")
        for n in range(3)
    ]
    results = await asyncio.gather(
        *(do_ingest_inbound(db, m) for m in [message, others[0], message, others[1], message]),
        do_ingest_inbound(db, others[2]),
    )
    # then every call is answered; the message is stored once, the retries replay it
    copies = [r for r in results if r.message.external_id == "SM-dup"]
    assert sum(not r.duplicate for r in copies) == 1
    assert len({r.message.id for r in copies}) == 1
    async with db.uow(write=False) as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(messages).where(messages.c.tenant_id == tenant.id)
        )
    assert count == 4
