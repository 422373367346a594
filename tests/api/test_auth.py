"""Logging in and out of the web UI, sessions and their cookie."""

from __future__ import annotations

import httpx

from carepath.authn import CSRF_HEADER, SESSION_COOKIE
from carepath.storage import Database
from carepath.types import Role
from tests.factories import PASSWORD, make_company, make_tenant, make_user


async def login(
    client: httpx.AsyncClient, tenant: str, email: str, password: str
) -> httpx.Response:
    return await client.post(
        "/v1/auth/login", json={"tenant": tenant, "email": email, "password": password}
    )


async def test_login_with_the_right_password_starts_a_session(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given
    company = await make_company(db)
    # when
    response = await login(client, company.tenant.slug, company.admin.email, PASSWORD)
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == company.admin.email
    assert body["tenant"]["slug"] == company.tenant.slug
    assert body["csrf_token"]
    me = await client.get("/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == company.admin.id
    assert me.json()["role"] == "admin"


async def test_the_session_cookie_is_signed_httponly_secure_and_samesite(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    response = await login(client, company.tenant.slug, company.admin.email, PASSWORD)
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    # the value is signed: a forged or altered value is refused
    value = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert (await client.get("/v1/auth/me")).status_code == 401


async def test_wrong_password_unknown_user_and_unknown_tenant_get_the_same_401(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    wrong_password = await login(
        client, company.tenant.slug, company.admin.email, "not the password"
    )
    unknown_user = await login(client, company.tenant.slug, "nobody@example.com", PASSWORD)
    unknown_tenant = await login(client, "no-such-tenant", company.admin.email, PASSWORD)
    for response in (wrong_password, unknown_user, unknown_tenant):
        assert response.status_code == 401
        assert response.json() == wrong_password.json()
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert wrong_password.json()["error"]["code"] == "authentication_required"


async def test_a_user_of_another_tenant_cannot_log_in_to_this_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    other = await make_tenant(db)
    response = await login(client, other.slug, company.admin.email, PASSWORD)
    assert response.status_code == 401


async def test_logout_ends_the_session_on_the_server(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a logged-in browser, and a copy of its cookie
    company = await make_company(db)
    session = (await login(client, company.tenant.slug, company.admin.email, PASSWORD)).json()
    stolen = client.cookies[SESSION_COOKIE]
    # when it logs out
    response = await client.post("/v1/auth/logout", headers={CSRF_HEADER: session["csrf_token"]})
    # then the cookie is cleared and the old value no longer works anywhere
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    client.cookies.set(SESSION_COOKIE, stolen)
    assert (await client.get("/v1/auth/me")).status_code == 401


async def test_a_cookie_session_needs_the_csrf_header_to_change_anything(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    session = (await login(client, company.tenant.slug, company.admin.email, PASSWORD)).json()
    new_user = {"email": "new@example.com", "display_name": "New", "role": "agent"}
    refused = await client.post("/v1/users", json=new_user)
    assert refused.status_code == 403
    assert refused.json()["error"]["data"]["reason"] == "csrf"
    accepted = await client.post(
        "/v1/users", json=new_user, headers={CSRF_HEADER: session["csrf_token"]}
    )
    assert accepted.status_code == 201, accepted.text


async def test_deactivating_a_user_ends_their_sessions_and_blocks_login(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    agent = await make_user(db, company.tenant, Role.AGENT)
    await login(client, company.tenant.slug, agent.email, PASSWORD)
    assert (await client.get("/v1/auth/me")).status_code == 200
    admin_headers = {"Authorization": f"Bearer {company.admin_token}"}
    async with httpx.AsyncClient(
        transport=client._transport, base_url=str(client.base_url)
    ) as admin:
        changed = await admin.patch(
            f"/v1/users/{agent.id}", json={"is_active": False}, headers=admin_headers
        )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/v1/auth/me")).status_code == 401
    assert (await login(client, company.tenant.slug, agent.email, PASSWORD)).status_code == 401


async def test_requests_without_credentials_get_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/users")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
