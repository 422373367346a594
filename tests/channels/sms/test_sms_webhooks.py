"""SMS end to end over real HTTP: signed webhooks in (signed by the twilio SDK itself), replies
out through the local provider emulator, delivery reports back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from carepath.actions.channels import do_create_channel_account
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.tables import cases, customers, messages
from carepath.web import create_app
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, make_company, system
from tests.live import free_port, serving

AUTH_TOKEN = "sms-auth-token-for-tests"
ACCOUNT_SID = "AC" + "1" * 32
OUR_NUMBER = "+16505550199"
CUSTOMER = "+16505550100"


@pytest.fixture
async def server(
    db: Database, database_url: str, data_dir: Path, emulator_url: str
) -> AsyncIterator[str]:
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        twilio_api_url=emulator_url,
    )
    async with serving(create_app(settings), port, lifespan=True) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await do_create_channel_account(
        db,
        system(company.tenant),
        SecretBox(TEST_SECRET),
        channel=Channel.SMS,
        name="Support line",
        address=OUR_NUMBER,
        config={"account_sid": ACCOUNT_SID},
        secrets={"auth_token": AUTH_TOKEN},
    )
    return company


def sms_form(sid: str, body: str, *, sender: str = CUSTOMER) -> list[tuple[str, str]]:
    return [
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", sender),
        ("To", OUR_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
    ]


async def post_signed(
    url: str, form: list[tuple[str, str]], *, token: str = AUTH_TOKEN, **headers: str
) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(url, dict(form))
    async with httpx.AsyncClient() as http:
        return await http.post(
            url,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
                **headers,
            },
        )


async def count(db: Database, table: object) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_a_signed_sms_is_stored_once_even_when_the_provider_retries(
    server: str, db: Database, company: Company
) -> None:
    url = f"{server}/webhooks/twilio/{company.tenant.slug}/sms"
    first = await post_signed(url, sms_form("SM0001", "Where is my parcel?"))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/xml")
    assert "<Response>" in first.text
    retry = await post_signed(url, sms_form("SM0001", "Where is my parcel?"))
    assert retry.status_code == 200
    assert await count(db, messages) == 1
    async with httpx.AsyncClient() as http:
        listed = await http.get(f"{server}/v1/cases", headers=bearer(company.agent_token))
    [case] = listed.json()["items"]
    assert case["channel"] == "sms"


@pytest.mark.parametrize(
    ("path_tenant", "form_change", "headers", "status"),
    [
        ("slug", None, {"X-Twilio-Signature": "forged"}, 403),
        ("slug", None, {"X-Twilio-Signature": ""}, 403),
        ("no-such-tenant", None, {}, 404),
        ("slug", ("To", "+16505550188"), {}, 404),
        ("slug", None, {"Content-Type": "application/json"}, 400),
        ("slug", ("From", ""), {}, 400),
        ("slug", ("MessageSid", ""), {}, 400),
    ],
)
async def test_bad_webhooks_are_refused_and_create_nothing(
    server: str,
    db: Database,
    company: Company,
    path_tenant: str,
    form_change: tuple[str, str] | None,
    headers: dict[str, str],
    status: int,
) -> None:
    tenant = company.tenant.slug if path_tenant == "slug" else path_tenant
    url = f"{server}/webhooks/twilio/{tenant}/sms"
    form = sms_form("SM0002", "hello")
    if form_change is not None:
        form = [(k, form_change[1] if k == form_change[0] else v) for k, v in form]
    response = await post_signed(url, form, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]
    assert (await count(db, messages), await count(db, customers), await count(db, cases)) == (
        0,
        0,
        0,
    )


async def test_a_signature_made_with_another_accounts_token_is_refused(
    server: str, db: Database, company: Company
) -> None:
    url = f"{server}/webhooks/twilio/{company.tenant.slug}/sms"
    response = await post_signed(url, sms_form("SM0003", "hi"), token="someone-elses-token")
    assert response.status_code == 403
    assert await count(db, messages) == 0


async def test_a_reply_goes_out_through_the_provider_and_its_delivery_comes_back(
    server: str, emulator_url: str, db: Database, company: Company
) -> None:
    # given a customer's SMS
    await post_signed(
        f"{server}/webhooks/twilio/{company.tenant.slug}/sms", sms_form("SM0004", "Refund?")
    )
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        case_id = (await api.get("/v1/cases")).json()["items"][0]["id"]
        # when the agent replies
        reply = await api.post(f"/v1/cases/{case_id}/replies", json={"text": "Sent today."})
        assert reply.status_code == 201
        # then the provider receives it, and reports delivery back
        for _ in range(100):
            detail = (await api.get(f"/v1/cases/{case_id}")).json()
            sent = next(m for m in detail["messages"] if m["id"] == reply.json()["id"])
            if sent["delivery_status"] == "delivered":
                break
            await asyncio.sleep(0.1)
    assert sent["delivery_status"] == "delivered"
    assert sent["external_id"].startswith("SM")
    async with httpx.AsyncClient() as http:
        recorded = (await http.get(f"{emulator_url}/_emulator/requests")).json()
    [request] = [r for r in recorded if r["kind"] == "twilio.message"]
    assert request["form"]["To"] == CUSTOMER
    assert request["form"]["From"] == OUR_NUMBER
    assert request["form"]["Body"] == "Sent today."
    assert request["auth_user"] == ACCOUNT_SID


async def test_the_emulator_can_play_the_customer(
    server: str, emulator_url: str, db: Database, company: Company
) -> None:
    async with httpx.AsyncClient() as http:
        result = await http.post(
            f"{emulator_url}/_emulator/twilio/sms",
            json={
                "url": f"{server}/webhooks/twilio/{company.tenant.slug}/sms",
                "auth_token": AUTH_TOKEN,
                "from": CUSTOMER,
                "to": OUR_NUMBER,
                "body": "Texting from the emulator",
            },
        )
    assert result.json()["status"] == 200
    assert await count(db, messages) == 1
