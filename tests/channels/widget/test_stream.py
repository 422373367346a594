"""The visitor stream: send with an ack, dedupe on resend, exact resume, what a visitor sees."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from carepath.access import Principal
from carepath.actions.cases import do_add_note, do_reply, do_resolve_case
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import messages
from carepath.types import Role
from tests.channels.widget.visitor import (
    frames,
    message,
    of_type,
    open_visitor,
    stream,
    texts,
    until,
)
from tests.factories import bearer, make_company, make_user, system
from tests.inbound import inbound


async def _stored(db: Database, text: str) -> int:
    async with db.engine.connect() as conn:
        query = select(func.count()).select_from(messages).where(messages.c.text == text)
        return int((await conn.execute(query)).scalar_one())


async def test_a_message_is_acked_with_its_id_and_streamed_back(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a new visitor on the stream
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    client_id = str(uuid.uuid4())
    async with stream(base_url, visitor) as ws:
        ready, _ = await until(ws, of_type("stream.ready"))
        # when they send a message
        await ws.send(message("my refund has not arrived", client_id))
        ack, _ = await until(ws, of_type("ack"))
        received = await frames(ws)
    # then the ack names the stored message, and the stream shows it with the client's id
    assert ready["visitor"] == {
        "visitor_id": visitor.visitor_id,
        "verified": False,
        "channel": "chat",
    }
    assert ack["client_id"] == client_id
    assert ack["duplicate"] is False
    created = [f for f in received if f.get("type") == "message.created"]
    assert len(created) == 1
    data = created[0]["data"]
    assert data["message_id"] == ack["message_id"]
    assert data["client_id"] == client_id
    assert data["author"] == {"kind": "customer", "name": None}
    assert data["case_id"] == ack["case_id"]
    assert {"assignee_id", "customer_id", "author_id"}.isdisjoint(data)
    async with app_db.uow(write=False) as uow:
        case = await uow.cases.get(company.tenant.id, ack["case_id"])
    assert case is not None
    assert case.channel == Channel.CHAT


async def test_a_resend_after_a_reconnect_stores_nothing_twice(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a message that was stored, but the connection dropped before the client knew
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    client_id = str(uuid.uuid4())
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("are you there?", client_id))
        first, _ = await until(ws, of_type("ack"))
        seen = [f for f in await frames(ws) if "id" in f]
    last_id = max(f["id"] for f in seen)
    # when the client reconnects from what it saw and sends the same message again
    async with stream(base_url, visitor, last_id) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("are you there?", client_id))
        again, before = await until(ws, of_type("ack"))
        after = await frames(ws)
    # then it is acked as the same message, stored once, and not streamed a second time
    assert again["duplicate"] is True
    assert again["message_id"] == first["message_id"]
    assert await _stored(app_db, "are you there?") == 1
    assert texts(before + after) == []


async def test_a_reconnect_gets_exactly_the_missed_events_in_order(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a visitor who wrote, was answered, then dropped
    company = await make_company(app_db)
    agent = await make_user(app_db, company.tenant, Role.AGENT)
    dana = Principal(company.tenant.id, Role.AGENT, user_id=agent.id)
    visitor = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("hello"))
        ack, _ = await until(ws, of_type("ack"))
        seen = [f for f in await frames(ws) if "id" in f]
    last_id = max(f["id"] for f in seen)
    # when, while they are away, an agent replies twice and notes something internal,
    # and another customer writes
    await do_reply(app_db, dana, ack["case_id"], text="Hi, I am looking into it")
    await do_add_note(app_db, dana, ack["case_id"], text="INTERNAL: check the refund batch")
    await do_ingest_inbound(
        app_db, inbound(company.tenant.id, Channel.SMS, "+16505550199", "someone else")
    )
    await do_reply(app_db, system(company.tenant), ack["case_id"], text="It is on its way")
    # then on reconnect they get exactly the replies and case changes, in order, once
    async with stream(base_url, visitor, last_id) as ws:
        ready, _ = await until(ws, of_type("stream.ready"))
        missed = await frames(ws)
    assert ready["last_event_id"] == last_id
    assert [(f["type"], f["data"].get("text")) for f in missed] == [
        ("message.created", "Hi, I am looking into it"),
        ("case.updated", None),
        ("message.created", "It is on its way"),
        ("case.updated", None),
    ]
    ids = [f["id"] for f in missed]
    assert ids == sorted(ids)
    assert ids[0] > last_id
    # the agent is named; carepath's own messages carry the company's name
    assert missed[0]["data"]["author"] == {"kind": "agent", "name": agent.display_name}
    assert missed[2]["data"]["author"] == {"kind": "system", "name": company.tenant.name}
    assert missed[1]["data"] == {"case_id": ack["case_id"], "status": "assigned"}
    assert "INTERNAL" not in str(missed)
    assert "someone else" not in str(missed)


async def test_a_new_connection_replays_the_whole_conversation(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a visitor with a conversation
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("first"))
        ack, _ = await until(ws, of_type("ack"))
    await do_reply(app_db, system(company.tenant), ack["case_id"], text="second")
    # when the page loads again (no last event id)
    async with stream(base_url, visitor) as ws:
        history = await frames(ws)
    # then it gets the conversation from its start
    assert texts(history) == ["first", "second"]


async def test_visitors_never_see_each_others_conversations(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    other_company = await make_company(app_db)
    alice = await open_visitor(http, company.tenant)
    bob = await open_visitor(http, company.tenant)
    carol = await open_visitor(http, other_company.tenant, alice.visitor_id)
    async with stream(base_url, alice) as a_ws, stream(base_url, bob) as b_ws:
        await until(a_ws, of_type("stream.ready"))
        await until(b_ws, of_type("stream.ready"))
        async with stream(base_url, carol) as c_ws:
            await until(c_ws, of_type("stream.ready"))
            await c_ws.send(message("carol's secret in another company"))
            await until(c_ws, of_type("ack"))
        await b_ws.send(message("bob's secret"))
        bob_ack, _ = await until(b_ws, of_type("ack"))
        await do_reply(app_db, system(company.tenant), bob_ack["case_id"], text="for bob only")
        await a_ws.send(message("alice writes"))
        await until(a_ws, of_type("ack"))
        seen_by_alice = await frames(a_ws)
        seen_by_bob = await frames(b_ws)
    assert texts(seen_by_alice) == ["alice writes"]
    assert texts(seen_by_bob) == ["bob's secret", "for bob only"]
    # and bob's case cannot be pinned by alice: her message goes to her own case
    async with stream(base_url, alice, 0) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("into bob's case?", case_id=bob_ack["case_id"]))
        ack, _ = await until(ws, of_type("ack"))
    assert ack["case_id"] != bob_ack["case_id"]


async def test_typing_read_receipts_and_the_survey_reach_the_right_side(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a visitor in a conversation with an agent
    company = await make_company(app_db)
    agent = await make_user(app_db, company.tenant, Role.AGENT)
    dana = Principal(company.tenant.id, Role.AGENT, user_id=agent.id)
    visitor = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("hello"))
        ack, _ = await until(ws, of_type("ack"))
        reply = await do_reply(app_db, dana, ack["case_id"], text="Hello, Dana here")
        # when the agent types, the visitor types and reads, and the agent resolves the case
        typing = await http.post(
            f"/v1/cases/{ack['case_id']}/typing", headers=bearer(company.agent_token)
        )
        assert typing.status_code == 202
        await ws.send('{"type": "typing"}')
        await ws.send('{"type": "typing"}')  # throttled: one signal is enough
        await ws.send(f'{{"type": "read", "up_to": "{reply.id}"}}')
        await do_resolve_case(app_db, dana, ack["case_id"])
        received = await frames(ws, quiet=1.0)
    by_type = {f["type"]: f["data"] for f in received}
    # then the visitor sees the team typing (not themselves), the reply read, and a survey
    assert by_type["typing"]["author"]["kind"] == "system"  # an API token, not a person
    assert [f["type"] for f in received].count("typing") == 1
    assert by_type["message.updated"] == {
        "message_id": reply.id,
        "case_id": ack["case_id"],
        "delivery_status": "read",
    }
    assert by_type["case.resolved"]["status"] == "resolved"
    survey = by_type["survey.sent"]
    assert survey["questions"][0]["kind"] == "csat"
    # and the survey's token answers it without any login
    answer = await http.post(
        "/v1/surveys/answer", json={"token": survey["token"], "answers": {"csat": 5}}
    )
    assert answer.status_code == 200, answer.text
    async with app_db.uow(write=False) as uow:
        typing_events = [
            e for e in await uow.events.after(company.tenant.id, 0, limit=500) if e.type == "typing"
        ]
    assert sorted(e.payload["author_kind"] for e in typing_events) == ["customer", "system"]
