"""The event stream: live events, exact resume by last_event_id, tenant isolation, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from carepath.actions.identify import TrackedEvent, do_track
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.storage import Database
from tests.factories import bearer, make_company
from tests.inbound import inbound
from tests.live import nothing_more, receive, receive_events, serving, ws_connect


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@pytest.fixture
def app_db(app: FastAPI, db: Database) -> Database:
    """The server's own database handle: its commits ring the server's doorbell, as in
    production where changes are made through the server."""
    served: Database = app.state.carepath.db
    return served


async def test_a_client_receives_new_events_live(base_url: str, app_db: Database) -> None:
    company = await make_company(app_db)
    async with ws_connect(base_url, "/v1/stream", bearer(company.agent_token)) as ws:
        ready = await receive(ws)
        assert ready["type"] == "stream.ready"
        await do_ingest_inbound(
            app_db, inbound(company.tenant.id, Channel.SMS, "+16505550100", "hi")
        )
        events = await receive_events(ws, 4)
    assert [e["type"] for e in events] == [
        "customer.created",
        "case.created",
        "contact.started",
        "message.created",
    ]
    assert [e["id"] for e in events] == list(
        range(ready["last_event_id"] + 1, ready["last_event_id"] + 5)
    )
    assert events[-1]["data"]["text"] == "hi"


async def test_a_feed_that_fails_on_a_commit_leaves_the_write_done_and_the_stream_reads(
    app: FastAPI,
    base_url: str,
    app_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a connected stream whose process's feed breaks when handed committed events
    # (a stand-in for a bug: no real input makes it fail)
    company = await make_company(app_db)
    async with ws_connect(base_url, "/v1/stream", bearer(company.agent_token)) as ws:
        ready = await receive(ws)

        def broken(_committed: object) -> None:
            raise RuntimeError("feed bug")

        monkeypatch.setattr(app.state.carepath.feed(), "offer", broken)
        # when a message is ingested
        result = await do_ingest_inbound(
            app_db, inbound(company.tenant.id, Channel.SMS, "+16505550100", "hi")
        )
        # then the write went through, and the stream still got its events, read back
        events = await receive_events(ws, 4)
    assert not result.duplicate
    assert [e["id"] for e in events] == list(
        range(ready["last_event_id"] + 1, ready["last_event_id"] + 5)
    )
    assert "the stream feed refused committed events" in caplog.text


async def test_reconnecting_with_last_event_id_gets_exactly_the_100_missed_events(
    base_url: str, app_db: Database
) -> None:
    # given a client that saw everything up to some event, then dropped
    company = await make_company(app_db)
    visitor = IdentityRef.of(IdentityKind.WEB_VISITOR, "v-100")
    await do_track(
        app_db,
        company.tenant.id,
        visitor,
        [TrackedEvent(JourneyEventType.PAGE_VIEW, "home", Channel.WEB)],
    )
    async with ws_connect(base_url, "/v1/stream", bearer(company.agent_token)) as ws:
        last_seen = (await receive(ws))["last_event_id"]
    # when 100 events happen while it is away
    batch = [TrackedEvent(JourneyEventType.PAGE_VIEW, f"page-{n}", Channel.WEB) for n in range(100)]
    await do_track(app_db, company.tenant.id, visitor, batch)
    # then on reconnect it gets exactly those 100, in order, and nothing twice
    async with ws_connect(
        base_url, f"/v1/stream?last_event_id={last_seen}", bearer(company.agent_token)
    ) as ws:
        assert (await receive(ws))["last_event_id"] == last_seen
        events = await receive_events(ws, 100)
        assert await nothing_more(ws)
    assert [e["id"] for e in events] == list(range(last_seen + 1, last_seen + 101))
    assert [e["data"]["name"] for e in events] == [f"page-{n}" for n in range(100)]


async def test_a_client_never_sees_another_tenants_events(base_url: str, app_db: Database) -> None:
    mine = await make_company(app_db)
    theirs = await make_company(app_db)
    async with ws_connect(base_url, "/v1/stream?last_event_id=0", bearer(mine.agent_token)) as ws:
        await receive(ws)
        await do_ingest_inbound(
            app_db, inbound(theirs.tenant.id, Channel.SMS, "+16505550199", "secret")
        )
        await do_ingest_inbound(
            app_db, inbound(mine.tenant.id, Channel.SMS, "+16505550100", "mine")
        )
        events = await receive_events(ws, 4)
        assert await nothing_more(ws)
    assert all("secret" not in str(e) for e in events)
    assert events[-1]["data"]["text"] == "mine"


async def test_the_stream_refuses_missing_credentials(base_url: str) -> None:
    async with ws_connect(base_url, "/v1/stream") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_the_stream_refuses_a_cross_site_cookie_handshake(
    base_url: str, app_db: Database
) -> None:
    import httpx

    company = await make_company(app_db)
    async with httpx.AsyncClient(base_url=base_url) as http:
        login = await http.post(
            "/v1/auth/login",
            json={
                "tenant": company.tenant.slug,
                "email": company.admin.email,
                "password": "correct horse battery staple",
            },
        )
        assert login.status_code == 200
        cookie = login.headers["set-cookie"].split(";")[0]
    same_site = {"Cookie": cookie, "Origin": base_url}
    async with ws_connect(base_url, "/v1/stream", same_site) as ws:
        assert (await receive(ws))["type"] == "stream.ready"
    cross_site = {"Cookie": cookie, "Origin": "https://evil.example"}
    async with ws_connect(base_url, "/v1/stream", cross_site) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
