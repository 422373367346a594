"""Channel accounts: admins add them; secrets go in sealed and never come out."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from carepath.secretbox import SecretBox
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import bearer, make_company


async def test_an_admin_adds_an_account_whose_secrets_are_sealed_and_never_returned(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    body = {
        "channel": "sms",
        "name": "Main number",
        "address": "+1 (650) 555-0000",
        "config": {"messaging_service": "MG1"},
        "secrets": {"auth_token": "twilio-secret-value"},
    }
    created = await client.post("/v1/channels", json=body, headers=bearer(company.admin_token))
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["address"] == "+16505550000"
    assert account["has_secrets"] is True
    assert "twilio-secret-value" not in created.text
    listed = await client.get("/v1/channels", headers=bearer(company.admin_token))
    assert "twilio-secret-value" not in listed.text
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM channel_accounts"))).all()
        audit = (await conn.execute(text("SELECT data FROM audit_log"))).all()
    assert "twilio-secret-value" not in str(rows)
    assert "twilio-secret-value" not in str(audit)


async def test_an_address_is_used_once_and_validated(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    other = await make_company(db)
    body = {"channel": "email", "name": "Support", "address": "Support@Acme.example.com"}
    assert (
        await client.post("/v1/channels", json=body, headers=bearer(company.admin_token))
    ).status_code == 201
    # the same inbound address cannot belong to two tenants: mail would not know where to go
    taken = await client.post("/v1/channels", json=body, headers=bearer(other.admin_token))
    assert taken.status_code == 409
    bad = await client.post(
        "/v1/channels",
        json={"channel": "email", "name": "x", "address": "not an email"},
        headers=bearer(company.admin_token),
    )
    assert bad.status_code == 422
    web = await client.post(
        "/v1/channels",
        json={"channel": "web", "name": "x", "address": "site"},
        headers=bearer(company.admin_token),
    )
    assert web.status_code == 422


async def test_only_admins_manage_channels(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    body = {"channel": "email", "name": "Support", "address": "help@acme.example.com"}
    assert (
        await client.post("/v1/channels", json=body, headers=bearer(company.supervisor_token))
    ).status_code == 403
    created = await client.post("/v1/channels", json=body, headers=bearer(company.admin_token))
    off = await client.patch(
        f"/v1/channels/{created.json()['id']}",
        json={"active": False},
        headers=bearer(company.admin_token),
    )
    assert off.json()["active"] is False


async def test_an_admin_edits_an_account_and_rotates_one_secret(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    admin = bearer(company.admin_token)
    body = {
        "channel": "sms",
        "name": "Texts",
        "address": "+16505550100",
        "config": {"account_sid": "AC" + "1" * 32},
        "secrets": {"auth_token": "old-token"},
    }
    created = (await client.post("/v1/channels", json=body, headers=admin)).json()
    url = f"/v1/channels/{created['id']}"

    renamed = await client.patch(url, json={"name": "Support texts"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Support texts"
    assert renamed.json()["address"] == "+16505550100"
    assert renamed.json()["config"] == body["config"]

    bad = await client.patch(url, json={"address": "not a number"}, headers=admin)
    assert bad.status_code == 422
    assert (await client.get(url, headers=admin)).json()["address"] == "+16505550100"

    rotated = await client.patch(url, json={"secrets": {"auth_token": "new"}}, headers=admin)
    assert rotated.status_code == 200
    assert "new" not in rotated.text
    assert rotated.json()["has_secrets"] is True
    async with db.uow(write=False) as uow:
        stored = await uow.channel_accounts.get(company.tenant.id, created["id"])
    assert stored is not None
    assert stored.secrets_sealed is not None
    assert SecretBox(TEST_SECRET).open(stored.secrets_sealed) == {"auth_token": "new"}

    empty = await client.patch(url, json={}, headers=admin)
    assert empty.json() == rotated.json()
    other = await make_company(db)
    hidden = await client.patch(url, json={"name": "x"}, headers=bearer(other.admin_token))
    assert hidden.status_code == 404
