"""WhatsApp end to end over real HTTP: signed Cloud API webhooks in, replies out through the
Graph API emulator, statuses back; the 24-hour window enforced when the agent replies."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import messages, outbox
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
NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAG-whatsapp-access-token"
CUSTOMER = "16505551234"


@pytest.fixture
async def server(
    db: Database, database_url: str, data_dir: Path, emulator_url: str
) -> AsyncIterator[str]:
    async with carepath(database_url, data_dir, emulator_url) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_account(db, company, Channel.WHATSAPP, NUMBER_ID, access_token=ACCESS_TOKEN)
    return company


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def text_message(message_id: str, body: str, *, at: float | None = None) -> dict[str, Any]:
    payload = fixture("text")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id=message_id, timestamp=str(int(at or time.time())), text={"body": body})
    return payload


def status(wamid: str, value: str) -> dict[str, Any]:
    payload = fixture("statuses")
    change = payload["entry"][0]["changes"][0]["value"]
    change["statuses"] = [
        {"id": wamid, "status": value, "timestamp": str(int(time.time())), "recipient_id": CUSTOMER}
    ]
    return payload


def webhook_url(server: str, company: Company) -> str:
    return f"{server}/webhooks/whatsapp/{company.tenant.slug}"


async def test_a_signed_message_is_stored_once_even_when_meta_retries(
    server: str, db: Database, company: Company
) -> None:
    url = webhook_url(server, company)
    first = await post_signed(url, text_message("wamid.A1", "Where is my order?"))
    assert first.status_code == 200, first.text
    retry = await post_signed(url, text_message("wamid.A1", "Where is my order?"))
    assert retry.status_code == 200
    assert retry.json()["duplicates"] == 1
    assert await count(db, messages) == 1
    case = await only_case(server, company)
    assert case["channel"] == "whatsapp"
    assert case["messages"][0]["text"] == "Where is my order?"
    customer = await customer_of(server, company, case["customer_id"])
    assert customer["name"] == "Sheena Nelson"
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [
        ("whatsapp", "+16505551234")
    ]


async def test_every_message_of_a_multi_message_webhook_is_ingested_once(
    server: str, db: Database, company: Company
) -> None:
    url = webhook_url(server, company)
    response = await post_signed(url, fixture("multi"))
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 2, "duplicates": 0, "statuses": 1}
    again = await post_signed(url, fixture("multi"))
    assert again.json() == {"stored": 0, "duplicates": 2, "statuses": 1}
    assert await count(db, messages) == 2


async def test_the_handshake_echoes_the_challenge(server: str, company: Company) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    async with httpx.AsyncClient() as http:
        ok = await http.get(
            webhook_url(server, company), params={**params, "hub.verify_token": VERIFY_TOKEN}
        )
        wrong = await http.get(
            webhook_url(server, company), params={**params, "hub.verify_token": "guess"}
        )
        unknown = await http.get(
            f"{server}/webhooks/whatsapp/no-such-tenant",
            params={**params, "hub.verify_token": VERIFY_TOKEN},
        )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    assert wrong.status_code == 403
    assert unknown.status_code == 404


def _unknown_number() -> dict[str, Any]:
    payload = text_message("wamid.B1", "hi")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999"
    return payload


def _no_sender() -> dict[str, Any]:
    payload = text_message("wamid.B2", "hi")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    return payload


@pytest.mark.parametrize(
    ("tenant", "payload", "secret", "headers", "status"),
    [
        ("slug", text_message("wamid.B3", "hi"), "forged-secret", {}, 403),
        ("slug", text_message("wamid.B4", "hi"), APP_SECRET, {"X-Hub-Signature-256": ""}, 403),
        ("no-such-tenant", text_message("wamid.B5", "hi"), APP_SECRET, {}, 404),
        ("slug", _unknown_number(), APP_SECRET, {}, 404),
        ("slug", text_message("wamid.B6", "hi"), APP_SECRET, {"Content-Type": "text/plain"}, 400),
        ("slug", _no_sender(), APP_SECRET, {}, 400),
        ("slug", b"{not json", APP_SECRET, {}, 400),
        ("slug", {"object": "page", "entry": []}, APP_SECRET, {}, 400),
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
    url = f"{server}/webhooks/whatsapp/{slug}"
    response = await post_signed(url, payload, secret=secret, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]
    assert await nothing_stored(db)


async def test_a_number_signed_with_another_apps_secret_is_refused(
    server: str, db: Database, company: Company
) -> None:
    # given a second number of the tenant, under another Meta app
    await add_account(
        db, company, Channel.WHATSAPP, "2222222222", access_token="t2", app_secret="other-app"
    )
    payload = text_message("wamid.C1", "hi")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "2222222222"
    # when Meta's webhook for it is signed with the first app's secret
    response = await post_signed(webhook_url(server, company), payload)
    # then it is refused
    assert response.status_code == 403
    assert await nothing_stored(db)


async def reply(server: str, company: Company, case_id: str, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        return await api.post(f"/v1/cases/{case_id}/replies", json=body)


async def test_a_reply_in_the_window_goes_out_and_its_statuses_come_back(
    server: str, emulator_url: str, company: Company
) -> None:
    # given the emulator sends statuses back, and a customer's message of a minute ago
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{emulator_url}/_emulator/whatsapp/status_webhook",
            json={
                "phone_number_id": NUMBER_ID,
                "url": webhook_url(server, company),
                "app_secret": APP_SECRET,
            },
        )
    await post_signed(
        webhook_url(server, company), text_message("wamid.D1", "Refund?", at=time.time() - 60)
    )
    case_id = (await only_case(server, company))["id"]
    # when the agent replies
    sent = await reply(server, company, case_id, text="It left our warehouse today.")
    assert sent.status_code == 201, sent.text
    # then WhatsApp receives it, and reports it read
    message = await wait_for_delivery(server, company, case_id, sent.json()["id"], "read")
    assert message["delivery_status"] == "read"
    assert message["external_id"].startswith("wamid.")
    [request] = await recorded(emulator_url, "whatsapp.message")
    assert request["path"] == f"/v21.0/{NUMBER_ID}/messages"
    assert request["auth_user"] == ACCESS_TOKEN
    assert request["json"]["messaging_product"] == "whatsapp"
    assert request["json"]["to"] == CUSTOMER
    assert request["json"]["type"] == "text"
    assert request["json"]["text"]["body"] == "It left our warehouse today."


async def test_a_late_delivered_after_read_does_not_go_back(
    server: str, emulator_url: str, company: Company
) -> None:
    # given a reply that went out
    await post_signed(webhook_url(server, company), text_message("wamid.E1", "Hello"))
    case_id = (await only_case(server, company))["id"]
    sent = (await reply(server, company, case_id, text="Hi, how can I help?")).json()
    message = await wait_for_delivery(server, company, case_id, sent["id"], "sent")
    wamid = message["external_id"]
    # when WhatsApp's statuses arrive out of order
    for value in ("read", "delivered"):
        response = await post_signed(webhook_url(server, company), status(wamid, value))
        assert response.status_code == 200
    # then the message stays read
    assert (await message_of(server, company, case_id, sent["id"]))["delivery_status"] == "read"


async def test_a_failed_status_is_recorded(
    server: str, emulator_url: str, company: Company
) -> None:
    await post_signed(webhook_url(server, company), text_message("wamid.F1", "Hello"))
    case_id = (await only_case(server, company))["id"]
    sent = (await reply(server, company, case_id, text="Hi")).json()
    wamid = (await wait_for_delivery(server, company, case_id, sent["id"], "sent"))["external_id"]
    await post_signed(webhook_url(server, company), status(wamid, "failed"))
    assert (await message_of(server, company, case_id, sent["id"]))["delivery_status"] == "failed"


async def test_outside_the_window_free_text_is_refused_clearly_and_a_template_allowed(
    server: str, emulator_url: str, db: Database, company: Company
) -> None:
    # given the customer last wrote 25 hours ago
    day_ago = time.time() - 25 * 3600
    await post_signed(webhook_url(server, company), text_message("wamid.G1", "Hi", at=day_ago))
    case_id = (await only_case(server, company))["id"]
    # when the agent replies with free text
    refused = await reply(server, company, case_id, text="Sorry for the wait!")
    # then they are told why, and nothing is queued
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "whatsapp_window_closed"
    assert "template" in error["message"]
    assert await count(db, messages) == 1
    assert await count(db, outbox) == 1  # only the assistant's turn on the customer's message
    # but an approved template goes out
    components = [{"type": "body", "parameters": [{"type": "text", "text": "4711"}]}]
    template = {"name": "order_update", "language": "en_US", "components": components}
    sent = await reply(server, company, case_id, template=template)
    assert sent.status_code == 201, sent.text
    assert "order_update" in sent.json()["text"]
    await wait_for_delivery(server, company, case_id, sent.json()["id"], "sent")
    [request] = await recorded(emulator_url, "whatsapp.message")
    assert request["json"]["type"] == "template"
    assert request["json"]["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": components,
    }


async def test_a_reply_needs_text_or_a_template(server: str, company: Company) -> None:
    await post_signed(webhook_url(server, company), text_message("wamid.I1", "Hi"))
    case_id = (await only_case(server, company))["id"]
    response = await reply(server, company, case_id)
    assert response.status_code == 422


async def test_the_emulator_can_play_the_customer(
    server: str, emulator_url: str, db: Database, company: Company
) -> None:
    async with httpx.AsyncClient() as http:
        result = await http.post(
            f"{emulator_url}/_emulator/whatsapp/message",
            json={
                "url": webhook_url(server, company),
                "app_secret": APP_SECRET,
                "phone_number_id": NUMBER_ID,
                "from": "+16505551234",
                "name": "Sheena Nelson",
                "message": {
                    "type": "location",
                    "location": {"latitude": 37.48, "longitude": -122.14, "name": "Main store"},
                },
            },
        )
    assert result.json()["status"] == 200, result.json()
    case = await only_case(server, company)
    assert "Main store" in case["messages"][0]["text"]
