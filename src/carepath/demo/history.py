"""90 days of history, replayed through the real actions at the times they happened.

Patterns planted for the dashboards: customers who start a return online and phone within a
day about the refund; intents the assistant contains (delivery, card arrival) and ones it
hands on (refunds, payments, lost cards, sales); a `young` segment that prefers WhatsApp.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from carepath.access import Principal
from carepath.actions.call_reports import do_record_call_report
from carepath.actions.calls import do_incoming_call
from carepath.actions.cases import do_assign_case, do_reply, do_resolve_case
from carepath.actions.identify import TrackedEvent, do_identify, do_track
from carepath.actions.ingest import do_ingest_inbound
from carepath.demo import company
from carepath.demo.seed import Seeded
from carepath.domain.calls import CallReport, CallStatus
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.clock import replay_at, utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.domain.messages import InboundMessage
from carepath.storage import Database
from carepath.tenant_config import TenantConfig, parse_tenant_config, treatment_for

if TYPE_CHECKING:
    from carepath.assistant.serving import TenantModels

DAYS = 90
BATCH = 3
SEGMENTS = {"young": 0.3, "family": 0.45, "premium": 0.25}
# How often each intent is the reason for contact, and how often a customer is satisfied by
# the assistant's answer: what makes the containment chart tell a story.
INTENTS = {
    "delivery_status": (0.22, 0.8),
    "return_item": (0.14, 0.6),
    "refund_not_received": (0.14, 0.15),
    "card_arrival": (0.1, 0.8),
    "change_address": (0.08, 0.5),
    "cancel_order": (0.07, 0.4),
    "payment_failed": (0.09, 0.2),
    "lost_or_stolen_card": (0.05, 0.0),
    "open_account": (0.06, 0.0),
    "product_advice": (0.05, 0.3),
}
RETURN_CALLS = 0.37  # of customers who start a return online, how many phone within a day
FIRST = (
    "Emma",
    "Liam",
    "Sofia",
    "Noah",
    "Mila",
    "Lucas",
    "Julia",
    "Daan",
    "Sara",
    "Finn",
    "Tess",
    "Sem",
    "Yara",
    "Levi",
    "Anna",
    "Jesse",
    "Nora",
    "Milan",
    "Eva",
    "Omar",
)
LAST = (
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "de Boer",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Kaya",
    "Yilmaz",
)
YES = ("yes thanks, that helped", "great, thank you", "perfect, thanks", "that answers it, thanks")
NO = ("that didn't help", "no, that doesn't answer my question", "not helpful")
PERSON = ("I want to talk to a person", "agent please", "can I speak to someone?")
AGENT_REPLY = {
    "refund_not_received": "I've checked: your refund was sent today and shows within 5 days.",
    "payment_failed": "I can see the double charge; the pending one is released within 5 days.",
    "lost_or_stolen_card": "Your card is blocked and a replacement is on its way.",
    "open_account": "Happy to help you apply: I've sent you the link with your 10% welcome offer.",
}
DEFAULT_REPLY = "Thanks for waiting — I've sorted this out for you. Anything else I can do?"


@dataclass(frozen=True)
class Person:
    key: int
    name: str
    email: str
    phone: str
    segment: str

    @property
    def visitor(self) -> str:
        return f"demo-visitor-{self.key}"

    def sender(self, channel: Channel) -> IdentityRef:
        if channel is Channel.EMAIL:
            return IdentityRef(IdentityKind.EMAIL, self.email)
        if channel in (Channel.SMS, Channel.VOICE):
            return IdentityRef(IdentityKind.PHONE, self.phone)
        if channel is Channel.WHATSAPP:
            return IdentityRef(IdentityKind.WHATSAPP, self.phone)
        if channel is Channel.APP:
            return IdentityRef(IdentityKind.APP_USER, f"acme-{self.key}")
        return IdentityRef(IdentityKind.WEB_VISITOR, self.visitor)


@dataclass(frozen=True)
class Episode:
    person: Person
    intent: str
    channel: Channel
    start: datetime
    then_phones: bool  # started a return online, then phones about it


def people(count: int, rng: random.Random) -> list[Person]:
    segments, weights = list(SEGMENTS), list(SEGMENTS.values())
    found = []
    for key in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        slug = f"{first}.{last}".lower().replace(" ", "")
        found.append(
            Person(
                key=key,
                name=f"{first} {last}",
                email=f"{slug}{key}@mail.example.com",
                phone=f"+316{20000000 + key * 37:08d}",
                segment=rng.choices(segments, weights)[0],
            )
        )
    return found


def plan(crowd: list[Person], rng: random.Random, now: datetime) -> list[Episode]:
    """Each customer has 1-3 episodes at least 8 days apart, in the last 90 days."""
    names, weights = list(INTENTS), [w for w, _ in INTENTS.values()]
    episodes = []
    for person in crowd:
        at = now - timedelta(days=DAYS) + timedelta(hours=rng.uniform(0, 24 * 30))
        for _ in range(rng.choice((1, 1, 2, 3))):
            if at > now - timedelta(hours=30):
                break
            intent = rng.choices(names, weights)[0]
            online_return = intent in ("return_item", "refund_not_received")
            episodes.append(
                Episode(
                    person=person,
                    intent=intent,
                    channel=_channel(person, rng),
                    start=_working_hours(at),
                    then_phones=online_return and rng.random() < RETURN_CALLS,
                )
            )
            at += timedelta(days=rng.uniform(8, 40))
    return sorted(episodes, key=lambda e: e.start)


def _channel(person: Person, rng: random.Random) -> Channel:
    if person.segment == "young":
        options = {Channel.WHATSAPP: 0.6, Channel.CHAT: 0.2, Channel.APP: 0.15}
    else:
        options = {Channel.CHAT: 0.4, Channel.APP: 0.15, Channel.EMAIL: 0.2}
    options |= {Channel.SMS: 0.07, Channel.VOICE: 0.1}
    return rng.choices(list(options), list(options.values()))[0]


def _working_hours(at: datetime) -> datetime:
    return at.replace(hour=8 + at.hour % 11)


class Replay:
    """Plays episodes through the actions, each step at its own time in the past."""

    def __init__(
        self,
        db: Database,
        seeded: Seeded,
        models: TenantModels,
        http: httpx.AsyncClient,
        public_url: str,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.seeded = seeded
        self.models = models
        self.http = http
        self.public_url = public_url
        self.rng = rng
        self.config: TenantConfig = parse_tenant_config(company.config_source())
        self.flow_intents = {flow.intent for flow in self.config.flows}
        self.examples = company.intent_examples()
        self.calls = 0

    async def identify(self, person: Person) -> None:
        identities = [
            IdentityRef(IdentityKind.EMAIL, person.email),
            IdentityRef(IdentityKind.PHONE, person.phone),
            IdentityRef(IdentityKind.WHATSAPP, person.phone),
            IdentityRef(IdentityKind.APP_USER, f"acme-{person.key}"),
            IdentityRef(IdentityKind.WEB_VISITOR, person.visitor),
        ]
        traits = {"name": person.name, "segment": person.segment}
        await do_identify(self.db, self.seeded.tenant.id, identities, traits=traits, verified=True)

    async def play(self, episode: Episode) -> None:
        at = episode.start
        if episode.then_phones:
            with replay_at(at - timedelta(minutes=3)):
                await self._track_return(episode.person, at - timedelta(minutes=3))
        text = self._phrase(episode.intent)
        if episode.channel is Channel.VOICE:
            await self._phone(episode, at)
            return
        case, at = await self._message(episode, text, at)
        if case.status is CaseStatus.BOT and episode.intent in self.flow_intents:
            # The flow asks for the order number; the customer looks it up and answers.
            at += timedelta(seconds=self.rng.uniform(30, 90))
            answer = f"It's {company.order_number(episode.person.key)}"
            case, at = await self._message(episode, answer, at)
        satisfied = self.rng.random() < INTENTS[episode.intent][1]
        for _ in range(2):  # at most two more customer turns in the bot stage
            if case.status is not CaseStatus.BOT:
                break
            answer = self.rng.choice(YES if satisfied else (*NO, *PERSON))
            at += timedelta(seconds=self.rng.uniform(20, 120))
            case, at = await self._message(episode, answer, at)
        if case.is_open:
            at = await self._agent(episode, case, at)
        if episode.then_phones:
            later = episode.start + timedelta(hours=self.rng.uniform(1, 23))
            await self._phone(episode, max(later, at + timedelta(minutes=30)))

    def _phrase(self, intent: str) -> str:
        return self.rng.choice(self.examples[intent])

    async def _track_return(self, person: Person, at: datetime) -> None:
        step = TrackedEvent(
            type=JourneyEventType.APP_STEP,
            name="return_started",
            channel=Channel.APP,
            occurred_at=at,
            properties={"order": company.order_number(person.key)},
        )
        await do_track(self.db, self.seeded.tenant.id, person.sender(Channel.APP), [step])

    async def _message(self, episode: Episode, text: str, at: datetime) -> tuple[Case, datetime]:
        from carepath.actions.assistant import do_assistant_turn

        channel = episode.channel
        properties = {"subject": text[:60]} if channel is Channel.EMAIL else {}
        with replay_at(at):
            result = await do_ingest_inbound(
                self.db,
                InboundMessage(
                    tenant_id=self.seeded.tenant.id,
                    channel=channel,
                    sender=episode.person.sender(channel),
                    sender_name=episode.person.name,
                    text=text,
                    received_at=at,
                    properties=properties,
                ),
            )
        case = result.case
        if case.status is CaseStatus.BOT and channel.is_digital:
            at += timedelta(seconds=2)
            # The worker would take this turn after the commit; here it runs at its time.
            with replay_at(at):
                await do_assistant_turn(
                    self.db,
                    self.models,
                    self.http,
                    self.seeded.tenant.id,
                    result.message.id,
                    public_url=self.public_url,
                )
            case = await self._case(case.id)
        return case, at

    async def _case(self, case_id: str) -> Case:
        async with self.db.uow(write=False) as uow:
            case = await uow.cases.get(self.seeded.tenant.id, case_id)
        assert case is not None
        return case

    async def _agent(self, episode: Episode, case: Case, at: datetime) -> datetime:
        agent = self._agent_for(episode.intent, case.channel)
        at += timedelta(minutes=self.rng.uniform(1, 25))
        with replay_at(at):
            await do_assign_case(
                self.db, self.seeded.principal(company.SUPERVISOR_EMAIL), case.id, agent.user_id
            )
        if case.channel.is_digital:
            at += timedelta(minutes=self.rng.uniform(1, 6))
            with replay_at(at):
                await do_reply(
                    self.db, agent, case.id, text=AGENT_REPLY.get(episode.intent, DEFAULT_REPLY)
                )
        if self.rng.random() < 0.9:
            at += timedelta(minutes=self.rng.uniform(2, 15))
            with replay_at(at):
                await do_resolve_case(self.db, agent, case.id)
            if case.channel in (Channel.SMS, Channel.WHATSAPP) and self.rng.random() < 0.45:
                at += timedelta(minutes=self.rng.uniform(1, 30))
                score = self.rng.choice("3444555")
                await self._message(episode, score, at)
        return at

    def _agent_for(self, intent: str, channel: Channel) -> Principal:
        skill = treatment_for(self.config, intent, channel).skill
        ranked = sorted(
            (a for a in self.config.agents if skill in a.skills),
            key=lambda a: -a.skills[skill],
        )
        chosen = ranked[0] if ranked and self.rng.random() < 0.6 else self.rng.choice(ranked)
        return self.seeded.principal(chosen.email)

    async def _phone(self, episode: Episode, at: datetime) -> None:
        self.calls += 1
        sid = f"CAdemo{self.calls:08d}"
        tenant_id = self.seeded.tenant.id
        with replay_at(at):
            await do_incoming_call(
                self.db,
                tenant_id,
                call_sid=sid,
                caller=episode.person.phone,
                to=company.VOICE_NUMBER,
                caller_name=episode.person.name,
            )
        wait = self.rng.uniform(10, 240)
        talk = self.rng.uniform(120, 600)
        abandoned = wait > 200 and self.rng.random() < 0.5
        at += timedelta(seconds=wait)
        case = await self._case_of_call(sid)
        if abandoned:
            report = CallReport(
                call_sid=sid,
                status=CallStatus.COMPLETED,
                duration_s=wait,
                queue_result="hangup",
                queue_time_s=wait,
            )
            with replay_at(at):
                await do_record_call_report(self.db, tenant_id, report)
            return
        agent = self._agent_for(episode.intent, Channel.VOICE)
        if case is not None and case.status is CaseStatus.QUEUED:
            with replay_at(at):
                await do_assign_case(
                    self.db, self.seeded.principal(company.SUPERVISOR_EMAIL), case.id, agent.user_id
                )
        at += timedelta(seconds=talk)
        report = CallReport(
            call_sid=sid,
            status=CallStatus.COMPLETED,
            duration_s=wait + talk,
            queue_result="bridged",
            queue_time_s=wait,
        )
        with replay_at(at):
            await do_record_call_report(self.db, tenant_id, report)
        if case is not None:
            case = await self._case(case.id)
            if case.is_open:
                with replay_at(at + timedelta(seconds=30)):
                    await do_resolve_case(self.db, agent, case.id)

    async def _case_of_call(self, sid: str) -> Case | None:
        async with self.db.uow(write=False) as uow:
            call = await uow.calls.by_provider_sid(self.seeded.tenant.id, sid)
            if call is None:
                return None
            return await uow.cases.get(self.seeded.tenant.id, call.case_id)


async def replay_history(
    db: Database,
    seeded: Seeded,
    models: TenantModels,
    *,
    public_url: str,
    customers: int,
    seed: int = 7,
    advance: Callable[[int, int], None] = lambda done, total: None,
    model_ready: Awaitable[object] | None = None,
) -> int:
    """Identify `customers` people and replay their episodes; returns the episodes played.
    The people are identified while `model_ready` (the assistant's training) runs."""
    rng = random.Random(seed)  # noqa: S311 - a story, not a secret
    crowd = people(customers, rng)
    episodes = plan(crowd, rng, utcnow())
    total = len(crowd) + len(episodes)
    async with httpx.AsyncClient(timeout=5) as http:
        replay = Replay(db, seeded, models, http, public_url, rng)
        for done, person in enumerate(crowd, 1):
            with replay_at(utcnow() - timedelta(days=DAYS + 1)):
                await replay.identify(person)
            advance(done, total)
        if model_ready is not None:
            await model_ready
        # One at a time: SQLite takes one writer at a time, and side by side they only wait.
        for done, episode in enumerate(episodes, len(crowd) + 1):
            await replay.play(episode)
            advance(done, total)
    return len(episodes)
