"""API tokens, roles and tenant isolation."""

from __future__ import annotations

import httpx
import pytest

from carepath.storage import Database
from carepath.types import Role
from tests.factories import bearer, make_company, make_user


async def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    created = await client.post(
        "/v1/tokens",
        json={"name": "crm sync", "role": "agent"},
        headers=bearer(company.admin_token),
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    token_id = created.json()["id"]
    # the secret never comes back
    listed = await client.get("/v1/tokens", headers=bearer(company.admin_token))
    assert token not in listed.text
    read = await client.get(f"/v1/tokens/{token_id}", headers=bearer(company.admin_token))
    assert "token" not in read.json()
    # it authenticates, and records its use
    me = await client.get("/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "tenant_id": company.tenant.id,
        "role": "agent",
        "user": None,
        "api_token_id": token_id,
    }
    read = await client.get(f"/v1/tokens/{token_id}", headers=bearer(company.admin_token))
    assert read.json()["last_used_at"] is not None
    # until it is revoked
    revoked = await client.delete(f"/v1/tokens/{token_id}", headers=bearer(company.admin_token))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/auth/me", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer nonsense", "Bearer tok_unknown.secret", "Basic dXNlcjpwYXNz", "Token x"],
)
async def test_malformed_or_unknown_tokens_get_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


async def test_a_right_token_id_with_a_wrong_secret_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    token_id, _, _secret = company.admin_token.partition(".")
    response = await client.get("/v1/auth/me", headers=bearer(f"{token_id}.wrong-secret"))
    assert response.status_code == 401


async def test_an_agent_cannot_do_an_admins_action(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    new_user = {"email": "x@example.com", "display_name": "X", "role": "admin"}
    as_agent = await client.post("/v1/users", json=new_user, headers=bearer(company.agent_token))
    assert as_agent.status_code == 403
    assert as_agent.json()["error"]["code"] == "permission_denied"
    assert as_agent.json()["error"]["data"]["required_role"] == "admin"
    for path in ("/v1/tokens", "/v1/audit", "/v1/users"):
        assert (await client.get(path, headers=bearer(company.agent_token))).status_code == 403
    token = await client.post(
        "/v1/tokens", json={"name": "n", "role": "agent"}, headers=bearer(company.agent_token)
    )
    assert token.status_code == 403
    # and nothing was created
    users = await client.get("/v1/users", headers=bearer(company.admin_token))
    assert "x@example.com" not in users.text


async def test_a_supervisor_reads_users_but_cannot_change_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    listed = await client.get("/v1/users", headers=bearer(company.supervisor_token))
    assert listed.status_code == 200
    assert [u["id"] for u in listed.json()["items"]] == [company.admin.id]
    patch = await client.patch(
        f"/v1/users/{company.admin.id}",
        json={"role": "agent"},
        headers=bearer(company.supervisor_token),
    )
    assert patch.status_code == 403


async def test_another_tenants_ids_are_not_found_for_every_route(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given two companies, each with a user and a token
    a = await make_company(db)
    b = await make_company(db)
    b_agent = await make_user(db, b.tenant, Role.AGENT)
    b_tokens = (await client.get("/v1/tokens", headers=bearer(b.admin_token))).json()["items"]
    b_token_id = b_tokens[0]["id"]
    # when A's admin reaches for B's objects
    attempts = [
        await client.get(f"/v1/users/{b_agent.id}", headers=bearer(a.admin_token)),
        await client.patch(
            f"/v1/users/{b_agent.id}", json={"role": "admin"}, headers=bearer(a.admin_token)
        ),
        await client.get(f"/v1/tokens/{b_token_id}", headers=bearer(a.admin_token)),
        await client.delete(f"/v1/tokens/{b_token_id}", headers=bearer(a.admin_token)),
    ]
    # then every answer is 404, and B's objects are untouched
    assert [r.status_code for r in attempts] == [404, 404, 404, 404]
    assert all(r.json()["error"]["code"] == "not_found" for r in attempts)
    still = await client.get(f"/v1/users/{b_agent.id}", headers=bearer(b.admin_token))
    assert still.json()["role"] == "agent"
    token = await client.get(f"/v1/tokens/{b_token_id}", headers=bearer(b.admin_token))
    assert token.json()["revoked_at"] is None
    # and lists only ever show the caller's tenant
    a_users = await client.get("/v1/users", headers=bearer(a.admin_token))
    assert {u["id"] for u in a_users.json()["items"]} == {a.admin.id}
    a_audit = await client.get("/v1/audit", headers=bearer(a.admin_token))
    assert b_agent.id not in a_audit.text


async def test_an_admin_cannot_lock_themselves_out(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    login = await client.post(
        "/v1/auth/login",
        json={
            "tenant": company.tenant.slug,
            "email": company.admin.email,
            "password": "correct horse battery staple",
        },
    )
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    response = await client.patch(
        f"/v1/users/{company.admin.id}", json={"role": "agent"}, headers=csrf
    )
    assert response.status_code == 422
    assert response.json()["error"]["data"]["field"] == "role"


async def test_changes_are_audited(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    created = await client.post(
        "/v1/users",
        json={"email": "audited@example.com", "display_name": "A", "role": "agent"},
        headers=bearer(company.admin_token),
    )
    user_id = created.json()["id"]
    audit = await client.get(
        "/v1/audit", params={"subject": user_id}, headers=bearer(company.admin_token)
    )
    entries = audit.json()["items"]
    assert [e["action"] for e in entries] == ["user.created"]
    assert entries[0]["actor"].startswith("token:tok_")
    assert entries[0]["data"] == {"email": "audited@example.com", "role": "agent"}


async def test_lists_paginate_with_a_cursor(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    for n in range(4):
        await client.post(
            "/v1/tokens",
            json={"name": f"t{n}", "role": "agent"},
            headers=bearer(company.admin_token),
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get("/v1/tokens", params=params, headers=bearer(company.admin_token))
        ).json()
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # 3 tokens from make_company + 4 new ones, each exactly once, in creation order
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen)
    assert pages == 4
    bad = await client.get(
        "/v1/tokens", params={"cursor": "%%%"}, headers=bearer(company.admin_token)
    )
    assert bad.status_code == 422
