"""Two `carepath serve` processes sharing PostgreSQL and Redis: an event caused through one
reaches a stream client of the other at once (through Redis, not the 25 s poll)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage import migrate as migrations
from tests import services
from tests.conftest import TEST_SECRET
from tests.factories import bearer, make_company
from tests.inbound import inbound
from tests.live import receive, receive_events, ws_connect
from tests.processes import running_server


@pytest.fixture
async def shared_postgres() -> AsyncIterator[str]:
    async with services.fresh_postgres_database(services.need_postgres()) as url:
        yield url


async def test_an_event_caused_through_process_a_reaches_a_client_of_process_b(
    shared_postgres: str,
) -> None:
    redis_url = services.need_redis()
    db = Database(shared_postgres)
    try:
        await migrations.upgrade(db)
        company = await make_company(db)
        case = (
            await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550100"))
        ).case
    finally:
        await db.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")},
        "CAREPATH_DATABASE_URL": shared_postgres,
        "CAREPATH_REDIS_URL": redis_url,
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_RUN_WORKER": "false",
    }
    with running_server(env) as process_a, running_server(env) as process_b:
        async with ws_connect(process_b, "/v1/stream", bearer(company.agent_token)) as ws:
            assert (await receive(ws))["type"] == "stream.ready"
            started = time.monotonic()
            async with httpx.AsyncClient(base_url=process_a) as http:
                note = await http.post(
                    f"/v1/cases/{case.id}/notes",
                    json={"text": "written through A"},
                    headers=bearer(company.agent_token),
                )
                assert note.status_code == 201, note.text
            events = await receive_events(ws, 1, within=5)
            latency = time.monotonic() - started
    assert events[0]["type"] == "note.added"
    assert events[0]["data"]["text"] == "written through A"
    assert latency < 3, f"took {latency:.1f}s: the doorbell did not cross processes"
