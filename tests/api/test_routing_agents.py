"""Agents for routing over the API: presence, skills and capacity, the tenant file's `agents`,
and the supervisor's view of who is online, how loaded and how long idle."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from carepath.storage import Database
from carepath.types import Role
from tests.agents import apply_config, events_of, routing_config, team
from tests.factories import bearer, make_company, make_user


async def test_an_agent_goes_online_and_away_and_the_supervisor_sees_it(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    # given an agent with a profile, signed in
    company = await make_company(db)
    async with team(app, db, client, company) as agents:
        ann = await agents.agent({"returns": 5}, online=False)
        assert (await ann.http.get("/v1/agents/me/presence")).json()["presence"] == "offline"
        # when she goes online, then away
        online = await ann.presence("online")
        away = await ann.presence("away")
        # then each change is answered, stored and announced once
        assert online.status_code == 200, online.text
        assert away.json()["presence"] == "away"
        assert (await ann.http.get("/v1/agents/me/presence")).json()["presence"] == "away"
        changes = await events_of(db, company.tenant.id, "agent.presence")
        assert [(e["user_id"], e["presence"]) for e in changes] == [
            (ann.id, "online"),
            (ann.id, "away"),
        ]
        # and the supervisor sees her presence, load and skills
        listed = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
        assert listed.status_code == 200, listed.text
        (row,) = listed.json()
        assert row["user_id"] == ann.id
        assert row["presence"] == "away"
        assert row["load"] == {"messaging": 0, "voice": 0}
        assert row["skills"] == {"returns": 5}
        assert row["idle_s"] == 0  # not online: not idle
        await ann.presence("online")
        back = (await client.get("/v1/agents", headers=bearer(company.supervisor_token))).json()
        assert back[0]["idle_s"] >= 0


async def test_an_agent_whose_last_session_ends_goes_offline(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    async with team(app, db, client, company) as agents:
        # given an agent online in two browsers
        ann = await agents.agent({"returns": 5})
        second = await agents.sign_in(ann.user)
        # when she logs out of one, she is still online; out of the last, she is offline
        assert (await second.post("/v1/auth/logout")).status_code == 204
        assert (await ann.http.get("/v1/agents/me/presence")).json()["presence"] == "online"
        assert (await ann.post("/v1/auth/logout")).status_code == 204
        listed = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
        assert [row["presence"] for row in listed.json()] == ["offline"]
        changes = await events_of(db, company.tenant.id, "agent.presence")
        assert [e["presence"] for e in changes] == ["online", "offline"]


async def test_presence_is_for_signed_in_agents_and_the_list_for_supervisors(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    token = await client.put(
        "/v1/agents/me/presence", json={"presence": "online"}, headers=bearer(company.agent_token)
    )
    assert token.status_code == 403
    listed = await client.get("/v1/agents", headers=bearer(company.agent_token))
    assert listed.status_code == 403
    bad = await client.put(
        "/v1/agents/me/presence", json={"presence": "busy"}, headers=bearer(company.agent_token)
    )
    assert bad.status_code == 422


async def test_an_admin_sets_skills_and_capacity_and_bad_values_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a user
    company = await make_company(db)
    user = await make_user(db, company.tenant, Role.AGENT)
    path = f"/v1/agents/{user.id}/profile"
    # when an admin sets skills and capacity
    ok = await client.put(
        path,
        json={"skills": {"returns": 5, "billing": 2}, "capacity": {"messaging": 2, "voice": 1}},
        headers=bearer(company.admin_token),
    )
    # then they are stored, the total defaulting to the sum
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "user_id": user.id,
        "skills": {"returns": 5, "billing": 2},
        "capacity": {"messaging": 2, "voice": 1},
        "total_capacity": 3,
    }
    # and a proficiency out of 1-5, an unknown channel kind or a supervisor are refused
    too_good = await client.put(
        path, json={"skills": {"returns": 6}}, headers=bearer(company.admin_token)
    )
    assert too_good.status_code == 422
    assert too_good.json()["error"]["data"]["field"] == "skills.returns"
    video = await client.put(
        path, json={"capacity": {"video": 1}}, headers=bearer(company.admin_token)
    )
    assert video.status_code == 422
    supervisor = await client.put(
        path, json={"skills": {"returns": 1}}, headers=bearer(company.supervisor_token)
    )
    assert supervisor.status_code == 403
    listed = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
    assert listed.json()[0]["skills"] == {"returns": 5, "billing": 2}


async def test_the_tenant_file_sets_agents_by_email_and_refuses_unknown_ones_whole(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a user ann, and a file that names her and someone unknown
    company = await make_company(db)
    ann = await make_user(db, company.tenant, Role.AGENT, email="ann@example.com")
    agents = """\
agents:
  - {email: Ann@Example.com, skills: {returns: 5}, capacity: {messaging: 2, voice: 0}}
  - {email: nobody@example.com, skills: {billing: 3}}
"""
    # when it is applied
    refused = await apply_config(client, company, routing_config(extra=agents))
    # then it is refused whole, the unknown email named with its line
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["error"]["data"]["errors"]
    assert error["loc"] == "agents.1.email"
    assert "no user nobody@example.com" in error["message"]
    assert error["line"] == routing_config().count("\n") + 3
    assert (await client.get("/v1/agents", headers=bearer(company.admin_token))).json() == []
    # when only known agents are named
    applied = await apply_config(client, company, routing_config(extra=agents.rsplit("  -", 1)[0]))
    # then ann gets her skills and capacity, and stays offline until she says otherwise
    assert applied.status_code == 200, applied.text
    (row,) = (await client.get("/v1/agents", headers=bearer(company.admin_token))).json()
    assert (row["user_id"], row["skills"], row["capacity"], row["total_capacity"]) == (
        ann.id,
        {"returns": 5},
        {"messaging": 2, "voice": 0},
        2,
    )
    assert row["presence"] == "offline"


async def test_reapplying_the_file_keeps_console_edits_of_what_it_did_not_change(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given ann, configured by the file, then given other skills by an admin in the console
    company = await make_company(db)
    ann = await make_user(db, company.tenant, Role.AGENT, email="ann@example.com")
    admin = bearer(company.admin_token)
    entry = "  - {{email: ann@example.com, skills: {{returns: 5}}, capacity: {capacity}}}\n"
    two = entry.format(capacity="{messaging: 2, voice: 0}")

    async def apply(text: str) -> None:
        applied = await apply_config(client, company, text)
        assert applied.status_code == 200, applied.text

    async def ann_now() -> tuple[object, object, object]:
        (row,) = (await client.get("/v1/agents", headers=admin)).json()
        return row["skills"], row["capacity"], row["total_capacity"]

    await apply(routing_config(extra="agents:\n" + two))
    console = {"skills": {"returns": 3, "billing": 4}, "capacity": {"messaging": 2, "voice": 0}}
    edited = await client.put(f"/v1/agents/{ann.id}/profile", json=console, headers=admin)
    assert edited.status_code == 200, edited.text
    # when the file is applied again for another reason, her entry as it was
    await apply(routing_config(sla_seconds=600, extra="agents:\n" + two))
    # then the console's skills stay
    assert await ann_now() == (console["skills"], console["capacity"], 2)
    # when the file changes her capacity only
    await apply(
        routing_config(extra="agents:\n" + entry.format(capacity="{messaging: 4, voice: 1}"))
    )
    # then the capacity is the file's and the skills are still the console's
    assert await ann_now() == (console["skills"], {"messaging": 4, "voice": 1}, 5)
    # when the file changes her skills
    await apply(
        routing_config(
            extra="agents:\n"
            + entry.replace("returns: 5", "returns: 4").format(capacity="{messaging: 4, voice: 1}")
        )
    )
    # then the skills are the file's
    assert await ann_now() == ({"returns": 4}, {"messaging": 4, "voice": 1}, 5)


async def test_a_file_whose_widening_raises_the_bar_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a file that widens from proficiency 2 "down" to 4
    company = await make_company(db)
    text = routing_config(min_proficiency=2).replace(
        "widening: [{after_s: 60, min_proficiency: 2}]",
        "widening: [{after_s: 60, min_proficiency: 4}]",
    )
    # when it is applied
    refused = await apply_config(client, company, text)
    # then it is refused with the step named (routing could never use it)
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["error"]["data"]["errors"]
    assert error["loc"] == "routing.widening.0.min_proficiency"
