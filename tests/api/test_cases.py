"""The cases API: list, read with the cross-channel history, reply, note, assign, resolve."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from carepath.actions.identify import do_identify
from carepath.actions.ingest import IngestResult, do_ingest_inbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.outbox import OutboxItem
from carepath.storage import Database
from carepath.storage.tables import outbox
from carepath.types import Role
from tests.factories import Company, bearer, make_company, make_token, make_user
from tests.inbound import inbound


async def a_case(db: Database, company: Company, channel: Channel = Channel.SMS) -> IngestResult:
    sender = {Channel.SMS: "+16505550100", Channel.EMAIL: "dana@example.com"}.get(channel, "v-1")
    return await do_ingest_inbound(
        db, inbound(company.tenant.id, channel, sender, "where is my refund?")
    )


async def outbox_items(db: Database, kind: str) -> list[OutboxItem]:
    async with db.uow(write=False) as uow:
        query = select(OutboxItem).where(outbox.c.kind == kind)
        return list((await uow.session.scalars(query)).all())


async def test_a_case_reads_with_messages_contacts_and_the_cross_channel_journey(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    await do_identify(
        db,
        company.tenant.id,
        [
            IdentityRef.of(IdentityKind.PHONE, "+16505550100"),
            IdentityRef.of(IdentityKind.EMAIL, "dana@example.com"),
        ],
    )
    first = await a_case(db, company, Channel.SMS)
    await do_ingest_inbound(
        db,
        inbound(
            company.tenant.id,
            Channel.EMAIL,
            "dana@example.com",
            "also by email",
            after=timedelta(seconds=1),
        ),
    )
    response = await client.get(f"/v1/cases/{first.case.id}", headers=bearer(company.agent_token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "bot"
    assert body["channel"] == "email"
    assert [m["text"] for m in body["messages"]] == ["where is my refund?", "also by email"]
    assert [c["channel"] for c in body["contacts"]] == ["sms", "email"]
    assert [(j["type"], j["channel"]) for j in body["journey"]] == [
        ("message", "sms"),
        ("message", "email"),
    ]


async def test_cases_list_and_filter(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    sms = await a_case(db, company, Channel.SMS)
    email = await a_case(db, company, Channel.EMAIL)
    headers = bearer(company.agent_token)
    everything = (await client.get("/v1/cases", headers=headers)).json()["items"]
    assert {c["id"] for c in everything} == {sms.case.id, email.case.id}
    by_channel = (
        await client.get("/v1/cases", params={"channel": "email"}, headers=headers)
    ).json()
    assert [c["id"] for c in by_channel["items"]] == [email.case.id]
    by_customer = await client.get(
        "/v1/cases", params={"customer": sms.customer.id}, headers=headers
    )
    assert [c["id"] for c in by_customer.json()["items"]] == [sms.case.id]
    bad = await client.get("/v1/cases", params={"status": "sleeping"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["data"]["fields"][0]["field"] == "status"


async def test_a_reply_goes_through_the_outbox_on_the_cases_channel_or_a_chosen_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    case = (await a_case(db, company, Channel.SMS)).case
    agent = await make_user(db, company.tenant, Role.AGENT)
    headers = bearer(company.agent_token)
    # on the case's channel
    sent = await client.post(
        f"/v1/cases/{case.id}/replies", json={"text": "It was sent today."}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["channel"] == "sms"
    assert sent.json()["direction"] == "outbound"
    deliveries = await outbox_items(db, "deliver_message")
    assert [d.payload["message_id"] for d in deliveries] == [sent.json()["id"]]
    # on a channel the customer cannot be reached on: refused, nothing queued
    refused = await client.post(
        f"/v1/cases/{case.id}/replies", json={"text": "x", "channel": "email"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["data"]["field"] == "channel"
    assert len(await outbox_items(db, "deliver_message")) == 1
    # an internal note is never delivered
    note = await client.post(f"/v1/cases/{case.id}/notes", json={"text": "VIP"}, headers=headers)
    assert note.status_code == 201
    assert note.json()["is_internal_note"] is True
    assert len(await outbox_items(db, "deliver_message")) == 1
    assert agent.id  # a second agent exists; it plays no part here


async def test_an_agent_replying_to_a_waiting_case_takes_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    case = (await a_case(db, company)).case
    login = await client.post(
        "/v1/auth/login",
        json={
            "tenant": company.tenant.slug,
            "email": company.admin.email,
            "password": "correct horse battery staple",
        },
    )
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    await client.post(
        f"/v1/cases/{case.id}/replies", json={"text": "On it", "set_pending": True}, headers=csrf
    )
    read = (await client.get(f"/v1/cases/{case.id}")).json()
    assert read["assignee_id"] == company.admin.id
    assert read["status"] == "pending_customer"
    # the customer answers: back to the agent
    await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550100", "thanks"))
    assert (await client.get(f"/v1/cases/{case.id}")).json()["status"] == "assigned"


async def test_intent_and_priority_are_set_and_validated(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    case = (await a_case(db, company)).case
    headers = bearer(company.agent_token)
    ok = await client.patch(
        f"/v1/cases/{case.id}",
        json={"intent": "refund_not_received", "priority": "high"},
        headers=headers,
    )
    assert ok.status_code == 200
    assert (ok.json()["intent"], ok.json()["priority"]) == ("refund_not_received", "high")
    bad = await client.patch(
        f"/v1/cases/{case.id}", json={"intent": "no spaces please"}, headers=headers
    )
    assert bad.status_code == 422
    unknown = await client.patch(f"/v1/cases/{case.id}", json={"priority": "meh"}, headers=headers)
    assert unknown.status_code == 422


async def test_only_supervisors_assign_cases_to_others(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    case = (await a_case(db, company)).case
    agent = await make_user(db, company.tenant, Role.AGENT)
    as_agent = await client.post(
        f"/v1/cases/{case.id}/assign",
        json={"assignee_id": agent.id},
        headers=bearer(company.agent_token),
    )
    assert as_agent.status_code == 403
    as_supervisor = await client.post(
        f"/v1/cases/{case.id}/assign",
        json={"assignee_id": agent.id},
        headers=bearer(company.supervisor_token),
    )
    assert as_supervisor.status_code == 200
    assert as_supervisor.json()["status"] == "assigned"
    assert as_supervisor.json()["assignee_id"] == agent.id


async def test_resolving_sends_a_survey_answered_once_by_a_number(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a resolved SMS case
    company = await make_company(db)
    case = (await a_case(db, company)).case
    resolved = await client.post(
        f"/v1/cases/{case.id}/resolve", headers=bearer(company.agent_token)
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    surveys = await outbox_items(db, "deliver_survey")
    assert len(surveys) == 1
    # when the customer replies "5"
    answer = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.SMS, "+16505550100", " 5 ")
    )
    # then it is recorded on the contact, and the case stays resolved
    assert answer.case.id == case.id
    assert answer.contact is None
    read = (await client.get(f"/v1/cases/{case.id}", headers=bearer(company.agent_token))).json()
    assert read["status"] == "resolved"
    assert read["contacts"][0]["csat"] == 5
    assert read["journey"][-1]["type"] == "survey"
    # and a second number is a new message that reopens the case (the survey is answered)
    again = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.SMS, "+16505550100", "4")
    )
    assert again.case.id == case.id
    assert again.case.status.value == "queued"


async def test_survey_links_refuse_forged_and_repeated_answers(
    client: httpx.AsyncClient, db: Database
) -> None:
    from carepath.survey_links import survey_token
    from tests.conftest import TEST_SECRET

    company = await make_company(db)
    case = (await a_case(db, company, Channel.EMAIL)).case
    await client.post(f"/v1/cases/{case.id}/resolve", headers=bearer(company.agent_token))
    survey_id = (await outbox_items(db, "deliver_survey"))[0].payload["survey_id"]
    token = survey_token(TEST_SECRET, survey_id)
    forged = await client.post(
        "/v1/surveys/answer", json={"token": token[:-3] + "abc", "answers": {"csat": 5}}
    )
    assert forged.status_code == 404
    out_of_scale = await client.post(
        "/v1/surveys/answer", json={"token": token, "answers": {"csat": 9}}
    )
    assert out_of_scale.status_code == 422
    page = await client.get(f"/s/{token}", params={"csat": 4})
    assert page.status_code == 200
    assert "Thank you" in page.text
    twice = await client.post("/v1/surveys/answer", json={"token": token, "answers": {"csat": 1}})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "survey_already_answered"
    read = (await client.get(f"/v1/cases/{case.id}", headers=bearer(company.agent_token))).json()
    assert read["contacts"][0]["csat"] == 4


async def test_a_late_survey_answer_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    from carepath.survey_links import survey_token
    from tests.conftest import TEST_SECRET

    company = await make_company(db)
    case = (await a_case(db, company, Channel.EMAIL)).case
    await client.post(f"/v1/cases/{case.id}/resolve", headers=bearer(company.agent_token))
    survey_id = (await outbox_items(db, "deliver_survey"))[0].payload["survey_id"]
    async with db.uow() as uow:
        survey = await uow.surveys.get(company.tenant.id, survey_id)
        assert survey is not None
        survey.expires_at = utcnow() - timedelta(seconds=1)
    late = await client.post(
        "/v1/surveys/answer",
        json={"token": survey_token(TEST_SECRET, survey_id), "answers": {"csat": 5}},
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "survey_expired"


async def test_another_tenants_case_is_not_found_on_every_case_route(
    client: httpx.AsyncClient, db: Database
) -> None:
    mine = await make_company(db)
    theirs = await make_company(db)
    case = (await a_case(db, theirs)).case
    headers = bearer(await make_token(db, mine.tenant, Role.ADMIN))
    calls = [
        client.get(f"/v1/cases/{case.id}", headers=headers),
        client.post(f"/v1/cases/{case.id}/replies", json={"text": "x"}, headers=headers),
        client.post(f"/v1/cases/{case.id}/notes", json={"text": "x"}, headers=headers),
        client.patch(f"/v1/cases/{case.id}", json={"priority": "high"}, headers=headers),
        client.post(f"/v1/cases/{case.id}/assign", json={"assignee_id": None}, headers=headers),
        client.post(f"/v1/cases/{case.id}/resolve", headers=headers),
        client.post(f"/v1/cases/{case.id}/reopen", headers=headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
    listed = (await client.get("/v1/cases", headers=headers)).json()["items"]
    assert listed == []
    untouched = (
        await client.get(f"/v1/cases/{case.id}", headers=bearer(theirs.agent_token))
    ).json()
    assert untouched["status"] == "bot"
    assert untouched["priority"] == "normal"
    assert untouched["messages"][-1]["text"] == "where is my refund?"


async def test_card_numbers_in_replies_and_notes_are_masked(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    case = (await a_case(db, company)).case
    headers = bearer(company.agent_token)
    reply = await client.post(
        f"/v1/cases/{case.id}/replies",
        json={"text": "charged to 4111-1111-1111-1111"},
        headers=headers,
    )
    note = await client.post(
        f"/v1/cases/{case.id}/notes", json={"text": "card 378282246310005"}, headers=headers
    )
    assert "4111-1111-1111-1111" not in reply.json()["text"]
    assert reply.json()["text"].endswith("1111")
    assert "378282246310005" not in note.json()["text"]
