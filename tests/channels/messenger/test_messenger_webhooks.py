"""Messenger and Instagram end to end over real HTTP: signed webhooks in, customers known by
their page-scoped ids, replies out through the Graph API emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import customers, messages
from tests.channels.meta_live import (
    APP_SECRET,
    VERIFY_TOKEN,
    add_account,
    carepath,
    count,
    customer_of,
    message_of,
    nothing_stored,
    only_case,
    post_signed,
    recorded,
    wait_for_delivery,
)
from tests.factories import Company, bearer, make_company

FIXTURES = Path(__file__).parent / "fixtures"
PAGE_ID = "106983912345678"
IG_ID = "17841405822304914"
PAGE_TOKEN = "EAAG-page-access-token"
IG_TOKEN = "EAAG-instagram-page-access-token"
PSID = "7021445431234567"
IGSID = "6543210987654321"


@pytest.fixture
async def server(
    db: Database, database_url: str, data_dir: Path, emulator_url: str
) -> AsyncIterator[str]:
    async with carepath(database_url, data_dir, emulator_url) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_account(db, company, Channel.MESSENGER, PAGE_ID, access_token=PAGE_TOKEN)
    await add_account(db, company, Channel.INSTAGRAM, IG_ID, access_token=IG_TOKEN)
    return company


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def webhook_url(server: str, company: Company) -> str:
    return f"{server}/webhooks/meta/{company.tenant.slug}"


async def cases(server: str, company: Company) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        items: list[dict[str, Any]] = (await api.get("/v1/cases")).json()["items"]
    return items


async def reply(server: str, company: Company, case_id: str, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        return await api.post(f"/v1/cases/{case_id}/replies", json=body)


async def test_a_messenger_message_creates_a_customer_known_by_their_psid(
    server: str, db: Database, company: Company
) -> None:
    url = webhook_url(server, company)
    first = await post_signed(url, fixture("messenger_text"))
    assert first.status_code == 200, first.text
    retry = await post_signed(url, fixture("messenger_text"))
    assert retry.json()["duplicates"] == 1
    assert await count(db, messages) == 1
    case = await only_case(server, company)
    assert case["channel"] == "messenger"
    customer = await customer_of(server, company, case["customer_id"])
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [("messenger", PSID)]


async def test_an_instagram_message_creates_a_customer_known_by_their_igsid(
    server: str, company: Company
) -> None:
    response = await post_signed(webhook_url(server, company), fixture("instagram_text"))
    assert response.status_code == 200, response.text
    case = await only_case(server, company)
    assert case["channel"] == "instagram"
    customer = await customer_of(server, company, case["customer_id"])
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [("instagram", IGSID)]


async def test_echoes_and_watermark_reads_store_nothing(
    server: str, db: Database, company: Company
) -> None:
    for name in ("messenger_echo", "messenger_delivery_read"):
        response = await post_signed(webhook_url(server, company), fixture(name))
        assert response.status_code == 200, response.text
    assert await nothing_stored(db)


async def test_the_handshake_echoes_the_challenge(server: str, company: Company) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "987654321"}
    async with httpx.AsyncClient() as http:
        ok = await http.get(
            webhook_url(server, company), params={**params, "hub.verify_token": VERIFY_TOKEN}
        )
        wrong = await http.get(
            webhook_url(server, company), params={**params, "hub.verify_token": "nope"}
        )
    assert (ok.status_code, ok.text) == (200, "987654321")
    assert wrong.status_code == 403


def _to_unknown_page() -> dict[str, Any]:
    payload = fixture("messenger_text")
    payload["entry"][0]["messaging"][0]["recipient"]["id"] = "555555555"
    return payload


@pytest.mark.parametrize(
    ("tenant", "payload", "secret", "headers", "status"),
    [
        ("slug", fixture("messenger_text"), "forged-secret", {}, 403),
        ("slug", fixture("instagram_text"), APP_SECRET, {"X-Hub-Signature-256": ""}, 403),
        ("no-such-tenant", fixture("messenger_text"), APP_SECRET, {}, 404),
        ("slug", _to_unknown_page(), APP_SECRET, {}, 404),
        ("slug", fixture("messenger_text"), APP_SECRET, {"Content-Type": "text/plain"}, 400),
        ("slug", {"object": "user", "entry": []}, APP_SECRET, {}, 400),
        ("slug", b"[]", APP_SECRET, {}, 400),
    ],
)
async def test_bad_webhooks_are_refused_and_create_nothing(
    server: str,
    db: Database,
    company: Company,
    tenant: str,
    payload: dict[str, Any] | bytes,
    secret: str,
    headers: dict[str, str],
    status: int,
) -> None:
    slug = company.tenant.slug if tenant == "slug" else tenant
    response = await post_signed(
        f"{server}/webhooks/meta/{slug}", payload, secret=secret, **headers
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]
    assert await nothing_stored(db)


async def test_a_page_id_is_not_an_instagram_account(
    server: str, db: Database, company: Company
) -> None:
    # an Instagram webhook naming the Messenger page is not for any Instagram account
    payload = fixture("instagram_text")
    payload["entry"][0]["messaging"][0]["recipient"]["id"] = PAGE_ID
    response = await post_signed(webhook_url(server, company), payload)
    assert response.status_code == 404
    assert await nothing_stored(db)


async def test_a_messenger_reply_goes_out_and_its_delivery_comes_back(
    server: str, emulator_url: str, company: Company
) -> None:
    # given a customer's Messenger message
    await post_signed(webhook_url(server, company), fixture("messenger_text"))
    case_id = (await only_case(server, company))["id"]
    # when the agent replies
    sent = await reply(server, company, case_id, text="Let me check with the courier.")
    assert sent.status_code == 201, sent.text
    # then the Send API receives it for the customer's PSID, with the page's token
    message = await wait_for_delivery(server, company, case_id, sent.json()["id"], "sent")
    assert message["external_id"].startswith("m_")
    [request] = await recorded(emulator_url, "messenger.message")
    assert request["path"] == "/v21.0/me/messages"
    assert request["auth_user"] == PAGE_TOKEN
    assert request["json"]["recipient"] == {"id": PSID}
    assert request["json"]["message"] == {"text": "Let me check with the courier."}
    # and Messenger's delivery receipt is recorded
    receipt = fixture("messenger_delivery_read")
    receipt["entry"][0]["messaging"][0]["delivery"]["mids"] = [message["external_id"]]
    await post_signed(webhook_url(server, company), receipt)
    delivered = await message_of(server, company, case_id, sent.json()["id"])
    assert delivered["delivery_status"] == "delivered"


async def test_an_instagram_reply_goes_out_with_the_instagram_token(
    server: str, emulator_url: str, company: Company
) -> None:
    await post_signed(webhook_url(server, company), fixture("instagram_text"))
    case_id = (await only_case(server, company))["id"]
    sent = await reply(server, company, case_id, text="Yes, since Monday!")
    assert sent.status_code == 201, sent.text
    await wait_for_delivery(server, company, case_id, sent.json()["id"], "sent")
    [request] = await recorded(emulator_url, "messenger.message")
    assert request["auth_user"] == IG_TOKEN
    assert request["json"]["recipient"] == {"id": IGSID}


async def test_a_template_is_only_for_whatsapp(server: str, company: Company) -> None:
    await post_signed(webhook_url(server, company), fixture("messenger_text"))
    case_id = (await only_case(server, company))["id"]
    response = await reply(
        server, company, case_id, template={"name": "order_update", "language": "en_US"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["data"]["field"] == "template"


async def test_page_scoped_customers_can_be_linked_to_a_known_customer(
    server: str, emulator_url: str, db: Database, company: Company
) -> None:
    # given the same person wrote on Messenger and on Instagram (two page-scoped ids)
    await post_signed(webhook_url(server, company), fixture("messenger_text"))
    await post_signed(webhook_url(server, company), fixture("instagram_text"))
    by_channel = {c["channel"]: c["customer_id"] for c in await cases(server, company)}
    assert await count(db, customers) == 2
    # when an agent links them
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        merged = await api.post(
            f"/v1/customers/{by_channel['messenger']}/merge",
            json={"merged_id": by_channel["instagram"], "reason": "same person"},
        )
    assert merged.status_code == 201, merged.text
    # then their next Instagram message belongs to the known customer
    async with httpx.AsyncClient() as http:
        played = await http.post(
            f"{emulator_url}/_emulator/messenger/message",
            json={
                "url": webhook_url(server, company),
                "app_secret": APP_SECRET,
                "object": "instagram",
                "recipient": IG_ID,
                "sender": IGSID,
                "text": "Any news?",
            },
        )
    assert played.json()["status"] == 200, played.json()
    customer = await customer_of(server, company, by_channel["messenger"])
    assert sorted(i["kind"] for i in customer["identities"]) == ["instagram", "messenger"]
    async with db.engine.connect() as conn:
        owner = (
            await conn.execute(select(messages.c.customer_id).where(messages.c.text == "Any news?"))
        ).scalar_one()
    assert owner == by_channel["messenger"]
