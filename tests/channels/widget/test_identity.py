"""Who a visitor is: an unverified visitor sees only their own session, a verified user their
whole history, and nobody else's; the public identify rules decide, unchanged."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from carepath.actions.cases import do_reply
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind
from carepath.storage import Database
from tests.channels.widget.visitor import (
    Visitor,
    frames,
    message,
    of_type,
    open_visitor,
    signed,
    site,
    stream,
    texts,
    until,
)
from tests.factories import Company, make_company, system
from tests.inbound import inbound


async def _dana_with_history(
    base_url: str, http: httpx.AsyncClient, db: Database, company: Company
) -> Visitor:
    """A signed-in customer (user-7, dana@example.com) who chatted and was answered."""
    tenant = company.tenant
    identified = await http.post(
        "/v1/identify",
        json={
            "user_id": "user-7",
            "hash": signed(tenant, "user-7"),
            "visitor_id": "v-dana",
            "email": "dana@example.com",
        },
        headers=site(tenant),
    )
    assert identified.status_code == 200, identified.text
    dana = await open_visitor(
        http, tenant, "v-dana", user_id="user-7", hash=signed(tenant, "user-7")
    )
    async with stream(base_url, dana) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("my card number is private"))
        ack, _ = await until(ws, of_type("ack"))
    await do_reply(db, system(tenant), ack["case_id"], text="your refund of 80 EUR is approved")
    return dana


async def test_claiming_a_known_customers_email_without_a_hash_shows_none_of_their_history(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given Dana, signed in, with a conversation
    company = await make_company(app_db)
    dana = await _dana_with_history(base_url, http, app_db, company)
    # when a stranger claims her email and her user id without a hash
    claimed = await http.post(
        "/v1/identify",
        json={"visitor_id": "v-stranger", "email": "dana@example.com", "user_id": "user-7"},
        headers=site(company.tenant),
    )
    stranger = await open_visitor(http, company.tenant, "v-stranger", user_id="user-7")
    async with stream(base_url, stranger) as ws:
        history = await frames(ws)
        await ws.send(message("hello?"))
        await until(ws, of_type("ack"))
    # then the claims were ignored, and they see only their own session
    assert claimed.status_code == 200
    assert sorted(claimed.json()["ignored"]) == ["email", "user_id"]
    assert stranger.verified is False
    assert stranger.customer_id != dana.customer_id
    assert texts(history) == []
    polled = await http.get("/v1/visitor/messages?after=0", headers=stranger.headers)
    assert polled.status_code == 200
    assert "refund" not in polled.text
    assert "private" not in polled.text


async def test_a_signed_in_users_visitor_id_shows_nothing_without_the_hash(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given Dana's browser visitor id, linked to her when she signed in
    company = await make_company(app_db)
    await _dana_with_history(base_url, http, app_db, company)
    # when someone opens a session with that visitor id but no hash
    response = await http.post(
        "/v1/visitor/session", json={"visitor_id": "v-dana"}, headers=site(company.tenant)
    )
    # then it is refused, saying how to go on
    assert response.status_code == 401
    assert response.json()["error"]["data"]["reason"] == "visitor_belongs_to_user"


async def test_a_verified_user_sees_their_history_across_devices_and_channels(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given Dana's chat, and an email she sent from the address she signed in with
    company = await make_company(app_db)
    await _dana_with_history(base_url, http, app_db, company)
    await do_ingest_inbound(
        app_db, inbound(company.tenant.id, Channel.EMAIL, "dana@example.com", "by email")
    )
    # when she opens the widget on her phone (a new visitor id) with her hash
    phone = await open_visitor(
        http, company.tenant, "v-phone", user_id="user-7", hash=signed(company.tenant, "user-7")
    )
    async with stream(base_url, phone) as ws:
        history = await frames(ws)
    # then she sees it all, the email marked with its channel
    assert phone.verified is True
    assert texts(history) == [
        "my card number is private",
        "your refund of 80 EUR is approved",
        "by email",
    ]
    emailed = [f for f in history if f.get("type") == "message.created"][-1]["data"]
    assert emailed["channel"] == "email"
    assert emailed["client_id"] is None


async def test_a_wrong_hash_and_unproven_users_under_verification_required_are_refused(
    http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    tenant = company.tenant
    wrong = await http.post(
        "/v1/visitor/session",
        json={"visitor_id": "v-1", "user_id": "user-7", "hash": signed(tenant, "user-8")},
        headers=site(tenant),
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["data"]["reason"] == "invalid_hash"
    async with app_db.uow() as uow:
        stored = await uow.tenants.get(tenant.id)
        assert stored is not None
        stored.verification_required = True
    unproven = await http.post(
        "/v1/visitor/session", json={"visitor_id": "v-1", "user_id": "user-7"}, headers=site(tenant)
    )
    assert unproven.status_code == 401
    assert unproven.json()["error"]["data"]["reason"] == "verification_required"
    # an anonymous visitor may still chat
    anonymous = await open_visitor(http, tenant, "v-1")
    assert anonymous.verified is False


async def test_a_forged_or_missing_session_is_refused_on_the_stream_and_rest(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    forged = Visitor(company.tenant, visitor.visitor_id, visitor.session + "x", "", False)
    async with stream(base_url, forged) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    response = await http.get("/v1/visitor/messages", headers=forged.headers)
    assert response.status_code == 401
    assert response.json()["error"]["data"]["reason"] == "invalid_session"
    assert (await http.get("/v1/visitor/messages")).status_code == 401


async def test_an_app_user_writes_on_the_app_channel_as_their_user_id(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given an app that signed its user in with the hash
    company = await make_company(app_db)
    tenant = company.tenant
    app_user = await open_visitor(
        http, tenant, "device-1", user_id="user-9", hash=signed(tenant, "user-9"), channel="app"
    )
    # when the user writes through the REST API
    sent = await http.post(
        "/v1/visitor/messages",
        json={"client_id": "5f0c6c52-5d43-4a36-9d4e-3c1a57a1f0aa", "text": "from the app"},
        headers=app_user.headers,
    )
    # then the message is on the app channel, from the user's verified identity
    assert sent.status_code == 201, sent.text
    async with app_db.uow(write=False) as uow:
        stored = await uow.messages.get(tenant.id, sent.json()["message_id"])
        identity = await uow.identities.find(tenant.id, IdentityKind.APP_USER, "user-9")
    assert stored is not None
    assert stored.channel == Channel.APP
    assert identity is not None
    assert identity.verified
    assert stored.customer_id == identity.customer_id == app_user.customer_id
