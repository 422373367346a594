"""Voice webhooks that must be refused, each creating nothing: a bad or missing signature (403),
an unknown tenant or number (404), the wrong content type or form (400). Requests are signed
by the twilio SDK's own RequestValidator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from carepath.storage import Database
from tests.channels.voice_live import (
    AUTH_TOKEN,
    add_numbers,
    call_form,
    carepath,
    emulator,
    new_sid,
    nothing_stored,
    post_signed,
    twiml,
)
from tests.factories import Company, make_company

ENDPOINTS = ("", "/menu", "/status", "/queue")


@pytest.fixture
async def server(db: Database, database_url: str, data_dir: Path) -> AsyncIterator[str]:
    async with emulator() as emulator_url, carepath(database_url, data_dir, emulator_url) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_numbers(db, company)
    return company


def form_for(endpoint: str, sid: str) -> list[tuple[str, str]]:
    if endpoint in ("/status", "/queue"):
        return call_form(sid, CallStatus="completed", QueueResult="hangup")
    return call_form(sid, Digits="1") if endpoint == "/menu" else call_form(sid)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("tenant", "change", "headers", "status", "code"),
    [
        ("slug", None, {"X-Twilio-Signature": "forged"}, 403, "bad_signature"),
        ("slug", None, {"X-Twilio-Signature": ""}, 403, "bad_signature"),
        ("no-such-tenant", None, {}, 404, "unknown_tenant"),
        ("slug", ("To", "+16505550188"), {}, 404, "unknown_number"),
        ("slug", None, {"Content-Type": "application/json"}, 400, "bad_request"),
        ("slug", ("CallSid", ""), {}, 400, "bad_request"),
    ],
)
async def test_bad_voice_webhooks_are_refused_and_create_nothing(
    server: str,
    db: Database,
    company: Company,
    endpoint: str,
    tenant: str,
    change: tuple[str, str] | None,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    path_tenant = company.tenant.slug if tenant == "slug" else tenant
    url = f"{server}/webhooks/twilio/{path_tenant}/voice{endpoint}"
    form = form_for(endpoint, new_sid())
    if change is not None:
        form = [(k, change[1] if k == change[0] else v) for k, v in form]
    response = await post_signed(url, form, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await nothing_stored(db)


async def test_a_signature_with_another_accounts_token_or_for_another_url_is_refused(
    server: str, db: Database, company: Company
) -> None:
    url = f"{server}/webhooks/twilio/{company.tenant.slug}/voice"
    form = call_form(new_sid())
    other_token = await post_signed(url, form, token="someone-elses-token")
    assert other_token.status_code == 403
    # signed (by the SDK) for the menu, sent to the incoming-call URL
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{url}/menu", dict(form))
    async with httpx.AsyncClient() as http:
        moved = await http.post(
            url,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert moved.status_code == 403
    assert await nothing_stored(db)


async def test_a_status_report_with_an_unknown_call_status_is_refused(
    server: str, db: Database, company: Company
) -> None:
    url = f"{server}/webhooks/twilio/{company.tenant.slug}/voice/status"
    response = await post_signed(url, call_form(new_sid(), CallStatus="exploded"))
    assert response.status_code == 400
    assert "CallStatus" in response.json()["error"]["message"]


async def test_the_tenant_can_be_named_by_its_id_as_carepath_does_in_its_own_urls(
    server: str, company: Company
) -> None:
    url = f"{server}/webhooks/twilio/{company.tenant.id}/voice"
    response = await post_signed(url, call_form(new_sid()))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert twiml(response.text).findall("Enqueue")
