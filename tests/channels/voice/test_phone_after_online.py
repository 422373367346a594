"""Journey 2, "phones after being online", over real HTTP: a customer who chatted today calls;
the call is matched to them and their open case, agents get the screen pop, and the phone menu
(TwiML, read with xml.etree) offers to continue in chat or to be called back."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carepath.storage import Database
from carepath.storage.tables import callbacks, customers
from tests.channels.voice_live import (
    AUTH_TOKEN,
    CALLER,
    SMS_NUMBER,
    VOICE_NUMBER,
    add_numbers,
    api_get,
    apply_config,
    carepath,
    count,
    emulator_requests,
    eventually,
    said,
    twiml,
)
from tests.factories import Company, bearer, make_company
from tests.live import receive, ws_connect


@pytest.fixture
async def server(
    db: Database, database_url: str, data_dir: Path, emulator_url: str
) -> AsyncIterator[str]:
    async with carepath(database_url, data_dir, emulator_url) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_numbers(db, company)
    await apply_config(db, company)
    return company


async def chatted_today(server: str, company: Company, intent: str) -> dict[str, str]:
    """A signed-in customer (with their phone on file) writes in the widget; the agent sets the
    case's intent. Returns the case and customer ids."""
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.admin_token)) as backend:
        identified = await backend.post(
            "/v1/identify", json={"user_id": "u-ada", "phone": CALLER, "name": "Ada Lovelace"}
        )
        assert identified.status_code == 200, identified.text
        session = await backend.post(
            "/v1/visitor/session", json={"visitor_id": "v-ada", "user_id": "u-ada"}
        )
        assert session.status_code == 200, session.text
    async with httpx.AsyncClient(base_url=server) as browser:
        sent = await browser.post(
            "/v1/visitor/messages",
            json={"client_id": str(uuid.uuid4()), "text": "My refund still hasn't arrived"},
            headers={"X-Carepath-Session": session.json()["session"]},
        )
        assert sent.status_code == 201, sent.text
    case_id = sent.json()["case_id"]
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        updated = await api.patch(f"/v1/cases/{case_id}", json={"intent": intent})
        assert updated.status_code == 200, updated.text
    return {"case_id": case_id, "customer_id": session.json()["customer_id"]}


async def phone_in(emulator_url: str, server: str, company: Company, **spec: Any) -> dict[str, Any]:
    """The emulator plays the caller: a signed incoming-call webhook to carepath."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{emulator_url}/_emulator/twilio/call",
            json={
                "url": f"{server}/webhooks/twilio/{company.tenant.slug}/voice",
                "auth_token": AUTH_TOKEN,
                "from": CALLER,
                "to": VOICE_NUMBER,
                **spec,
            },
        )
    result: dict[str, Any] = answer.json()
    assert result["status"] == 200, result
    return result


async def press(
    emulator_url: str, action: str, call_sid: str, digits: str | None
) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{emulator_url}/_emulator/twilio/gather",
            json={
                "url": action,
                "auth_token": AUTH_TOKEN,
                "call_sid": call_sid,
                "from": CALLER,
                "to": VOICE_NUMBER,
                "digits": digits,
            },
        )
    result: dict[str, Any] = answer.json()
    assert result["status"] == 200, result
    return result


async def next_of_type(ws: Any, type_: str) -> dict[str, Any]:
    while True:
        frame = await receive(ws, 10)
        if frame.get("type") == type_:
            return frame


async def test_a_caller_who_chatted_today_is_greeted_matched_to_the_case_and_popped_to_agents(
    server: str, emulator_url: str, company: Company, db: Database
) -> None:
    # given a customer who chatted about a refund an hour ago, and an agent watching the stream
    chat = await chatted_today(server, company, "refund_not_received")
    async with ws_connect(server, "/v1/stream", bearer(company.agent_token)) as ws:
        assert (await receive(ws))["type"] == "stream.ready"
        # when they phone
        call = await phone_in(emulator_url, server, company)
        # then the agent's screen pops with them, their open case and what they did online
        pop = (await next_of_type(ws, "call.incoming"))["data"]
    assert pop["case_id"] == chat["case_id"]
    assert pop["customer"]["customer_id"] == chat["customer_id"]
    assert pop["customer"]["name"] == "Ada Lovelace"
    assert pop["customer"]["known"] is True
    assert pop["case"]["intent"] == "refund_not_received"
    assert pop["online_last_24h"] is True
    assert "chat_message" in [event["name"] for event in pop["journey"]]
    assert pop["from"] == CALLER
    # and they are greeted by name; offer_digital for the intent gets the menu
    root = twiml(call["body"])
    assert "Hello Ada" in said(root)
    [gather] = root.findall("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action", "").endswith("/voice/menu")
    prompt = said(gather)
    assert "press 1" in prompt
    assert "press 2" in prompt
    # with no key pressed the caller goes on to the menu endpoint, which queues them
    [redirect] = root.findall("Redirect")
    assert redirect.text == gather.get("action")
    # and the call joined the same case: no new customer, no second case
    assert await count(db, customers) == 1
    cases = await api_get(server, company, "/v1/cases")
    assert [c["id"] for c in cases["items"]] == [chat["case_id"]]
    assert cases["items"][0]["channel"] == "voice"
    [recorded] = await api_get(server, company, f"/v1/cases/{chat['case_id']}/calls")
    assert recorded["direction"] == "inbound"
    assert recorded["provider_sid"] == call["call_sid"]


async def test_pressing_1_texts_a_link_that_opens_the_widget_on_the_same_case(
    server: str, emulator_url: str, company: Company
) -> None:
    # given the caller is in the menu
    chat = await chatted_today(server, company, "refund_not_received")
    call = await phone_in(emulator_url, server, company)
    action = twiml(call["body"]).findall("Gather")[0].get("action", "")
    # when they press 1
    answer = twiml((await press(emulator_url, action, call["call_sid"], "1"))["body"])
    # then they hear that a text is on its way, and the call ends
    assert "text message" in said(answer)
    assert answer.findall("Hangup")
    # and the SMS goes out through the provider with a link to continue in chat
    texts = await eventually(
        lambda: emulator_requests(emulator_url, "twilio.message"),
        lambda found: any("/continue?token=" in r["form"]["Body"] for r in found),
    )
    [sms] = [r for r in texts if "/continue?token=" in r["form"]["Body"]]
    assert sms["form"]["To"] == CALLER
    assert sms["form"]["From"] == SMS_NUMBER
    link = re.search(r"(http\S+/t/[^/]+/continue\?token=(\S+))", sms["form"]["Body"])
    assert link is not None, sms["form"]["Body"]
    url, token = link.group(1), link.group(2)
    # and the link's page embeds the widget with the token
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
    assert page.status_code == 200
    assert f'data-carepath-continue="{token}"' in page.text
    # and the token opens a visitor session on the same case, as the same customer
    async with httpx.AsyncClient(
        base_url=server, headers={"X-Carepath-Key": company.tenant.public_key}
    ) as widget:
        opened = await widget.post(
            "/v1/visitor/session", json={"visitor_id": "v-phone", "continue_token": token}
        )
        assert opened.status_code == 200, opened.text
        session = opened.json()
        assert session["case_id"] == chat["case_id"]
        assert session["customer_id"] == chat["customer_id"]
        assert session["verified"] is True
        # and what they write there continues that case
        sent = await widget.post(
            "/v1/visitor/messages",
            json={"client_id": str(uuid.uuid4()), "text": "Here I am, in the chat"},
            headers={"X-Carepath-Session": session["session"]},
        )
    assert sent.status_code == 201, sent.text
    assert sent.json()["case_id"] == chat["case_id"]
    [recorded] = await api_get(server, company, f"/v1/cases/{chat['case_id']}/calls")
    assert recorded["ivr_choice"] == "continue_in_chat"


async def test_pressing_2_asks_for_a_callback_instead_of_waiting(
    server: str, emulator_url: str, company: Company, db: Database
) -> None:
    chat = await chatted_today(server, company, "refund_not_received")
    call = await phone_in(emulator_url, server, company)
    action = twiml(call["body"]).findall("Gather")[0].get("action", "")
    # when they press 2
    answer = twiml((await press(emulator_url, action, call["call_sid"], "2"))["body"])
    # then they are told they will be called back, and the call ends
    assert "call you back" in said(answer)
    assert answer.findall("Hangup")
    # and a callback to their number waits, about their case, from the phone menu
    listed = await api_get(server, company, "/v1/callbacks", status="requested")
    [callback] = listed["items"]
    assert callback["phone"] == CALLER
    assert callback["case_id"] == chat["case_id"]
    assert callback["source"] == "ivr"
    [recorded] = await api_get(server, company, f"/v1/cases/{chat['case_id']}/calls")
    assert recorded["callback_id"] == callback["id"]
    # a provider retry of the same key press changes nothing
    again = twiml((await press(emulator_url, action, call["call_sid"], "2"))["body"])
    assert "call you back" in said(again)
    assert await count(db, callbacks) == 1


async def test_any_other_key_or_none_puts_the_caller_in_the_cases_queue(
    server: str, emulator_url: str, company: Company
) -> None:
    await chatted_today(server, company, "refund_not_received")
    call = await phone_in(emulator_url, server, company)
    action = twiml(call["body"]).findall("Gather")[0].get("action", "")
    # when they press nothing (the Redirect after the Gather)
    answer = twiml((await press(emulator_url, action, call["call_sid"], None))["body"])
    # then they wait in the queue of the intent's skill
    [enqueue] = answer.findall("Enqueue")
    assert enqueue.text == "returns_line"
    assert enqueue.get("action", "").endswith("/voice/queue")
    assert enqueue.get("waitUrl", "").endswith("/voice/wait")


async def test_an_intent_not_offered_digitally_goes_straight_to_the_queue(
    server: str, emulator_url: str, company: Company
) -> None:
    # given a case whose intent is served live on the phone
    await chatted_today(server, company, "card_arrival")
    # when the customer calls
    root = twiml((await phone_in(emulator_url, server, company))["body"])
    # then there is no menu: a greeting by name, then the queue
    assert not root.findall("Gather")
    assert "Hello Ada" in said(root)
    [enqueue] = root.findall("Enqueue")
    assert enqueue.text == "returns_line"


async def test_an_unknown_caller_becomes_a_new_customer_with_a_new_voice_case(
    server: str, emulator_url: str, company: Company
) -> None:
    root = twiml((await phone_in(emulator_url, server, company))["body"])
    assert said(root).startswith("Thank you for calling")
    [enqueue] = root.findall("Enqueue")
    assert enqueue.text == "general"  # no intent yet: the defaults' skill
    [case] = (await api_get(server, company, "/v1/cases"))["items"]
    assert case["channel"] == "voice"
    assert case["status"] == "queued"  # waiting for an agent, like the caller


async def test_a_withheld_number_is_queued_without_a_menu_and_matched_to_nobody(
    server: str, emulator_url: str, company: Company, db: Database
) -> None:
    await chatted_today(server, company, "refund_not_received")
    root = twiml((await phone_in(emulator_url, server, company, **{"from": "+266696687"}))["body"])
    assert not root.findall("Gather")
    assert root.findall("Enqueue")
    assert await count(db, customers) == 2  # the chat's customer, and a new one for the call
