"""Two dispatchers with their own connection pools on one SQLite file (BEGIN IMMEDIATE serialises
their writes), while agents finish work: each item assigned once, nobody above capacity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from carepath.routing.dispatcher import Dispatcher
from carepath.storage import Database
from tests.integration.test_dispatcher_processes import check_records, run_until_done, set_up

pytestmark = pytest.mark.slow


@pytest.mark.timeout(300)
async def test_two_dispatchers_share_a_sqlite_database(tmp_path: Path) -> None:
    # given 300 queued items and 30 online agents in a SQLite file
    url = f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}"
    setup = await set_up(url, items=300, agents=30, auto_accept=True)
    pools = [Database(url), Database(url)]
    stop = asyncio.Event()
    try:
        # when two dispatchers, each with its own pool, run while agents finish their work
        tasks = [
            asyncio.create_task(Dispatcher(db, name=f"d{n}", idle_sleep=0.02).run(stop))
            for n, db in enumerate(pools)
        ]
        await run_until_done(setup, 240, accept=False)
        stop.set()
        await asyncio.gather(*tasks)
        # then every item was assigned once, and nobody was ever above capacity
        await check_records(setup)
    finally:
        stop.set()
        for db in (*pools, setup.db):
            await db.dispose()
