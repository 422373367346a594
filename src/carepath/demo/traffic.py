"""Live simulated traffic for the demo: customers chatting, emailing through the SMTP listener,
texting, writing on WhatsApp and calling through the provider emulator, and agents answering,
so the supervisor board and the dashboards move. Loopback only, and bounded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import smtplib
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from carepath.actions.agents import do_set_presence
from carepath.actions.cases import do_reply, do_resolve_case
from carepath.actions.ingest import do_ingest_inbound
from carepath.demo import company
from carepath.demo.history import PERSON, Person, people
from carepath.demo.seed import Seeded
from carepath.domain.cases import CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.messages import InboundMessage
from carepath.errors import CarepathError
from carepath.routing.model import Presence
from carepath.storage import Database
from carepath.storage.repositories.cases import CaseFilter

log = logging.getLogger("carepath.demo.traffic")

MAX_RATE = 120  # per minute
MAX_EVENTS = 10_000  # a forgotten demo stops on its own
CUSTOMERS = 60
ONLINE = 4  # agents working the live traffic
ANSWER_AFTER = timedelta(seconds=45)
CHANNELS = {
    Channel.CHAT: 0.35,
    Channel.EMAIL: 0.15,
    Channel.SMS: 0.15,
    Channel.WHATSAPP: 0.2,
    Channel.VOICE: 0.15,
}


@dataclass(frozen=True)
class Endpoints:
    public_url: str
    emulator_url: str
    smtp_host: str
    smtp_port: int


class Traffic:
    def __init__(
        self, db: Database, seeded: Seeded, endpoints: Endpoints, rate: float, seed: int = 11
    ) -> None:
        self.db = db
        self.seeded = seeded
        self.at = endpoints
        self.rate = min(max(rate, 0.1), MAX_RATE)
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.crowd = people(CUSTOMERS, self.rng)
        self.examples = company.intent_examples()
        self.sent = 0
        self.calls = 0
        self.pending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Until cancelled (or MAX_EVENTS): one customer action every 60/rate seconds, and the
        online agents answering what waited longest."""
        await self._agents_online()
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                while self.sent < MAX_EVENTS:
                    await asyncio.sleep(self.rng.expovariate(self.rate / 60))
                    try:
                        await self._customer(http)
                        await self._agents_answer()
                    except (CarepathError, httpx.HTTPError, OSError, smtplib.SMTPException) as exc:
                        log.warning("demo traffic step failed: %s", exc)
                    self.sent += 1
            finally:
                for task in list(self.pending):
                    task.cancel()

    async def _agents_online(self) -> None:
        for principal in self.seeded.agents[:ONLINE]:
            await do_set_presence(self.db, principal, Presence.ONLINE)

    async def _customer(self, http: httpx.AsyncClient) -> None:
        person = self.rng.choice(self.crowd)
        channel = self.rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
        intent = self.rng.choice([i for i in self.examples if i != "oos"])
        text = self.rng.choice(self.examples[intent])
        if self.rng.random() < 0.25:
            text = self.rng.choice(PERSON)  # a follow-up in a conversation under way
        if channel is Channel.CHAT:
            await self._chat(person, text)
        elif channel is Channel.EMAIL:
            await asyncio.to_thread(self._email, person, text)
        elif channel is Channel.SMS:
            await self._emulate(http, "twilio/sms", self._twilio(person, "sms", body=text))
        elif channel is Channel.WHATSAPP:
            await self._emulate(http, "whatsapp/message", self._whatsapp(person, text))
        else:
            self.calls += 1
            call = self._twilio(person, "voice", call_sid=f"CAlive{self.calls:08d}")
            call["to"] = company.VOICE_NUMBER
            await self._emulate(http, "twilio/call", call)
            self._later(self._hang_up(http, call))

    def _later(self, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(step)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _hang_up(self, http: httpx.AsyncClient, call: dict[str, str]) -> None:
        """The caller waits, talks, and hangs up: the provider reports how the call went."""
        wait, talk = self.rng.uniform(5, 60), self.rng.uniform(20, 120)
        await asyncio.sleep(wait + talk)
        report = {
            **call,
            "status": "completed",
            "duration": str(int(wait + talk)),
            "queue_result": "bridged",
            "queue_time": str(int(wait)),
        }
        with contextlib.suppress(httpx.HTTPError):
            await self._emulate(http, "twilio/call_report", report)

    async def _chat(self, person: Person, text: str) -> None:
        await do_ingest_inbound(
            self.db,
            InboundMessage(
                tenant_id=self.seeded.tenant.id,
                channel=Channel.CHAT,
                sender=person.sender(Channel.CHAT),
                sender_name=person.name,
                text=text,
                received_at=utcnow(),
            ),
        )

    def _email(self, person: Person, text: str) -> None:
        message = EmailMessage()
        message["From"] = f"{person.name} <{person.email}>"
        message["To"] = company.SUPPORT_EMAIL
        message["Subject"] = text[:60]
        message.set_content(f"Hello,\n\n{text}\n\nKind regards,\n{person.name}\n")
        with smtplib.SMTP(self.at.smtp_host, self.at.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    def _twilio(self, person: Person, path: str, **extra: str) -> dict[str, str]:
        return {
            "url": f"{self.at.public_url}/webhooks/twilio/{company.SLUG}/{path}",
            "auth_token": company.AUTH_TOKEN,
            "account_sid": company.ACCOUNT_SID,
            "from": person.phone,
            "to": company.SMS_NUMBER,
            **extra,
        }

    def _whatsapp(self, person: Person, text: str) -> dict[str, str]:
        return {
            "url": f"{self.at.public_url}/webhooks/whatsapp/{company.SLUG}",
            "app_secret": company.APP_SECRET,
            "phone_number_id": company.WHATSAPP_PHONE_ID,
            "from": person.phone,
            "name": person.name,
            "text": text,
        }

    async def _emulate(self, http: httpx.AsyncClient, control: str, spec: dict[str, str]) -> None:
        response = await http.post(f"{self.at.emulator_url}/_emulator/{control}", json=spec)
        response.raise_for_status()

    async def _agents_answer(self) -> None:
        """Each online agent answers and resolves their longest-waiting case, if it waited
        long enough to have been seen on the board."""
        cutoff = utcnow() - ANSWER_AFTER
        for principal in self.seeded.agents[:ONLINE]:
            where = CaseFilter(status=CaseStatus.ASSIGNED, assignee_id=principal.user_id)
            async with self.db.uow(write=False) as uow:
                mine = await uow.cases.list(principal.tenant_id, where, limit=50, cursor=None)
            waiting = [c for c in mine.items if c.updated_at <= cutoff]
            if not waiting:
                continue
            case = min(waiting, key=lambda c: c.updated_at)
            if case.channel.is_digital:
                reply = "Thanks for your patience — that's sorted now. Anything else?"
                await do_reply(self.db, principal, case.id, text=reply)
            await do_resolve_case(self.db, principal, case.id)
