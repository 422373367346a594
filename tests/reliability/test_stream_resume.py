"""Stream resume under churn: `/v1/stream` clients drop at random points (a clean close, or the
socket cut mid-stream) and come back with the last id they saw, while writers append events
concurrently. Each client ends with every event exactly once, in order."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import events
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound
from tests.live import receive, serving
from tests.reliability_report import record

pytestmark = pytest.mark.reliability

CLIENTS = 6
WRITERS = 3
MESSAGES_PER_WRITER = 60
SEED = 1203


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@pytest.fixture
def app_db(app: FastAPI, db: Database) -> Database:
    """The server's own database handle: its commits ring the server's doorbell."""
    served: Database = app.state.carepath.db
    return served


async def last_seq(db: Database, company: Company) -> int:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            select(func.max(events.c.seq)).where(events.c.tenant_id == company.tenant.id)
        )
    return int(value or 0)


async def write(db: Database, company: Company, writer: int, rng: random.Random) -> None:
    for n in range(MESSAGES_PER_WRITER):
        sender = f"+165055501{rng.randrange(30):02d}"
        await do_ingest_inbound(
            db, inbound(company.tenant.id, Channel.SMS, sender, f"writer {writer} message {n}")
        )
        await asyncio.sleep(rng.uniform(0, 0.03))


class Client:
    """Reads the stream in short sessions, resuming each from the last id it saw."""

    def __init__(self, base_url: str, token: str, start: int, rng: random.Random) -> None:
        self.base_url = base_url
        self.token = token
        self.last_seen = start
        self.seen: list[int] = []
        self.rng = rng
        self.reconnects = 0

    async def run(self, done: asyncio.Event, final: list[int]) -> None:
        while not (done.is_set() and final and self.last_seen >= final[0]):
            await self.session()
            self.reconnects += 1
            await asyncio.sleep(self.rng.uniform(0, 0.05))

    async def session(self) -> None:
        path = f"/v1/stream?last_event_id={self.last_seen}"
        # An unbounded receive queue: with the default (16 frames) a client that stops reading
        # mid-flood stops reading the socket too and waits out its close timeout (10 s) for
        # the server's close frame, which is the library's flow control, not the server.
        ws = await connect(
            self.base_url.replace("http://", "ws://") + path,
            additional_headers=bearer(self.token),
            proxy=None,
            open_timeout=5,
            max_queue=None,
        )
        try:
            ready = await receive(ws)
            assert ready == {"type": "stream.ready", "last_event_id": self.last_seen}
            for _ in range(self.rng.randint(1, 25)):  # drop after a random number of frames
                try:
                    frame = await receive(ws, within=0.3)
                except TimeoutError:
                    break
                if frame["type"] == "heartbeat":
                    continue
                self.seen.append(int(frame["id"]))
                self.last_seen = int(frame["id"])
        finally:
            if self.rng.random() < 0.5:
                ws.transport.abort()  # the network went away: no closing handshake
            else:
                await ws.close()


async def test_clients_that_drop_and_resume_miss_nothing_and_see_nothing_twice(
    base_url: str, app_db: Database
) -> None:
    company = await make_company(app_db)
    start = await last_seq(app_db, company)
    rng = random.Random(SEED)
    clients = [
        Client(base_url, company.agent_token, start, random.Random(rng.random()))
        for _ in range(CLIENTS)
    ]
    done, final = asyncio.Event(), list[int]()
    started = time.monotonic()
    readers = [asyncio.create_task(c.run(done, final)) for c in clients]
    # when writers append events while the clients come and go
    await asyncio.gather(
        *(write(app_db, company, w, random.Random(rng.random())) for w in range(WRITERS))
    )
    final.append(await last_seq(app_db, company))
    done.set()
    finished, _ = await asyncio.wait(readers, timeout=30)
    assert len(finished) == CLIENTS, [
        (c.last_seen, final, len(c.seen), c.reconnects) for c in clients
    ]
    elapsed = time.monotonic() - started
    # then each client saw every event once, in order
    expected = list(range(start + 1, final[0] + 1))
    for client in clients:
        assert client.seen == expected
    record(
        "stream-resume",
        section="Nothing lost, nothing doubled",
        what=(
            f"{CLIENTS} `/v1/stream` clients drop after a random number of events (half with a "
            "clean close, half with the socket cut) and resume from their last seen id, while "
            f"{WRITERS} writers ingest messages concurrently."
        ),
        counts={
            "events appended": len(expected),
            "clients": CLIENTS,
            "reconnects": sum(c.reconnects for c in clients),
            "events received": sum(len(c.seen) for c in clients),
            "duration (s)": round(elapsed, 2),
        },
        result="every client received every event exactly once, in order: none missed, none twice",
    )
