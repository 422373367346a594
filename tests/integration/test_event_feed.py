"""The stream's event feed: one database read per ring for every stream of a tenant, the same
gap-free frames for each, and the database itself for a stream the feed cannot serve."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import event

from carepath.realtime import EventFeed
from carepath.storage import Database
from tests.factories import make_tenant


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
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if "FROM events" in statement:
            reads.append(f"{statement} {params}")

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        # when 1,000 streams of the tenant, all at `start`, hear the ring for the last seq
        with feed.streaming(tenant.id):
            batches = await asyncio.gather(
                *(feed.after(tenant.id, start, limit=500, upto=start + 3) for _ in range(1000))
            )
            # and one stream that is further behind than the feed holds
            behind = await feed.after(tenant.id, start - 1, limit=500, upto=start + 3)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # then the database was read once for all of them (and once for the one behind)
    assert len(reads) == 2, reads
    for batch in batches:
        assert [f.seq for f in batch] == [start + 1, start + 2, start + 3]
        assert json.loads(batch[0].text)["data"] == {"case_id": "c0"}
    assert [f.seq for f in behind][-3:] == [start + 1, start + 2, start + 3]
