"""Callbacks over real HTTP: journey 4 ("text, then a call": an agent in an SMS conversation calls
the customer back, through the provider emulator, and the call is linked to the case), the
supervisors' list, scheduling, cancelling, and what cannot be called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from carepath.authn import CSRF_HEADER
from carepath.storage import Database
from carepath.types import Role
from tests.channels.voice_live import (
    ACCOUNT_SID,
    CALLER,
    SMS_NUMBER,
    VOICE_NUMBER,
    add_numbers,
    api_get,
    carepath,
    emulator,
    emulator_requests,
    eventually,
    new_sid,
    post_signed,
    twiml,
)
from tests.factories import PASSWORD, Company, bearer, make_company, make_user


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    async with emulator() as url:
        yield url


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
    return company


async def texted(server: str, company: Company, body: str = "Is my refund on its way?") -> str:
    """The customer texts the company; returns the case."""
    form = [
        ("MessageSid", "SM" + new_sid()[2:]),
        ("AccountSid", ACCOUNT_SID),
        ("From", CALLER),
        ("To", SMS_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
    ]
    response = await post_signed(f"{server}/webhooks/twilio/{company.tenant.slug}/sms", form)
    assert response.status_code == 200, response.text
    [case] = (await api_get(server, company, "/v1/cases"))["items"]
    assert case["channel"] == "sms"
    return str(case["id"])


@pytest.fixture
async def agent(
    server: str, company: Company, db: Database
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A signed-in agent (session cookie and CSRF header), and their user id."""
    user = await make_user(db, company.tenant, Role.AGENT)
    async with httpx.AsyncClient(base_url=server) as client:
        login = await client.post(
            "/v1/auth/login",
            json={"tenant": company.tenant.slug, "email": user.email, "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        client.headers[CSRF_HEADER] = login.json()["csrf_token"]
        yield client, user.id


async def test_an_agent_in_an_sms_conversation_calls_the_customer_back_on_the_case(
    server: str,
    emulator_url: str,
    company: Company,
    agent: tuple[httpx.AsyncClient, str],
) -> None:
    api, agent_id = agent
    # given an SMS conversation
    case_id = await texted(server, company)
    # when the agent decides a call is quicker and asks for one now, to the customer's number
    asked = await api.post(f"/v1/cases/{case_id}/callbacks", json={"when": "now"})
    assert asked.status_code == 201, asked.text
    callback = asked.json()
    assert (callback["phone"], callback["source"], callback["case_id"]) == (
        CALLER,
        "agent",
        case_id,
    )
    # and calls now
    placed = await api.post(f"/v1/callbacks/{callback['id']}/call")
    assert placed.status_code == 202, placed.text
    call = placed.json()
    assert (call["direction"], call["status"], call["placed_by"]) == (
        "outbound",
        "queued",
        agent_id,
    )
    # then the provider is asked to call the customer from the company's voice number
    [request] = await eventually(
        lambda: emulator_requests(emulator_url, "twilio.call"), lambda found: len(found) > 0
    )
    form = request["form"]
    assert (form["To"], form["From"]) == (CALLER, VOICE_NUMBER)
    assert request["auth_user"] == ACCOUNT_SID
    assert form["Url"].endswith(f"/voice/connect?call={call['id']}")
    assert form["StatusCallback"].endswith(f"/voice/status?call={call['id']}")
    assert form["StatusCallbackEvent"] == "initiated ringing answered completed"
    # and when the customer answers, carepath connects them to the agent's softphone
    [answered] = await eventually(
        lambda: emulator_requests(emulator_url, "twilio.call.twiml"), lambda found: len(found) > 0
    )
    client = twiml(answered["json"]).find("Dial/Client")
    assert client is not None
    assert client.text == agent_id
    # and the call, linked to the case and the callback, ends completed after the talk
    calls = await eventually(
        lambda: api_get(server, company, f"/v1/cases/{case_id}/calls"),
        lambda found: bool(found) and found[0]["status"] == "completed",
    )
    [linked] = calls
    assert linked["id"] == call["id"]
    assert linked["callback_id"] == callback["id"]
    assert linked["provider_sid"].startswith("CA")
    assert linked["talk_s"] == 30
    done = await api_get(server, company, f"/v1/callbacks/{callback['id']}")
    assert done["status"] == "done"
    assert [c["id"] for c in done["calls"]] == [call["id"]]
    # and the case shows it: a note and the call in the journey
    detail = await api_get(server, company, f"/v1/cases/{case_id}")
    notes = [m["text"] for m in detail["messages"] if m["is_internal_note"]]
    assert any(CALLER in note and "back" in note for note in notes)
    journey = [e["name"] for e in detail["journey"]]
    assert "call_outbound" in journey
    assert "call_ended" in journey
    assert any(c["channel"] == "voice" for c in detail["contacts"])


async def test_an_unanswered_callback_stays_scheduled_for_another_try(
    server: str, emulator_url: str, company: Company
) -> None:
    case_id = await texted(server, company)
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{emulator_url}/_emulator/twilio/call_outcome",
            json={"to": CALLER, "status": "no-answer"},
        )
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        callback = (await api.post(f"/v1/cases/{case_id}/callbacks", json={})).json()
        call = (await api.post(f"/v1/callbacks/{callback['id']}/call")).json()
        ended = await eventually(
            lambda: api_get(server, company, f"/v1/callbacks/{callback['id']}"),
            lambda found: (
                found["calls"][0]["status"] != "queued"
                and found["calls"][0]["ended_at"] is not None
            ),
        )
        assert ended["calls"][0]["id"] == call["id"]
        assert ended["calls"][0]["status"] == "no_answer"
        assert ended["status"] == "scheduled"
        # and the agent may try again
        again = await api.post(f"/v1/callbacks/{callback['id']}/call")
        assert again.status_code == 202, again.text


async def test_a_scheduled_callback_is_listed_for_supervisors_and_can_be_cancelled(
    server: str, company: Company
) -> None:
    case_id = await texted(server, company)
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        asked = await api.post(
            f"/v1/cases/{case_id}/callbacks",
            json={"when": at.isoformat(), "phone": "+44 20 7946 0958"},
        )
        assert asked.status_code == 201, asked.text
        callback = asked.json()
        assert callback["phone"] == "+442079460958"
        assert datetime.fromisoformat(callback["requested_for"]) == at
        listed = await api.get(
            "/v1/callbacks",
            params={"status": "requested"},
            headers=bearer(company.supervisor_token),
        )
        assert [c["id"] for c in listed.json()["items"]] == [callback["id"]]
        cancelled = await api.post(f"/v1/callbacks/{callback['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        # a cancelled callback is not called, nor cancelled again
        call = await api.post(f"/v1/callbacks/{callback['id']}/call")
        assert call.status_code == 409
        assert call.json()["error"]["code"] == "callback_closed"
        twice = await api.post(f"/v1/callbacks/{callback['id']}/cancel")
        assert twice.status_code == 409
        remaining = await api.get("/v1/callbacks", params={"status": "requested"})
        assert remaining.json()["items"] == []


async def test_without_a_phone_number_on_file_the_agent_must_give_one(
    server: str, company: Company
) -> None:
    # given a chat-only customer
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.admin_token)) as backend:
        session = (
            await backend.post("/v1/visitor/session", json={"visitor_id": "v-9", "user_id": "u-9"})
        ).json()
    async with httpx.AsyncClient(base_url=server) as browser:
        sent = await browser.post(
            "/v1/visitor/messages",
            json={"client_id": "0b7f2a59-31c7-4a39-9d8a-6fb3c3f6f1d1", "text": "Call me?"},
            headers={"X-Carepath-Session": session["session"]},
        )
    case_id = sent.json()["case_id"]
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        refused = await api.post(f"/v1/cases/{case_id}/callbacks", json={"when": "now"})
        assert refused.status_code == 422
        assert refused.json()["error"]["data"]["field"] == "phone"
        given = await api.post(f"/v1/cases/{case_id}/callbacks", json={"phone": "+16505550177"})
        assert given.status_code == 201
        assert given.json()["case_id"] == case_id


async def test_a_time_in_the_past_or_a_bad_number_is_refused(server: str, company: Company) -> None:
    case_id = await texted(server, company)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        late = await api.post(f"/v1/cases/{case_id}/callbacks", json={"when": past})
        bad = await api.post(f"/v1/cases/{case_id}/callbacks", json={"phone": "020 7946 0958"})
    assert (late.status_code, late.json()["error"]["data"]["field"]) == (422, "when")
    assert (bad.status_code, bad.json()["error"]["data"]["field"]) == (422, "phone")


async def test_calling_needs_a_voice_number(server: str, db: Database) -> None:
    company = await make_company(db)
    await add_numbers(db, company, voice=False)
    case_id = await texted(server, company)
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        callback = (await api.post(f"/v1/cases/{case_id}/callbacks", json={})).json()
        refused = await api.post(f"/v1/callbacks/{callback['id']}/call")
    assert refused.status_code == 422
    assert "voice number" in refused.json()["error"]["message"]
