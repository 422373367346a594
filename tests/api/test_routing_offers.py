"""Offers and capacity: with `auto_accept: false` an agent accepts or declines what is offered, an
unanswered offer times out to someone else; nobody gets more than their capacity; SLA breaches are
reported once; callbacks are voice work; an agent's load always equals the work they hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI

from carepath.actions.callbacks import do_request_callback
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.callbacks import CallbackSource
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.routing.dispatcher import Dispatcher
from carepath.storage import Database
from tests.agents import apply_config, events_of, routing_config, team
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound


async def a_chat(db: Database, company: Company, visitor: str) -> Case:
    result = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.CHAT, visitor))
    return result.case


async def dispatch(db: Database, after_s: float = 0) -> int:
    return await Dispatcher(db).run_once(now=utcnow() + timedelta(seconds=after_s))


async def work_of(
    client: httpx.AsyncClient, company: Company, **params: str
) -> list[dict[str, object]]:
    response = await client.get("/v1/work", params=params, headers=bearer(company.agent_token))
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()
    return found


async def loads(client: httpx.AsyncClient, company: Company) -> dict[str, dict[str, int]]:
    listed = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
    return {a["user_id"]: a["load"] for a in listed.json()}


async def test_a_declined_offer_goes_to_someone_else(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given offers must be accepted, and two agents: the better one first in line
    company = await make_company(db)
    await apply_config(client, company, routing_config(auto_accept=False))
    async with team(app, db, client, company) as agents:
        best = await agents.agent({"returns": 5})
        next_best = await agents.agent({"returns": 4})
        case = await a_chat(db, company, "v-1")
        await dispatch(db)
        (offer,) = await work_of(client, company)
        assert (offer["status"], offer["offered_to"]) == ("offered", best.id)
        assert (await loads(client, company))[best.id]["messaging"] == 1  # an offer holds a slot
        # when someone else tries to accept it, or the best agent declines it
        stolen = await next_best.post(f"/v1/work/{offer['id']}/accept")
        declined = await best.post(f"/v1/work/{offer['id']}/decline")
        # then only the offered agent could answer; it waits again, never for them
        assert stolen.status_code == 409
        assert stolen.json()["error"]["code"] == "not_offered"
        assert declined.status_code == 200, declined.text
        assert (declined.json()["status"], declined.json()["declined_by"]) == ("waiting", [best.id])
        # and the next round offers it to the next best, who accepts: the case is theirs
        await dispatch(db)
        (again,) = await work_of(client, company)
        assert again["offered_to"] == next_best.id
        accepted = await next_best.post(f"/v1/work/{offer['id']}/accept")
        assert accepted.json()["status"] == "assigned"
        read = await client.get(f"/v1/cases/{case.id}", headers=bearer(company.agent_token))
        assert (read.json()["status"], read.json()["assignee_id"]) == ("assigned", next_best.id)
        assert (await loads(client, company))[best.id]["messaging"] == 0
        requeued = await events_of(db, company.tenant.id, "work.queued")
        assert [e.get("reason") for e in requeued] == [None, "declined"]


async def test_an_unanswered_offer_times_out_and_goes_elsewhere(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given an offer with a 1 s timeout to the best agent
    company = await make_company(db)
    await apply_config(client, company, routing_config(auto_accept=False, offer_timeout_s=1))
    async with team(app, db, client, company) as agents:
        best = await agents.agent({"returns": 5})
        other = await agents.agent({"returns": 4})
        await a_chat(db, company, "v-1")
        await dispatch(db)
        (offer,) = await work_of(client, company)
        assert offer["offered_to"] == best.id
        # when it is accepted too late
        await asyncio.sleep(1.1)
        late = await best.post(f"/v1/work/{offer['id']}/accept")
        # then it is refused, and the next round sends it on to the other agent
        assert late.status_code == 409
        assert late.json()["error"]["code"] == "offer_expired"
        assert await dispatch(db) == 2  # the expiry, and the new offer
        (again,) = await work_of(client, company)
        assert (again["offered_to"], again["declined_by"]) == (other.id, [best.id])
        timed_out = await events_of(db, company.tenant.id, "work.queued")
        assert timed_out[-1]["reason"] == "offer_timed_out"


async def test_an_agent_at_capacity_gets_nothing_more_until_work_ends(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given the only agent can hold one chat
    company = await make_company(db)
    await apply_config(client, company, routing_config())
    async with team(app, db, client, company) as agents:
        solo = await agents.agent({"returns": 5}, capacity={"messaging": 1, "voice": 1})
        first = await a_chat(db, company, "v-1")
        second = await a_chat(db, company, "v-2")
        # when the dispatcher runs, twice
        assert await dispatch(db) == 1
        assert await dispatch(db) == 0
        # then they hold one; the other waits
        assert (await loads(client, company))[solo.id] == {"messaging": 1, "voice": 0}
        (waiting,) = await work_of(client, company, status="waiting")
        assert waiting["case_id"] == second.id
        # when they resolve the first, the second is theirs
        assert (await solo.post(f"/v1/cases/{first.id}/resolve")).status_code == 200
        assert (await loads(client, company))[solo.id]["messaging"] == 0
        assert await dispatch(db) == 1
        held = await solo.http.get("/v1/work", params={"agent_id": "me"})
        assert [w["case_id"] for w in held.json()] == [second.id]


async def test_an_sla_breach_is_reported_once(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given a 5-minute SLA and nobody online
    company = await make_company(db)
    await apply_config(client, company, routing_config(sla_seconds=300))
    async with team(app, db, client, company) as agents:
        await agents.agent({"returns": 5}, online=False)
        await a_chat(db, company, "v-1")
        # when the dispatcher runs before and after the due time, twice
        assert await dispatch(db, after_s=299) == 0
        assert await dispatch(db, after_s=301) == 1
        assert await dispatch(db, after_s=400) == 0
        # then one breach is reported, and the item says so
        (breach,) = await events_of(db, company.tenant.id, "work.sla_breached")
        (waiting,) = await work_of(client, company)
        assert breach["work_id"] == waiting["id"]
        assert waiting["sla_breached"] is True


async def test_the_sla_clock_counts_only_opening_hours(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given a business open only tomorrow, 09:00-10:00 UTC, and a 30-minute SLA
    company = await make_company(db)
    tomorrow = (utcnow() + timedelta(days=1)).date()
    day = tomorrow.strftime("%a").lower()
    lines = routing_config(sla_seconds=1800).splitlines()
    config = "\n".join(
        f'  weekly: {{{day}: "09:00-10:00"}}' if line.startswith("  weekly:") else line
        for line in lines
    )
    assert (await apply_config(client, company, config)).status_code == 200
    # when a customer writes now
    await a_chat(db, company, "v-1")
    # then the work is due half an hour into tomorrow's opening
    (work,) = await work_of(client, company)
    assert work["sla_due_at"] == f"{tomorrow.isoformat()}T09:30:00Z"


async def test_a_callback_is_voice_work_and_its_agent_takes_the_case(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given a chat case the assistant keeps, and an agent who takes calls
    company = await make_company(db)
    await apply_config(client, company, routing_config(treatment="assisted"))
    async with team(app, db, client, company) as agents:
        chat_only = await agents.agent({"returns": 5}, capacity={"messaging": 3, "voice": 0})
        caller = await agents.agent({"returns": 4}, capacity={"messaging": 0, "voice": 1})
        case = await a_chat(db, company, "v-1")
        # when the customer asks to be called
        callback = await do_request_callback(
            db,
            company.tenant.id,
            case.customer_id,
            phone="+31 20 123 4567",
            when=None,
            source=CallbackSource.WIDGET,
            channel=Channel.CHAT,
            case_id=case.id,
        )
        (work,) = await work_of(client, company)
        assert (work["kind"], work["subject_id"], work["channel_kind"]) == (
            "callback",
            callback.id,
            "voice",
        )
        await dispatch(db)
        # then the agent with a free voice slot has it, and the case with it
        (held,) = await work_of(client, company, agent_id=caller.id)
        assert held["status"] == "assigned"
        read = await client.get(f"/v1/cases/{case.id}", headers=bearer(company.agent_token))
        assert read.json()["assignee_id"] == caller.id
        assert (await loads(client, company))[caller.id] == {"messaging": 0, "voice": 1}
        assert (await loads(client, company))[chat_only.id] == {"messaging": 0, "voice": 0}


async def test_the_load_follows_every_change_of_the_case(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given two agents and a case the dispatcher gave to the first
    company = await make_company(db)
    await apply_config(client, company, routing_config())
    async with team(app, db, client, company) as agents:
        ann = await agents.agent({"returns": 5})
        bob = await agents.agent({"returns": 3}, online=False)
        case = await a_chat(db, company, "v-1")
        await dispatch(db)
        supervisor = bearer(company.supervisor_token)

        async def held() -> dict[str, int]:
            """Each agent's load, checked against the open work held by them."""
            found = await loads(client, company)
            work = await work_of(client, company, status="assigned")
            for agent_id, load in found.items():
                assert sum(load.values()) == sum(1 for w in work if w["assigned_to"] == agent_id)
            return {a: sum(v.values()) for a, v in found.items()}

        assert await held() == {ann.id: 1, bob.id: 0}
        # when a supervisor transfers it, gives it back, and an agent takes it by replying
        transfer = await client.post(
            f"/v1/cases/{case.id}/assign", json={"assignee_id": bob.id}, headers=supervisor
        )
        assert transfer.status_code == 200, transfer.text
        assert await held() == {ann.id: 0, bob.id: 1}
        await client.post(
            f"/v1/cases/{case.id}/assign", json={"assignee_id": None}, headers=supervisor
        )
        assert await held() == {ann.id: 0, bob.id: 0}
        (requeued,) = await work_of(client, company, status="waiting")
        assert requeued["declined_by"] == [bob.id]  # given back: someone else's turn
        reply = await ann.post(f"/v1/cases/{case.id}/replies", {"text": "I'll take this"})
        assert reply.status_code == 201, reply.text
        assert await held() == {ann.id: 1, bob.id: 0}
        # when it is resolved and reopened by an agent
        await ann.post(f"/v1/cases/{case.id}/resolve")
        assert await held() == {ann.id: 0, bob.id: 0}
        reopened = await bob.post(f"/v1/cases/{case.id}/reopen")
        assert reopened.json()["assignee_id"] == bob.id
        # then the load is the work held, every time, and nothing is left waiting
        assert await held() == {ann.id: 0, bob.id: 1}
        assert await work_of(client, company, status="waiting") == []
