"""Routed work in the workspace, as a browser uses it: offers to accept or decline, callbacks to
make or schedule, the inbox's SLA filter and team queue, live badges and capacity in use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.agents import do_set_agent_profile
from carepath.actions.channels import do_create_channel_account
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.routing.dispatcher import Dispatcher
from carepath.secretbox import SecretBox
from carepath.storage import Database
from carepath.types import Role
from tests.agents import apply_config, routing_config
from tests.api.ui_session import Browser, log_in
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, make_company, make_user, system
from tests.inbound import inbound

VOICE_NUMBER = "+16505550123"


async def _agent(
    app: FastAPI, db: Database, company: Company, skills: dict[str, int] | None = None
) -> Browser:
    user = await make_user(db, company.tenant, Role.AGENT)
    if skills is not None:
        await do_set_agent_profile(
            db, system(company.tenant), user.id, skills=skills, capacity={"messaging": 3}
        )
    return await log_in(app, company, user)


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        await browser.http.aclose()


async def _online(agent: Browser) -> None:
    response = await agent.post("/app/presence", {"presence": "online"})
    assert response.status_code == 303, response.text


async def _chat(db: Database, company: Company, visitor: str, text: str = "hello") -> str:
    result = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.CHAT, visitor, text))
    return str(result.case.id)


async def _case(client: httpx.AsyncClient, company: Company, case_id: str) -> dict[str, object]:
    response = await client.get(f"/v1/cases/{case_id}", headers=bearer(company.agent_token))
    found: dict[str, object] = response.json()
    return found


async def test_an_offer_shows_to_its_agent_only_and_accepting_opens_the_case(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    browsers: list[Browser],
) -> None:
    # given routing that offers work rather than assigning it, and two online agents
    await apply_config(client, company, routing_config(auto_accept=False))
    best = await _agent(app, db, company, {"returns": 5})
    other = await _agent(app, db, company, {"returns": 4})
    browsers += [best, other]
    await _online(best)
    await _online(other)
    # when a chat comes in and the dispatcher offers it
    case_id = await _chat(db, company, "v-offer", "where is my refund")
    await Dispatcher(db).run_once(now=utcnow())
    # then the best agent's pages show the offer (with what the customer wrote), nobody else's
    offers = await best.get("/app/offers")
    assert f'data-case-id="{case_id}"' in offers.text
    assert "where is my refund" in offers.text
    assert "data-work-id" not in (await other.get("/app/offers")).text
    assert 'id="offers"' in (await best.get("/app")).text  # the region every page reloads
    # and their capacity in use counts it (an offer holds a slot)
    assert "messaging 1/3" in (await best.get("/app/presence")).text
    # when they accept it
    work_id = offers.text.split('data-work-id="')[1].split('"')[0]
    stolen = await other.post(f"/app/work/{work_id}/accept", {})
    accepted = await best.post(f"/app/work/{work_id}/accept", {})
    # then only they could; the case is theirs and opens; the offer is gone
    assert stolen.status_code == 409
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/app/cases/{case_id}"
    case = await _case(client, company, case_id)
    assert (case["status"], case["assignee_id"]) == ("assigned", best.user.id)
    assert "data-work-id" not in (await best.get("/app/offers")).text
    # and their inbox badges count the unread case
    tabs = await best.get("/app/inbox/tabs")
    assert '<span class="badge unread" data-count="unread"' in tabs.text


async def test_declining_an_offer_puts_the_work_back_for_someone_else(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    browsers: list[Browser],
) -> None:
    await apply_config(client, company, routing_config(auto_accept=False))
    agent = await _agent(app, db, company, {"returns": 5})
    browsers.append(agent)
    await _online(agent)
    case_id = await _chat(db, company, "v-decline")
    await Dispatcher(db).run_once(now=utcnow())
    offers = await agent.get("/app/offers")
    work_id = offers.text.split('data-work-id="')[1].split('"')[0]
    # when the agent declines it from the page (htmx swaps the offers in place)
    declined = await agent.http.post(
        f"/app/work/{work_id}/decline",
        headers={"HX-Request": "true", "X-CSRF-Token": agent.csrf},
    )
    # then the remaining offers come back without it, and the work waits, never for them
    assert declined.status_code == 200
    assert "data-work-id" not in declined.text
    work = await client.get(
        "/v1/work", params={"case_id": case_id}, headers=bearer(company.agent_token)
    )
    [item] = work.json()
    assert (item["status"], item["declined_by"]) == ("waiting", [agent.user.id])


async def test_the_inbox_filters_by_sla_state(
    app: FastAPI, client: httpx.AsyncClient, db: Database, company: Company
) -> None:
    # given chats with an hour to go, email with five minutes, SMS already past its target
    extra = "  channel_defaults: {email: {sla_seconds: 300}, sms: {sla_seconds: 1}}\n"
    await apply_config(client, company, routing_config(sla_seconds=3600, extra=extra))
    ok = await _chat(db, company, "v-ok")
    email = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.EMAIL, "risk@example.com", "hi")
    )
    sms = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550111"))
    await asyncio.sleep(1.1)
    supervisor = await log_in(app, company, await make_user(db, company.tenant, Role.SUPERVISOR))
    try:
        found = {}
        for state in ("ok", "at_risk", "breached"):
            rows = await supervisor.get(f"/app/inbox/rows?view=open&sla={state}")
            assert rows.status_code == 200, rows.text
            found[state] = {c for c in (ok, str(email.case.id), str(sms.case.id)) if c in rows.text}
        page = await supervisor.get("/app?view=open&sla=at_risk")
    finally:
        await supervisor.http.aclose()
    # then each state lists exactly its case, with its badge
    assert found == {"ok": {ok}, "at_risk": {str(email.case.id)}, "breached": {str(sms.case.id)}}
    assert "SLA at risk" in page.text
    assert '<option value="at_risk" selected>' in page.text


async def test_my_teams_queue_is_the_waiting_work_in_my_skills(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    browsers: list[Browser],
) -> None:
    # given chats routed to returns and emails to billing
    extra = "  channel_defaults: {email: {skill: billing}}\n"
    await apply_config(client, company, routing_config(extra=extra))
    chat = await _chat(db, company, "v-team")
    email = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.EMAIL, "bill@example.com", "invoice")
    )
    returns_agent = await _agent(app, db, company, {"returns": 3})
    billing_agent = await _agent(app, db, company, {"billing": 5})
    new_agent = await _agent(app, db, company)
    browsers += [returns_agent, billing_agent, new_agent]
    # when each opens their team's queue
    seen = {}
    for name, agent in (("returns", returns_agent), ("billing", billing_agent), ("new", new_agent)):
        page = await agent.get("/app?view=queue")
        assert page.status_code == 200
        seen[name] = {c for c in (chat, str(email.case.id)) if f'data-case-id="{c}"' in page.text}
    # then each sees the work their skills can take (general would take both, as the fallback
    # skill); without a profile, the whole queue
    assert seen == {
        "returns": {chat},
        "billing": {str(email.case.id)},
        "new": {chat, str(email.case.id)},
    }


async def test_callbacks_are_scheduled_from_the_case_listed_and_called_or_cancelled(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    browsers: list[Browser],
) -> None:
    # given a tenant with a voice number, and an SMS conversation the agent holds
    await apply_config(client, company, routing_config())
    await do_create_channel_account(
        db,
        system(company.tenant),
        SecretBox(TEST_SECRET),
        channel=Channel.VOICE,
        name="Voice line",
        address=VOICE_NUMBER,
        config={"account_sid": "AC" + "2" * 32},
    )
    result = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.SMS, "+16505550142", "call me please")
    )
    case_id = str(result.case.id)
    agent = await _agent(app, db, company, {"returns": 5})
    colleague = await _agent(app, db, company, {"returns": 5})
    browsers += [agent, colleague]
    assert (await agent.post(f"/app/cases/{case_id}/assign", {"assignee_id": "me"})).is_redirect
    # when they schedule a callback in two hours (UTC), and ask for another one now
    later = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    scheduled = await agent.post(f"/app/cases/{case_id}/callback", {"when": later})
    now = await agent.post(f"/app/cases/{case_id}/callback", {"phone": "+1 650 555 0177"})
    past = await agent.post(f"/app/cases/{case_id}/callback", {"when": "2001-01-01T10:00"})
    assert (scheduled.status_code, now.status_code) == (303, 303)
    assert past.status_code == 422
    assert "in the past" in past.text
    # then both are on the agent's callbacks list (their case), earliest first, and the queue's
    mine = await agent.get("/app/callbacks")
    assert mine.text.index("+16505550177") < mine.text.index("+16505550142")
    assert f"{later.replace('T', ' ')} UTC" in mine.text
    assert "+16505550142" not in (await colleague.get("/app/callbacks")).text
    assert "+16505550142" in (await colleague.get("/app/callbacks?view=queue")).text
    # and on the case, each with its buttons
    case_page = await agent.get(f"/app/cases/{case_id}")
    assert case_page.text.count('action="/app/callbacks/') == 4
    ids = [part.split('"')[0] for part in mine.text.split('data-callback-id="')[1:]]
    # when they call the first now and cancel the other
    called = await agent.post(f"/app/callbacks/{ids[0]}/call", {"back": "/app/callbacks"})
    cancelled = await agent.post(f"/app/callbacks/{ids[1]}/cancel", {"back": "/evil"})
    # then the provider call is placed from the voice number and linked to the case
    assert called.status_code == 303
    assert called.headers["location"] == "/app/callbacks"
    assert cancelled.headers["location"] == "/app/callbacks"
    calls = await client.get(f"/v1/cases/{case_id}/calls", headers=bearer(company.agent_token))
    [call] = calls.json()
    assert (call["from_number"], call["to_number"]) == (VOICE_NUMBER, "+16505550177")
    listed = await client.get(
        "/v1/callbacks", params={"case_id": case_id}, headers=bearer(company.agent_token)
    )
    statuses = {c["phone"]: c["status"] for c in listed.json()["items"]}
    assert statuses == {"+16505550177": "scheduled", "+16505550142": "cancelled"}
    # and the cancelled one is off the list
    assert "+16505550142" not in (await agent.get("/app/callbacks")).text


async def test_another_tenants_offer_or_callback_is_not_found(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    browsers: list[Browser],
) -> None:
    # given another company with an offer and a callback of its own
    other = await make_company(db)
    await apply_config(client, other, routing_config(auto_accept=False))
    theirs = await _agent(app, db, other, {"returns": 5})
    ours = await _agent(app, db, company, {"returns": 5})
    browsers += [theirs, ours]
    await _online(theirs)
    case_id = await _chat(db, other, "v-other")
    await Dispatcher(db).run_once(now=utcnow())
    work_id = (await theirs.get("/app/offers")).text.split('data-work-id="')[1].split('"')[0]
    callback = await client.post(
        f"/v1/cases/{case_id}/callbacks",
        json={"phone": "+16505550160"},
        headers=bearer(other.agent_token),
    )
    callback_id = callback.json()["id"]
    # when our agent tries to answer or act on them, or list them
    for path in (
        f"/app/work/{work_id}/accept",
        f"/app/work/{work_id}/decline",
        f"/app/callbacks/{callback_id}/call",
        f"/app/callbacks/{callback_id}/cancel",
    ):
        assert (await ours.post(path, {})).status_code == 404, path
    # then they do not exist for them, and nothing of theirs is listed
    assert callback_id not in (await ours.get("/app/callbacks?view=queue")).text
