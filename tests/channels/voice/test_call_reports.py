"""What Twilio reports after answering (how the caller left the queue, the call's status,
recordings and transcriptions) lands on the call and its contact: wait, talk, abandonment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carepath.storage import Database
from carepath.storage.tables import contacts
from tests.channels.voice_live import (
    add_numbers,
    api_get,
    call_form,
    carepath,
    emulator,
    new_sid,
    post_signed,
    twiml,
)
from tests.factories import Company, make_company


@pytest.fixture
async def server(db: Database, database_url: str, data_dir: Path) -> AsyncIterator[str]:
    async with emulator() as emulator_url, carepath(database_url, data_dir, emulator_url) as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_numbers(db, company)
    return company


def voice_url(server: str, company: Company, endpoint: str = "") -> str:
    return f"{server}/webhooks/twilio/{company.tenant.slug}/voice{endpoint}"


async def queued_call(server: str, company: Company) -> str:
    """A caller (no menu: the default strategy) put in the queue; returns the CallSid."""
    sid = new_sid()
    answer = await post_signed(voice_url(server, company), call_form(sid))
    assert answer.status_code == 200, answer.text
    assert twiml(answer.text).findall("Enqueue")
    return sid


async def report(server: str, company: Company, endpoint: str, sid: str, **params: str) -> Any:
    form = call_form(sid, CallStatus=params.pop("CallStatus", "in-progress"), **params)
    response = await post_signed(voice_url(server, company, endpoint), form)
    assert response.status_code in (200, 204), response.text
    return response


async def the_contact(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        [row] = (await conn.execute(select(contacts).where(contacts.c.channel == "voice"))).all()
    return dict(row._mapping)


async def the_call(server: str, company: Company) -> dict[str, Any]:
    [case] = (await api_get(server, company, "/v1/cases"))["items"]
    [call] = await api_get(server, company, f"/v1/cases/{case['id']}/calls")
    assert isinstance(call, dict)
    return call


async def test_a_call_answered_by_an_agent_records_wait_and_talk_time_on_the_contact(
    server: str, company: Company, db: Database
) -> None:
    # given a caller waiting in the queue
    sid = await queued_call(server, company)
    # when an agent takes them after 40 s (the Enqueue action) and the call ends after 100 s
    left = await report(server, company, "/queue", sid, QueueResult="bridged", QueueTime="40")
    assert twiml(left.text).findall("Hangup")
    await report(server, company, "/status", sid, CallStatus="completed", CallDuration="100")
    # then the contact holds 40 s of waiting and about 60 s of talking, and has ended
    contact = await the_contact(db)
    assert contact["wait_s"] == 40
    assert contact["handle_s"] == pytest.approx(60, abs=1)
    assert contact["abandoned"] is False
    assert contact["ended_at"] is not None
    call = await the_call(server, company)
    assert (call["status"], call["queue_result"], call["duration_s"]) == (
        "completed",
        "bridged",
        100,
    )
    assert call["talk_s"] == pytest.approx(60, abs=1)


async def test_a_caller_who_hangs_up_in_the_queue_is_an_abandoned_contact(
    server: str, company: Company, db: Database
) -> None:
    sid = await queued_call(server, company)
    # the reports come in the other order this time: Twilio does not promise one
    await report(server, company, "/status", sid, CallStatus="completed", CallDuration="31")
    await report(server, company, "/queue", sid, QueueResult="hangup", QueueTime="25")
    contact = await the_contact(db)
    assert contact["abandoned"] is True
    assert contact["wait_s"] == 25
    assert contact["handle_s"] == 0
    assert (await the_call(server, company))["abandoned"] is True


async def test_queue_time_sent_with_the_status_callback_counts_as_waiting(
    server: str, company: Company, db: Database
) -> None:
    sid = await queued_call(server, company)
    await report(
        server, company, "/status", sid, CallStatus="completed", CallDuration="50", QueueTime="12"
    )
    assert (await the_contact(db))["wait_s"] == 12


async def test_recording_and_transcription_links_are_stored_on_the_cases_call(
    server: str, company: Company
) -> None:
    sid = await queued_call(server, company)
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123"
    await report(
        server,
        company,
        "/status",
        sid,
        CallStatus="completed",
        CallDuration="80",
        RecordingUrl=recording,
        RecordingSid="RE123",
        RecordingDuration="75",
    )
    await report(
        server,
        company,
        "/status",
        sid,
        CallStatus="completed",
        RecordingSid="RE123",
        RecordingUrl=recording,
        TranscriptionText="My card is 4111 1111 1111 1111 and the refund is late",
        TranscriptionUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Transcriptions/TR1",
    )
    [stored] = (await the_call(server, company))["recordings"]
    assert stored["url"] == recording
    assert stored["sid"] == "RE123"
    assert stored["duration_s"] == 75
    assert stored["transcription_url"].endswith("/TR1")
    assert "4111 1111 1111 1111" not in stored["transcription"]
    assert stored["transcription"].endswith("and the refund is late")


async def test_a_report_about_a_call_we_never_saw_is_acknowledged_and_ignored(
    server: str, company: Company
) -> None:
    response = await report(server, company, "/status", new_sid(), CallStatus="completed")
    assert response.status_code == 204
