"""WriteBatcher: concurrent writes share transactions, each member answered after the commit,
one member's failure undoing only its own writes; and ingest's duplicates inside one batch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.merges import do_merge_customers
from carepath.domain.clock import replay_at, utcnow
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.domain.events import EventType
from carepath.domain.outbox import OutboxItem
from carepath.domain.tenants import Tenant
from carepath.storage import Database, UnitOfWork
from carepath.storage.database import BATCH_CONCURRENCY
from carepath.storage.tables import messages
from carepath.storage.write_batches import BatchTiming, WriteBatcher
from tests.factories import make_tenant, system
from tests.inbound import inbound
from tests.statements import executed


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


async def test_lanes_run_side_by_side_and_a_key_keeps_to_its_lane(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite's writers queue for its one write lock")
    # given a batcher with two lanes (carepath runs one; the knob is BATCH_CONCURRENCY)
    batcher = WriteBatcher(db.uow, concurrency=2)
    timeline: list[tuple[str, int]] = []
    started = {0: asyncio.Event(), 1: asyncio.Event()}

    def holding(key: int) -> Any:
        async def work(uow: UnitOfWork) -> int:
            await uow.session.execute(select(1))
            timeline.append(("start", key))
            started[key].set()
            # Each key's first piece waits, inside its transaction, for the other key's to start:
            # lanes taken one after another would time out here.
            await asyncio.wait_for(started[1 - key].wait(), timeout=10)
            timeline.append(("end", key))
            return key

        return work

    # when two pieces of work of each of two keys arrive at once (ints: hash(k) % 2 is k)
    keys = [0, 0, 1, 1]
    assert await asyncio.gather(*(batcher.run(holding(k), key=k) for k in keys)) == keys
    # then the keys' first pieces ran at the same time (in either order: whichever lane's
    # first round trip came back first), each key's two one after the other
    assert sorted(timeline[:2]) == [("start", 0), ("start", 1)]
    for key in (0, 1):
        mine = [step for step, k in timeline if k == key]
        assert mine == ["start", "end", "start", "end"]
    assert batcher.batches == 4


async def test_each_batch_reports_its_members_waits_and_run(db: Database) -> None:
    # given a batcher that reports its batches
    tenant = await make_tenant(db)
    timings: list[BatchTiming] = []
    batcher = WriteBatcher(db.uow, observe=timings.append)
    seen: list[object] = []
    # when three writes arrive at once, two of them with one key
    keyed = [("a", "first"), ("a", "second"), ("b", "other")]
    await asyncio.gather(*(batcher.run(writer(tenant, n, seen), key=k) for k, n in keyed))
    # then the first batch held one write per key, the second the key's later one
    assert [t.members for t in timings] == [2, 1]
    first, second = timings
    # and that later write waited at least the whole first batch
    assert all(waited >= 0 for waited in first.waited_s)
    assert second.waited_s[0] >= first.took_s > 0
    assert second.took_s > 0


async def test_an_observer_that_fails_is_logged_and_the_writes_go_on(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # given a batcher whose observer is broken
    tenant = await make_tenant(db)

    def broken(_timing: BatchTiming) -> None:
        raise RuntimeError("observer bug")

    batcher = WriteBatcher(db.uow, observe=broken)
    seen: list[object] = []
    # when two writes run, one after the other
    results = [await batcher.run(writer(tenant, n, seen)) for n in ("one", "two")]
    # then both were stored and answered, and the failure was logged each time
    assert results == ["one", "two"]
    assert (await stored(db, tenant))[0] == ["one", "two"]
    failures = [r for r in caplog.records if r.getMessage() == "the write batch observer failed"]
    assert len(failures) == 2


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
    # then the batch stopped at the failure and was rolled back (no savepoints), and the two
    # others ran again together; the failing caller got its own error
    assert [seen.count(uow) for uow in dict.fromkeys(seen)] == [2, 2]
    assert batcher.batches == 2
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
    with executed(db.engine) as statements:
        # when one write arrives alone
        assert await batcher.run(writer(tenant, "alone", [])) == "alone"
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


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, int]]]:
    """Each statement run, once (an executemany too), with how many rows it carried."""
    seen: list[tuple[str, int]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        seen.append((" ".join(sql.split()).upper(), len(params) if many else 1))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def rows_into(seen: list[tuple[str, int]], table: str) -> list[int]:
    return [rows for sql, rows in seen if sql.startswith(f"INSERT INTO {table.upper()} ")]


async def test_a_batchs_rows_go_in_as_one_statement_per_table_without_savepoints(
    db: Database,
) -> None:
    # given messages of 12 new senders arriving at once (they share batches: one on SQLite, one
    # per lane at most on PostgreSQL)
    tenant = await make_tenant(db)
    senders = [f"+1650555{n:04d}" for n in range(12)]
    lanes = 1 if db.is_sqlite else BATCH_CONCURRENCY
    with statements(db) as seen:
        first = await asyncio.gather(
            *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
        )
    # then each table's rows went in with one statement per batch, and no savepoint was taken
    assert all(r.new_customer and r.new_case for r in first)
    for table in ("customers", "identities", "cases", "contacts", "messages", "journey_events"):
        inserts = rows_into(seen, table)
        assert sum(inserts) == 12, table
        assert len(inserts) <= lanes, table
    assert not [sql for sql, _ in seen if "SAVEPOINT" in sql]
    # when they all write again (known customers, open cases and contacts)
    with statements(db) as seen:
        again = await asyncio.gather(
            *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
        )
    # then the messages went in as before, and the cases' and contacts' updates in one
    # statement per batch (the ORM's executemany of UPDATEs of one shape)
    assert [r.case.id for r in again] == [r.case.id for r in first]
    assert sum(rows_into(seen, "messages")) == 12
    assert len(rows_into(seen, "messages")) <= lanes
    for table in ("CASES", "CONTACTS"):
        updates = [rows for sql, rows in seen if sql.startswith(f"UPDATE {table} ")]
        assert sum(updates) == 12, table
        assert len(updates) <= lanes, table
    assert not [sql for sql, _ in seen if "SAVEPOINT" in sql]


async def test_a_batchs_reads_are_made_once_for_all_its_members(db: Database) -> None:
    # given 12 customers who wrote before (each has a case with an open contact and open work)
    tenant = await make_tenant(db)
    senders = [f"+1650556{n:04d}" for n in range(12)]
    lanes = 1 if db.is_sqlite else BATCH_CONCURRENCY
    first = await asyncio.gather(
        *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
    )
    # when they all write again at once
    with statements(db) as seen:
        again = await asyncio.gather(
            *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
        )
    # then each found their own customer, case and contact...
    assert [(r.customer.id, r.case.id) for r in again] == [
        (r.customer.id, r.case.id) for r in first
    ]
    assert all(r.contact is not None for r in again)
    assert [r.contact.id for r in again if r.contact] == [r.contact.id for r in first if r.contact]
    # ... with one read of each kind per batch, not per message
    for table in ("IDENTITIES", "CUSTOMERS", "CASES", "CONTACTS", "WORK_ITEMS"):
        reads = [sql for sql, _ in seen if sql.startswith("SELECT") and f"FROM {table}" in sql]
        assert 1 <= len(reads) <= lanes, (table, reads)


async def test_a_batch_threads_merged_customers_into_their_clusters_latest_case(
    db: Database,
) -> None:
    # given two customers, the second with the later case, merged into the first
    tenant = await make_tenant(db)
    older = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505570001"))
    later = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505570002"))
    await do_merge_customers(db, system(tenant), older.customer.id, later.customer.id)
    others = [f"+1650557{n:04d}" for n in range(10, 14)]
    await asyncio.gather(
        *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in others)
    )
    # when both numbers write at once with others (one batch on SQLite)
    senders = ["+16505570001", "+16505570002", *others]
    results = await asyncio.gather(
        *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
    )
    # then both are the surviving customer, on the cluster's latest case
    for result in results[:2]:
        assert result.customer.id == older.customer.id
        assert result.case.id == later.case.id
        assert not result.new_case


async def test_a_preload_that_fails_is_logged_and_the_batch_goes_on_without_it(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a preload with a bug
    async def broken(uow: UnitOfWork, inbounds: list[Any]) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr("carepath.actions.ingest.preload_for_ingest", broken)
    tenant = await make_tenant(db)
    senders = [f"+1650558{n:04d}" for n in range(6)]
    lanes = 1 if db.is_sqlite else BATCH_CONCURRENCY
    # when messages arrive at once
    with statements(db) as seen:
        results = await asyncio.gather(
            *(do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, s)) for s in senders)
        )
    # then they are stored in one batch all the same (not run again, nor one by one), and the
    # failure is logged
    assert len({r.customer.id for r in results}) == 6
    assert len(rows_into(seen, "messages")) <= lanes
    assert any("a preload failed" in r.getMessage() for r in caplog.records)


async def test_a_provider_retry_in_a_batch_is_a_duplicate_and_the_others_are_stored(
    db: Database,
) -> None:
    # given a stored message, then its provider retry arriving with the messages of 5 others
    tenant = await make_tenant(db)
    message = inbound(tenant.id, Channel.SMS, "+16505550100", "hi", external_id="SM-dup")
    stored_first = await do_ingest_inbound(db, message)
    others = [
        inbound(tenant.id, Channel.SMS, f"+1650555011{n}", "hello", external_id=f"SM-{n}")
        for n in range(5)
    ]
    results = await asyncio.gather(
        *(do_ingest_inbound(db, m) for m in [*others[:2], message]),
        *(do_ingest_inbound(db, m) for m in others[2:]),
    )
    # then the retry is answered as the duplicate of the stored message, the others are stored
    retry = results[2]
    assert retry.duplicate
    assert retry.message.id == stored_first.message.id
    fresh = [r for r in results if r is not retry]
    assert not any(r.duplicate for r in fresh)
    async with db.uow(write=False) as uow:
        ids = set(
            (
                await uow.session.scalars(
                    select(messages.c.id).where(messages.c.tenant_id == tenant.id)
                )
            ).all()
        )
        created = [
            e.payload["message_id"]
            for e in await uow.events.after(tenant.id, 0, limit=100)
            if e.type == EventType.MESSAGE_CREATED
        ]
    assert ids == {stored_first.message.id, *(r.message.id for r in fresh)}
    # and one stream event per stored message, none for the retry
    assert sorted(created) == sorted(ids)


def deferred_writer(tenant: Tenant, name: str, seen: list[object], *, fail: bool = False) -> Any:
    """Work that queues a new customer (a Core insert at the end) and an event, then may fail."""

    async def work(uow: UnitOfWork) -> str:
        seen.append(uow)
        uow.insert_later(Customer.create(tenant.id, traits={"name": name}, now=utcnow()))
        await uow.events.append(tenant.id, "test.written", {"name": name})
        if fail:
            raise Refused(name)
        return name

    return work


async def test_a_member_whose_work_fails_leaves_no_rows_and_no_events(db: Database) -> None:
    # given four writes in one batch, the third failing after it queued a row and an event
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow)
    seen: list[object] = []
    names = ["a", "b", "broken", "d"]
    outcomes = await asyncio.gather(
        *(batcher.run(deferred_writer(tenant, n, seen, fail=n == "broken")) for n in names),
        return_exceptions=True,
    )
    # then its caller got its error and the others their results
    assert outcomes[:2] == ["a", "b"]
    assert isinstance(outcomes[2], Refused)
    assert outcomes[3] == "d"
    # and only the others' rows and events are stored, the seqs gap-free
    async with db.uow(write=False) as uow:
        page = await uow.customers.list(tenant.id, limit=100, cursor=None)
        events = await uow.events.after(tenant.id, 0, limit=100)
    assert sorted(str(c.name) for c in page.items) == ["a", "b", "d"]
    assert [(e.seq, e.payload["name"]) for e in events] == [(1, "a"), (2, "b"), (3, "d")]


async def test_two_members_of_one_key_never_share_a_batch(db: Database) -> None:
    # given writes of two keys arriving at once, three of the first key
    tenant = await make_tenant(db)
    batcher = WriteBatcher(db.uow)
    ran: list[tuple[str, object]] = []

    def keyed(name: str) -> Any:
        async def work(uow: UnitOfWork) -> str:
            ran.append((name, uow))
            await uow.events.append(tenant.id, "test.written", {"name": name})
            return name

        return work

    submitted = [("x1", "x"), ("x2", "x"), ("y1", "y"), ("x3", "x"), ("y2", "y"), ("z1", None)]
    results = await asyncio.gather(*(batcher.run(keyed(n), key=k) for n, k in submitted))
    # then each key had one member per batch; the later ones waited for the next, in order
    assert results == [n for n, _ in submitted]
    batches = [[n for n, uow in ran if uow is b] for b in dict.fromkeys(uow for _, uow in ran)]
    assert batches == [["x1", "y1", "z1"], ["x2", "y2"], ["x3"]]
    # and the events are numbered in commit order
    async with db.uow(write=False) as uow:
        events = await uow.events.after(tenant.id, 0, limit=100)
    assert [e.payload["name"] for e in events] == ["x1", "y1", "z1", "x2", "y2", "x3"]


async def test_a_batch_whose_writes_fail_runs_again_as_a_rerun_then_each_member_alone(
    db: Database,
) -> None:
    # given a stored customer, and a batch in which one member inserts it again (as a provider
    # retry inserts its message again) unless told that it runs again; a second batch in which
    # one member's row fails every time
    tenant = await make_tenant(db)
    taken = Customer.create(tenant.id, traits={"name": "taken"}, now=utcnow())
    async with db.uow() as uow:
        uow.customers.add(taken)
    batcher = WriteBatcher(db.uow)
    seen: list[object] = []

    def member(name: str, *, clash: str = "no") -> Any:
        async def work(uow: UnitOfWork) -> str:
            seen.append(uow)
            new = Customer.create(tenant.id, traits={"name": name}, now=utcnow())
            if clash == "always" or (clash == "first" and not uow.rerun):
                new.id = taken.id
            uow.insert_later(new)
            await uow.events.append(tenant.id, "test.written", {"name": name})
            return name

        return work

    outcomes = await asyncio.gather(
        batcher.run(member("a")),
        batcher.run(member("retry", clash="first")),
        batcher.run(member("c")),
    )
    # then the batch failed at its end and ran once more, as a rerun, where it went through
    assert list(outcomes) == ["a", "retry", "c"]
    assert batcher.batches == 2
    assert [seen.count(uow) for uow in dict.fromkeys(seen)] == [3, 3]
    seen.clear()
    outcomes = await asyncio.gather(
        batcher.run(member("d")),
        batcher.run(member("broken", clash="always")),
        batcher.run(member("f")),
        return_exceptions=True,
    )
    # and a batch that fails twice runs each member alone: each caller gets its own outcome
    assert outcomes[0] == "d"
    assert isinstance(outcomes[1], IntegrityError)
    assert outcomes[2] == "f"
    assert batcher.batches == 2 + 2 + 3
    assert [seen.count(uow) for uow in dict.fromkeys(seen)] == [3, 3, 1, 1, 1]
    async with db.uow(write=False) as uow:
        page = await uow.customers.list(tenant.id, limit=100, cursor=None)
        events = await uow.events.after(tenant.id, 0, limit=100)
    assert sorted(str(c.name) for c in page.items) == ["a", "c", "d", "f", "retry", "taken"]
    assert [(e.seq, e.payload["name"]) for e in events] == list(
        enumerate(["a", "retry", "c", "d", "f"], start=1)
    )
