"""Helpers for the live voice and callback tests: carepath and the provider emulator on loopback
ports, a company with a voice and an SMS number, requests signed by the twilio SDK itself, and
TwiML read with xml.etree."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from carepath.actions.channels import do_create_channel_account
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.domain.contacts import Channel
from carepath.emulator import create_emulator
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.tables import callbacks, calls, cases, customers, messages
from carepath.web import create_app
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, system
from tests.live import free_port, serving

AUTH_TOKEN = "voice-auth-token-for-tests"
ACCOUNT_SID = "AC" + "2" * 32
VOICE_NUMBER = "+16505550123"
SMS_NUMBER = "+16505550124"
CALLER = "+16505550111"
FORM = "application/x-www-form-urlencoded"
T = TypeVar("T")

# refund_not_received is served digitally when the customer phones; returns has its own line.
OFFER_DIGITAL = """
channels: [chat, app, sms, voice]
skills: [general, returns]
queues:
  - {name: returns_line, skill: returns}
intents:
  - {name: refund_not_received}
  - {name: card_arrival}
strategy:
  intents:
    refund_not_received:
      skill: returns
      channels:
        voice: {treatment: offer_digital}
    card_arrival:
      skill: returns
      channels:
        voice: {treatment: live}
"""


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[str]:
    async with serving(create_emulator(), lifespan=True) as url:
        yield url


@contextlib.asynccontextmanager
async def carepath(database_url: str, data_dir: Path, emulator_url: str) -> AsyncIterator[str]:
    """A real carepath server (with its outbox worker) whose provider is the emulator."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        twilio_api_url=emulator_url,
        cookie_secure=False,  # agents sign in over plain loopback HTTP
    )
    async with serving(create_app(settings), port, lifespan=True) as url:
        yield url


async def add_numbers(
    db: Database, company: Company, *, voice: bool = True, sms: bool = True
) -> None:
    """The company's phone line (voice) and its texting number (SMS)."""
    numbers = [(Channel.VOICE, VOICE_NUMBER)] if voice else []
    numbers += [(Channel.SMS, SMS_NUMBER)] if sms else []
    for channel, number in numbers:
        await do_create_channel_account(
            db,
            system(company.tenant),
            SecretBox(TEST_SECRET),
            channel=channel,
            name=f"{channel} line",
            address=number,
            config={"account_sid": ACCOUNT_SID},
            secrets={"auth_token": AUTH_TOKEN},
        )


async def apply_config(db: Database, company: Company, source: str = OFFER_DIGITAL) -> None:
    await do_apply_tenant_config(db, system(company.tenant), source)


def call_form(
    sid: str, *, caller: str = CALLER, to: str = VOICE_NUMBER, **extra: str
) -> list[tuple[str, str]]:
    """The standard parameters of a call to us, with `extra` added or replacing them."""
    form = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    return list({**form, **extra}.items())


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


async def post_signed(
    url: str, form: list[tuple[str, str]], *, token: str = AUTH_TOKEN, **headers: str
) -> httpx.Response:
    """POST like Twilio: the SDK's own RequestValidator signs the URL and the form."""
    signature = RequestValidator(token).compute_signature(url, dict(form))
    async with httpx.AsyncClient() as http:
        return await http.post(
            url,
            content=urlencode(form),
            headers={"X-Twilio-Signature": signature, "Content-Type": FORM, **headers},
        )


def twiml(text: str) -> ElementTree.Element:
    """Read TwiML: the XML carepath itself answered with, over loopback."""
    root = ElementTree.fromstring(text)  # noqa: S314 - our own answer, not foreign input
    assert root.tag == "Response", text
    return root


def said(root: ElementTree.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


async def count(db: Database, table: object) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def nothing_stored(db: Database) -> bool:
    tables = (customers, cases, messages, calls, callbacks)
    return [await count(db, table) for table in tables] == [0] * len(tables)


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 10.0
) -> T:
    """Ask again until `done` says yes (the outbox worker and the emulator work in the
    background); the last answer either way."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def emulator_requests(emulator_url: str, kind: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        found: list[dict[str, Any]] = (
            await http.get(f"{emulator_url}/_emulator/requests", params={"kind": kind})
        ).json()
    return found


async def api_get(server: str, company: Company, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()
