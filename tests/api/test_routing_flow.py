"""SPEC journey 5, routed to the right expert: a case that needs an agent is queued in the same
transaction, and the dispatcher gives it to the best-skilled online agent with room, widening the
requirement as the wait goes on and preferring a returning customer's previous agent."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.routing.dispatcher import Dispatcher
from carepath.storage import Database
from tests.agents import apply_config, events_of, routing_config, team
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound


async def a_chat(db: Database, company: Company, visitor: str, text: str = "refund?") -> Case:
    result = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.CHAT, visitor, text))
    return result.case


async def dispatch(db: Database, after_s: float = 0) -> int:
    return await Dispatcher(db).run_once(now=utcnow() + timedelta(seconds=after_s))


async def a_case(client: httpx.AsyncClient, company: Company, case: Case) -> dict[str, object]:
    response = await client.get(f"/v1/cases/{case.id}", headers=bearer(company.agent_token))
    body: dict[str, object] = response.json()
    return body


async def test_a_live_case_lands_on_the_best_skilled_online_agent(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given chat is `live` for returns, and three agents: the best one offline
    company = await make_company(db)
    assert (await apply_config(client, company, routing_config())).status_code == 200
    async with team(app, db, client, company) as agents:
        good = await agents.agent({"returns": 4})
        best = await agents.agent({"returns": 5})
        await agents.agent({"returns": 5}, online=False)
        await agents.agent({"billing": 5})
        # when a customer writes
        case = await a_chat(db, company, "v-1")
        # then the case is queued with its work item in the same transaction
        assert (await a_case(client, company, case))["status"] == "queued"
        (waiting,) = (await client.get("/v1/work", headers=bearer(company.agent_token))).json()
        assert (waiting["status"], waiting["skill"], waiting["channel_kind"]) == (
            "waiting",
            "returns",
            "messaging",
        )
        assert waiting["sla_due_at"] is not None
        # when the dispatcher runs
        assert await dispatch(db) == 1
        # then the best-skilled online agent has the case and its work
        read = await a_case(client, company, case)
        assert (read["status"], read["assignee_id"]) == ("assigned", best.id)
        mine = await best.http.get("/v1/work", params={"agent_id": "me"})
        assert [w["case_id"] for w in mine.json()] == [case.id]
        listed = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
        loads = {a["user_id"]: a["load"]["messaging"] for a in listed.json()}
        assert loads[best.id] == 1
        assert loads[good.id] == 0
        types = [
            e["work_id"]
            for e in await events_of(db, company.tenant.id, "work.queued", "work.assigned")
        ]
        assert types == [waiting["id"], waiting["id"]]
        # and nothing is left to do
        assert await dispatch(db) == 0


async def test_the_requirement_widens_as_the_wait_passes_its_steps(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given only a returns agent at 2 (the bar is 4, then 2 after 60 s) and a generalist
    company = await make_company(db)
    await apply_config(client, company, routing_config())
    async with team(app, db, client, company) as agents:
        junior = await agents.agent({"returns": 2}, capacity={"messaging": 1})
        generalist = await agents.agent({"general": 3})
        first = await a_chat(db, company, "v-1")
        second = await a_chat(db, company, "v-2")
        # when nobody qualifies yet
        assert await dispatch(db) == 0
        # then after 60 s the junior qualifies for the first (in queue order)
        assert await dispatch(db, after_s=61) == 1
        assert (await a_case(client, company, first))["assignee_id"] == junior.id
        assert (await a_case(client, company, second))["status"] == "queued"
        # and after 120 s the fallback skill opens for the second
        assert await dispatch(db, after_s=121) == 1
        assert (await a_case(client, company, second))["assignee_id"] == generalist.id


async def test_a_returning_customer_gets_their_previous_agent(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given a customer whose case was handled by the second-best agent
    company = await make_company(db)
    await apply_config(client, company, routing_config(sticky_window_s=90))
    async with team(app, db, client, company) as agents:
        previous = await agents.agent({"returns": 4})
        case = await a_chat(db, company, "v-1")
        await dispatch(db)
        assert (await a_case(client, company, case))["assignee_id"] == previous.id
        resolved = await previous.post(f"/v1/cases/{case.id}/resolve")
        assert resolved.status_code == 200, resolved.text
        best = await agents.agent({"returns": 5})
        # when the customer writes again (the case reopens to the queue)
        again = await a_chat(db, company, "v-1", "still nothing")
        assert again.id == case.id
        (work,) = (await client.get("/v1/work", headers=bearer(company.agent_token))).json()
        assert work["preferred_agent_id"] == previous.id
        # then their previous agent gets it, not the better one
        await dispatch(db)
        assert (await a_case(client, company, case))["assignee_id"] == previous.id
        # and when that agent is away next time, it is not held for them
        await previous.post(f"/v1/cases/{case.id}/resolve")
        await previous.presence("away")
        await a_chat(db, company, "v-1", "and again")
        await dispatch(db)
        assert (await a_case(client, company, case))["assignee_id"] == best.id


async def test_a_sticky_hold_ends_after_its_window(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given a returning customer whose previous agent is online but full
    company = await make_company(db)
    await apply_config(client, company, routing_config(sticky_window_s=90))
    async with team(app, db, client, company) as agents:
        previous = await agents.agent({"returns": 5}, capacity={"messaging": 1})
        case = await a_chat(db, company, "v-1")
        await dispatch(db)
        await previous.post(f"/v1/cases/{case.id}/resolve")
        other = await agents.agent({"returns": 5})
        busy = await a_chat(db, company, "v-2")
        assert (
            await previous.post(f"/v1/cases/{busy.id}/assign", {"assignee_id": previous.id})
        ).status_code == 200
        await a_chat(db, company, "v-1", "back again")
        # when the dispatcher runs within the window: the case waits for them
        assert await dispatch(db) == 0
        # then after the window anyone may take it
        assert await dispatch(db, after_s=91) == 1
        assert (await a_case(client, company, case))["assignee_id"] == other.id


async def test_a_case_the_assistant_keeps_is_not_queued(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given chat is `assisted` (the assistant first)
    company = await make_company(db)
    await apply_config(client, company, routing_config(treatment="assisted"))
    async with team(app, db, client, company) as agents:
        await agents.agent({"returns": 5})
        # when a customer writes
        case = await a_chat(db, company, "v-1")
        # then the case stays with the assistant and no work is queued
        assert (await a_case(client, company, case))["status"] == "bot"
        assert (await client.get("/v1/work", headers=bearer(company.agent_token))).json() == []
        assert await dispatch(db) == 0


async def test_a_queued_case_whose_intent_changes_waits_for_the_new_skill_in_its_place(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given chat is live for returns, and billing questions are urgent work for billing agents
    company = await make_company(db)
    extra = (
        "  intents:\n    billing_question: {skill: billing, priority: urgent}\n"
        "intents:\n  - {name: billing_question}\n"
    )
    assert (await apply_config(client, company, routing_config(extra=extra))).status_code == 200
    case = await a_chat(db, company, "v-9", "about my invoice")
    (before,) = (await client.get("/v1/work", headers=bearer(company.agent_token))).json()
    assert (before["skill"], before["priority"]) == ("returns", 1)
    # when an agent sets the intent the assistant missed
    changed = await client.patch(
        f"/v1/cases/{case.id}",
        json={"intent": "billing_question"},
        headers=bearer(company.agent_token),
    )
    assert changed.status_code == 200, changed.text
    # then the same work item waits for billing, urgent, keeping its age and SLA
    (after,) = (await client.get("/v1/work", headers=bearer(company.agent_token))).json()
    assert after["id"] == before["id"]
    assert after["skill"] == "billing"
    assert after["priority"] > before["priority"]
    assert after["sla_due_at"] == before["sla_due_at"]
    # and a billing agent gets it
    async with team(app, db, client, company) as agents:
        await agents.agent({"returns": 5})
        billing = await agents.agent({"billing": 5})
        assert await dispatch(db) == 1
        assigned = await a_case(client, company, case)
    assert assigned["assignee_id"] == billing.id
