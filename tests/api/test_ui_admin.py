"""The console's admin pages as a browser uses them: users and roles, agents' skills and
capacity, channel accounts; refused for those the API refuses, with the API's own checks."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from markupsafe import escape

from carepath.storage import Database
from carepath.types import Role
from tests.api.ui_session import Browser
from tests.factories import Company, bearer, make_company, make_user


async def _users(client: httpx.AsyncClient, company: Company) -> dict[str, dict[str, object]]:
    listed = await client.get("/v1/users", headers=bearer(company.admin_token))
    return {u["email"]: u for u in listed.json()["items"]}


async def test_an_admin_adds_renames_promotes_and_disables_a_user(
    client: httpx.AsyncClient, company: Company, admin: Browser
) -> None:
    # when the admin adds a user from the page
    form = {"email": "Ana@Example.com", "display_name": "Ana", "role": "agent", "password": ""}
    added = await admin.post("/app/supervisor/users", form)
    again = await admin.post("/app/supervisor/users", {**form, "email": "ana@example.com"})
    bad = await admin.post("/app/supervisor/users", {**form, "email": "not an address"})
    # then they exist (email normalised, as through the API); duplicates and bad input are refused
    assert added.status_code == 303
    assert (again.status_code, bad.status_code) == (409, 422)
    user = (await _users(client, company))["ana@example.com"]
    assert (user["display_name"], user["role"], user["is_active"]) == ("Ana", "agent", True)
    # when they rename, promote and disable them
    changes = {"display_name": "Ana Lima", "role": "supervisor"}  # "active" unticked
    assert (await admin.post(f"/app/supervisor/users/{user['id']}", changes)).is_redirect
    user = (await _users(client, company))["ana@example.com"]
    assert (user["display_name"], user["role"], user["is_active"]) == (
        "Ana Lima",
        "supervisor",
        False,
    )
    # and the admin cannot lock themselves out
    myself = await admin.post(f"/app/supervisor/users/{admin.user.id}", {"role": "agent"})
    assert myself.status_code == 422


async def test_an_admin_sets_skills_proficiency_and_capacity_per_channel(
    client: httpx.AsyncClient, db: Database, company: Company, admin: Browser
) -> None:
    agent = await make_user(db, company.tenant, Role.AGENT)
    page = await admin.get("/app/supervisor/users")
    assert f'action="/app/supervisor/users/{agent.id}/profile"' in page.text
    # when the admin gives them general 4 (returns left blank), 2 chats and 1 call at a time
    form = {
        "skill.general": "4",
        "skill.returns": "",
        "capacity.messaging": "2",
        "capacity.voice": "1",
        "total_capacity": "",
    }
    saved = await admin.post(f"/app/supervisor/users/{agent.id}/profile", form)
    # and then tries a proficiency out of range, and a capacity that is not a number
    too_good = await admin.post(
        f"/app/supervisor/users/{agent.id}/profile", {**form, "skill.general": "7"}
    )
    not_number = await admin.post(
        f"/app/supervisor/users/{agent.id}/profile", {**form, "capacity.voice": "lots"}
    )
    # then routing has the first, and the others are refused with what was wrong
    assert saved.status_code == 303
    assert (too_good.status_code, not_number.status_code) == (422, 422)
    assert "proficiency is 1-5" in too_good.text
    agents = await client.get("/v1/agents", headers=bearer(company.supervisor_token))
    [profile] = [a for a in agents.json() if a["user_id"] == agent.id]
    assert (profile["skills"], profile["capacity"], profile["total_capacity"]) == (
        {"general": 4},
        {"messaging": 2, "voice": 1},
        3,
    )
    assert (
        'name="skill.general" min="0" max="5" size="2" value="4"'
        in (await admin.get("/app/supervisor/users")).text
    )


async def test_a_supervisor_reads_users_and_skills_but_changes_none(
    db: Database, company: Company, supervisor: Browser
) -> None:
    agent = await make_user(db, company.tenant, Role.AGENT)
    page = await supervisor.get("/app/supervisor/users")
    assert page.status_code == 200
    assert agent.email in page.text
    assert 'id="new-user"' not in page.text
    assert f'action="/app/supervisor/users/{agent.id}/profile"' not in page.text
    for path, form in (
        ("/app/supervisor/users", {"email": "x@example.com", "display_name": "X", "role": "admin"}),
        (f"/app/supervisor/users/{agent.id}", {"role": "admin", "active": "true"}),
        (f"/app/supervisor/users/{agent.id}/profile", {"skill.general": "5"}),
        ("/app/supervisor/channels", {"channel": "sms", "name": "n", "address": "+16505550100"}),
    ):
        assert (await supervisor.post(path, form)).status_code == 403, path


async def test_an_admin_adds_and_edits_a_channel_account_with_the_apis_checks(
    app: FastAPI, client: httpx.AsyncClient, db: Database, company: Company, admin: Browser
) -> None:
    # when the admin adds an SMS number written the way people write it
    form = {
        "channel": "sms",
        "name": "Support line",
        "address": "+1 (650) 555-0199",
        "config": '{"account_sid": "AC123"}',
        "secrets": "auth_token=first-token\n",
    }
    assert (await admin.post("/app/supervisor/channels", form)).status_code == 303
    # then it is stored normalised, its secret sealed, exactly as the API would have it
    listed = await client.get("/v1/channels", headers=bearer(company.admin_token))
    [account] = listed.json()["items"]
    assert (account["address"], account["config"], account["has_secrets"]) == (
        "+16505550199",
        {"account_sid": "AC123"},
        True,
    )
    # and bad input is refused with the API's own message
    bad = {**form, "address": "call us", "secrets": ""}
    page = await admin.post("/app/supervisor/channels", bad)
    api = await client.post(
        "/v1/channels",
        json={"channel": "sms", "name": "x", "address": "call us"},
        headers=bearer(company.admin_token),
    )
    assert (page.status_code, api.status_code) == (422, 422)
    assert str(escape(api.json()["error"]["message"])) in page.text
    assert (
        await admin.post("/app/supervisor/channels", {**form, "config": "[1]"})
    ).status_code == 422
    assert (await admin.post("/app/supervisor/channels", form)).status_code == 409  # taken
    # when they rename it, move it to another number and rotate the token only
    edit = {
        "name": "Billing line",
        "address": "+16505550198",
        "config": '{"account_sid": "AC456"}',
        "secrets": "auth_token=second-token",
    }
    edited = await admin.post(f"/app/supervisor/channels/{account['id']}/edit", edit)
    assert edited.status_code == 303
    read = await client.get(f"/v1/channels/{account['id']}", headers=bearer(company.admin_token))
    assert (read.json()["name"], read.json()["address"], read.json()["config"]) == (
        "Billing line",
        "+16505550198",
        {"account_sid": "AC456"},
    )
    async with db.uow(write=False) as uow:
        stored = await uow.channel_accounts.get(company.tenant.id, account["id"])
    assert stored is not None
    assert app.state.carepath.secret_box.open(stored.secrets_sealed) == {
        "auth_token": "second-token"
    }
    # and the page never shows a secret
    assert "second-token" not in (await admin.get("/app/supervisor/channels")).text
    # and an account of another tenant is not found
    other = await make_company(db)
    theirs = await client.post(
        "/v1/channels",
        json={"channel": "sms", "name": "x", "address": "+16505550150"},
        headers=bearer(other.admin_token),
    )
    stolen = await admin.post(f"/app/supervisor/channels/{theirs.json()['id']}/edit", edit)
    assert stolen.status_code == 404
