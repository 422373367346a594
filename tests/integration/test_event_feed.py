"""The stream's event feed: one database read per ring for every stream of a tenant, the same
gap-free frames for each, and the database itself for a stream the feed cannot serve; what this
process committed, taken from the commit without a read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.domain.events import Event
from carepath.ids import TenantId
from carepath.realtime import EventFeed
from carepath.realtime.feed import Frame
from carepath.storage import Database
from tests.factories import make_tenant
from tests.inbound import inbound
from tests.statements import executed

EVENT_READ = "FROM events"


async def test_a_thousand_streams_woken_by_one_ring_share_one_read(db: Database) -> None:
    # given a tenant with three committed events, numbered in one transaction
    tenant = await make_tenant(db)
    async with db.uow() as uow:
        start = await uow.events.last_seq(tenant.id)
        appended = await uow.events.append_many(
            tenant.id, [("case.updated", {"case_id": f"c{n}"}) for n in range(3)]
        )
    assert [e.seq for e in appended] == [start + 1, start + 2, start + 3]
    feed = EventFeed(db)
    # when 1,000 streams of the tenant, all at `start`, hear the ring for the last seq
    with executed(db.engine, EVENT_READ) as reads, feed.streaming(tenant.id):
        batches = await asyncio.gather(
            *(feed.after(tenant.id, start, limit=500, upto=start + 3) for _ in range(1000))
        )
        # and one stream that is further behind than the feed holds
        behind = await feed.after(tenant.id, start - 1, limit=500, upto=start + 3)
    # then the database was read once for all of them (and once for the one behind)
    assert len(reads) == 2, reads
    for batch in batches:
        assert [f.seq for f in batch] == [start + 1, start + 2, start + 3]
        assert json.loads(batch[0].text)["data"] == {"case_id": "c0"}
    assert [f.seq for f in behind][-3:] == [start + 1, start + 2, start + 3]


@contextmanager
def offering(db: Database, feed: EventFeed) -> Iterator[None]:
    """What the app's commit hook does for its feed (web/app.py)."""

    async def hook(_seqs: dict[TenantId, int], written: list[Event]) -> None:
        feed.offer(written)

    db.on_commit = hook
    try:
        yield
    finally:
        db.on_commit = None


def wire(frames: list[Frame]) -> list[Any]:
    # Parsed: PostgreSQL's jsonb gives a payload's keys back in an order of its own.
    return [json.loads(f.text) for f in frames]


async def test_what_this_process_commits_reaches_its_streams_without_a_read(
    db: Database,
) -> None:
    # given a tenant with a stream in this process, and the commit hook feeding the feed
    tenant = await make_tenant(db)
    feed = EventFeed(db)
    with feed.streaming(tenant.id), offering(db, feed):
        async with db.uow() as uow:
            start = await uow.events.last_seq(tenant.id)
        # when a customer's first message is ingested (a customer, a case, a message: events)
        await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550101", "hi"))
        async with db.uow(write=False) as uow:
            last = await uow.events.last_seq(tenant.id)
        # then the stream hearing the ring gets every new event without reading the database
        with executed(db.engine, EVENT_READ) as reads:
            served = await feed.after(tenant.id, start, limit=500, upto=last)
        assert reads == []
    assert [f.seq for f in served] == list(range(start + 1, last + 1))
    assert last - start >= 2
    # and exactly what reading them back gives
    assert wire(served) == wire(await EventFeed(db).after(tenant.id, start, limit=500, upto=None))


async def test_after_another_process_commits_the_feed_reads_rather_than_skip_it(
    db: Database, database_url: str
) -> None:
    # given a stream in this process whose feed holds the tenant's latest event
    tenant = await make_tenant(db)
    feed = EventFeed(db)
    other = Database(database_url)  # another process's engine, with no hook
    try:
        with feed.streaming(tenant.id), offering(db, feed):
            async with db.uow() as uow:
                first = await uow.events.append(tenant.id, "case.updated", {"n": 1})
            # when another process commits an event, then this one does
            async with other.uow() as uow:
                await uow.events.append(tenant.id, "case.updated", {"n": 2})
            async with db.uow() as uow:
                third = await uow.events.append(tenant.id, "case.updated", {"n": 3})
            # then the feed did not take this process's event over the gap: the ring reads
            with executed(db.engine, EVENT_READ) as reads:
                served = await feed.after(tenant.id, first.seq, limit=500, upto=third.seq)
            assert len(reads) == 1
    finally:
        await other.dispose()
    assert [(f.seq, json.loads(f.text)["data"]) for f in served] == [
        (first.seq + 1, {"n": 2}),
        (third.seq, {"n": 3}),
    ]


async def test_a_commit_offered_while_a_read_is_out_is_held_once(db: Database) -> None:
    # given a feed holding the tenant's events so far, and one more committed without the hook
    tenant = await make_tenant(db)
    async with db.uow() as uow:
        before = await uow.events.append(tenant.id, "case.updated", {"n": 1})
    async with db.uow() as uow:
        late = await uow.events.append(tenant.id, "case.updated", {"n": 2})

    class CommitLandsDuringRead(EventFeed):
        async def _read(self, tenant_id: TenantId, seq: int, limit: int) -> list[Frame]:
            read = await super()._read(tenant_id, seq, limit)
            if seq == before.seq:  # the refill's read is back: the commit's hook runs now
                self.offer([late])
            return read

    feed = CommitLandsDuringRead(db)
    with feed.streaming(tenant.id):
        feed.offer([before])
        # when a ring makes the feed read, and the commit it reads is offered meanwhile
        served = await feed.after(tenant.id, before.seq, limit=500, upto=late.seq)
        # then the stream gets it once, and the feed holds it once
        again = await feed.after(tenant.id, before.seq - 1, limit=500, upto=late.seq)
    assert [f.seq for f in served] == [late.seq]
    assert [f.seq for f in again] == [before.seq, late.seq]
