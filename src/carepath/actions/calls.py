"""Incoming phone calls: the caller matched to their customer and case, the screen pop, and the
phone menu's choices (continue in chat, a callback, the queue), obeying the strategy map."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from carepath.actions.callbacks import request_callback
from carepath.actions.delivery import DELIVER_MESSAGE
from carepath.actions.payloads import (
    case_payload,
    contact_payload,
    customer_payload,
    message_payload,
)
from carepath.actions.tenant_config import current_config
from carepath.actions.work import enqueue_case
from carepath.domain.callbacks import CallbackSource
from carepath.domain.calls import Call, IvrChoice
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel, Contact, Handler
from carepath.domain.customers import Customer
from carepath.domain.events import EventType
from carepath.domain.identities import Identity, IdentityKind
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, Direction, Message
from carepath.domain.outbox import OutboxItem
from carepath.domain.tenants import Tenant
from carepath.errors import InvalidInput, NotFound
from carepath.ids import CaseId, TenantId
from carepath.routing.tenant_rules import tenant_routing
from carepath.storage import Database, UnitOfWork
from carepath.tenant_config import TreatmentKind, treatment_for

# "Was online lately": the journey an agent sees when the phone rings.
SCREEN_POP_WINDOW = timedelta(hours=24)
SCREEN_POP_EVENTS = 10
MAX_ATTEMPTS = 4

# Builds the text sent when a caller presses 1: (case id, the caller's number) → the SMS body.
ChatLink = Callable[[CaseId, str], str]


class MenuOutcome(enum.StrEnum):
    TEXTED = "texted"
    CALLBACK = "callback"
    QUEUED = "queued"


@dataclass(frozen=True)
class CallPlan:
    """How to answer a call: whom to greet, whether to offer the menu, which queue."""

    call_id: str | None
    company: str
    greet_name: str | None  # a customer known before this call
    menu: bool  # the strategy map says offer_digital, and an option is possible
    can_text: bool  # an SMS number to text from, and the caller's number
    can_call_back: bool  # the caller's number is known
    queue: str
    duplicate: bool = False


@dataclass(frozen=True)
class MenuResult:
    outcome: MenuOutcome
    queue: str
    company: str


def call_payload(call: Call) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "call_id": call.id,
        "case_id": call.case_id,
        "customer_id": call.customer_id,
        "contact_id": call.contact_id,
        "callback_id": call.callback_id,
        "direction": call.direction.value,
        "status": call.status.value,
        "from": call.from_number,
        "to": call.to_number,
        "provider_sid": call.provider_sid,
        "placed_by": call.placed_by,
        "queue": call.queue,
        "ivr_choice": call.ivr_choice.value if call.ivr_choice else None,
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "queue_result": call.queue_result,
        "duration_s": call.duration_s,
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "abandoned": call.abandoned,
        "recordings": list(call.recordings),
    }


def call_event(call: Call, name: str, properties: dict[str, Any], now: datetime) -> JourneyEvent:
    return JourneyEvent.record(
        tenant_id=call.tenant_id,
        customer_id=call.customer_id,
        type=JourneyEventType.CALL,
        name=name,
        channel=Channel.VOICE,
        case_id=call.case_id,
        contact_id=call.contact_id,
        properties={"call_id": call.id, "direction": call.direction.value, **properties},
        now=now,
    )


async def do_incoming_call(
    db: Database,
    tenant_id: TenantId,
    *,
    call_sid: str,
    caller: str | None,
    to: str,
    caller_name: str | None = None,
) -> CallPlan:
    """Answer a call in ONE transaction, idempotent on the CallSid: the caller's number → their
    customer (or a new one; a withheld number is always a new one), their case as a message
    would continue it (else a new voice case), a new voice contact, the call, a `call_incoming`
    journey event and the `call.incoming` screen pop. Without the menu the caller is queued."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with db.uow() as uow:
                return await _incoming(uow, tenant_id, call_sid, caller, to, caller_name)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _incoming(
    uow: UnitOfWork,
    tenant_id: TenantId,
    call_sid: str,
    caller: str | None,
    to: str,
    caller_name: str | None,
) -> CallPlan:
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound("tenant not found", kind="tenant")
    stored = await uow.calls.by_provider_sid(tenant.id, call_sid)
    if stored is not None:
        case = await uow.cases.get(tenant.id, stored.case_id)
        assert case is not None
        plan = await _plan(uow, tenant, stored, case, greet_name=None)
        return replace(plan, duplicate=True)
    now = utcnow()
    customer, known = await _caller(uow, tenant, caller, caller_name, now)
    journey = await _recent_journey(uow, tenant, customer, now)
    case, new_case = await _case(uow, tenant, customer, now)
    contact = await _contact(uow, tenant, case, now)
    call = Call.incoming(
        tenant_id=tenant.id,
        case_id=case.id,
        customer_id=customer.id,
        contact_id=contact.id,
        provider_sid=call_sid,
        from_number=caller or "",
        to_number=to,
        now=now,
    )
    # A call is a contact, a `calls` row and journey events, never a message: there is no text
    # to store, and a message would count as the customer writing (first response, assistant).
    uow.calls.add(call)
    await uow.flush()
    uow.journey.add(call_event(call, "call_incoming", {"known_caller": known}, now))
    plan = await _plan(uow, tenant, call, case, greet_name=customer.name if known else None)
    if not plan.menu:
        await _queue(uow, call, case, plan.queue, now)
    pop = _screen_pop(call, customer, case, known, new_case, plan, journey)
    await uow.events.append(tenant.id, EventType.CALL_INCOMING, pop)
    return plan


async def _caller(
    uow: UnitOfWork, tenant: Tenant, caller: str | None, name: str | None, now: datetime
) -> tuple[Customer, bool]:
    """The live customer behind the number, and whether they were known before this call."""
    if caller is not None:
        identity = await uow.identities.find(tenant.id, IdentityKind.PHONE, caller)
        owner = await uow.customers.live(tenant.id, identity.customer_id) if identity else None
        if owner is not None:
            return owner, True
    customer = Customer.create(tenant.id, now=now)
    if name:
        with contextlib.suppress(InvalidInput):  # a carrier's caller name is a hint, not input
            customer.apply_traits({"name": name}, now)
    uow.customers.add(customer)
    await uow.flush()
    await uow.events.append(tenant.id, EventType.CUSTOMER_CREATED, customer_payload(customer))
    if caller is not None:
        uow.identities.add(
            Identity(
                tenant_id=tenant.id,
                customer_id=customer.id,
                kind=IdentityKind.PHONE,
                value=caller,
                created_at=now,
            )
        )
    return customer, False


async def _recent_journey(
    uow: UnitOfWork, tenant: Tenant, customer: Customer, now: datetime
) -> Sequence[JourneyEvent]:
    cluster = await uow.customers.cluster_ids(tenant.id, customer.id)
    return await uow.journey.of_customers(
        tenant.id, cluster, since=now - SCREEN_POP_WINDOW, limit=SCREEN_POP_EVENTS
    )


async def _case(
    uow: UnitOfWork, tenant: Tenant, customer: Customer, now: datetime
) -> tuple[Case, bool]:
    """The case a message from this customer would continue (the same rule as ingest), moved
    to the phone; else a new voice case."""
    cluster = await uow.customers.cluster_ids(tenant.id, customer.id)
    case = await uow.cases.latest_for_customers(tenant.id, cluster)
    if case is not None and case.may_continue(now, tenant.reopen_window):
        if not case.is_open:
            case.reopen(now)
            await uow.events.append(tenant.id, EventType.CASE_REOPENED, case_payload(case))
        elif case.on_customer_message(now):
            await uow.events.append(tenant.id, EventType.CASE_UPDATED, case_payload(case))
        case.move_to_channel(Channel.VOICE, now)
        return case, False
    case = Case.open(tenant.id, customer.id, Channel.VOICE, segment=customer.segment, now=now)
    uow.cases.add(case)
    await uow.flush()
    await uow.events.append(tenant.id, EventType.CASE_CREATED, case_payload(case))
    return case, True


async def _contact(uow: UnitOfWork, tenant: Tenant, case: Case, now: datetime) -> Contact:
    """Every call is a contact of its own; a voice contact left open (its end never reported)
    ends where it was last active."""
    previous = await uow.contacts.latest_open(tenant.id, case.id, Channel.VOICE)
    if previous is not None:
        previous.close(previous.last_activity_at)
    contact = Contact.start(
        tenant.id, case.customer_id, case.id, Channel.VOICE, handled_by=Handler.AGENT, now=now
    )
    uow.contacts.add(contact)
    await uow.flush()
    await uow.events.append(tenant.id, EventType.CONTACT_STARTED, contact_payload(contact))
    return contact


async def _plan(
    uow: UnitOfWork, tenant: Tenant, call: Call, case: Case | None, *, greet_name: str | None
) -> CallPlan:
    config = await current_config(uow, tenant.id)
    treatment = treatment_for(config, case.intent if case else None, Channel.VOICE)
    queue = call.queue or tenant_routing(config).queue_for(treatment.skill) or treatment.skill
    known_number = bool(call.from_number)
    can_text = known_number and bool(await uow.channel_accounts.active(tenant.id, Channel.SMS))
    # Both options need the caller's number: a withheld number can only wait.
    offer = treatment.kind is TreatmentKind.OFFER_DIGITAL and known_number
    return CallPlan(
        call_id=call.id,
        company=tenant.name,
        greet_name=greet_name,
        menu=offer and call.ivr_choice is None and call.enqueued_at is None,
        can_text=can_text,
        can_call_back=known_number,
        queue=queue,
    )


def _screen_pop(
    call: Call,
    customer: Customer,
    case: Case,
    known: bool,
    new_case: bool,
    plan: CallPlan,
    journey: Sequence[JourneyEvent],
) -> dict[str, Any]:
    """What an agent's screen shows when the phone rings: who, which case, what they did."""
    online = [e for e in journey if e.channel.is_digital]
    return {
        "call_id": call.id,
        "case_id": case.id,
        "customer_id": customer.id,
        "from": call.from_number or None,
        "to": call.to_number,
        "customer": {**customer_payload(customer), "known": known},
        "case": {**case_payload(case), "subject": case.subject, "new": new_case},
        "menu": plan.menu,
        "queue": plan.queue,
        "online_last_24h": bool(online),
        "last_seen_online_at": online[-1].occurred_at.isoformat() if online else None,
        "journey": [
            {
                "type": e.type.value,
                "name": e.name,
                "channel": e.channel.value,
                "occurred_at": e.occurred_at.isoformat(),
                "case_id": e.case_id,
            }
            for e in journey
        ],
        "summary": journey_summary(journey),
    }


def journey_summary(journey: Sequence[JourneyEvent]) -> str:
    """One line: what happened, in order, repeats counted ("chat_message x2, return_started")."""
    counts: dict[str, int] = {}
    for event in journey:
        counts[event.name] = counts.get(event.name, 0) + 1
    if not counts:
        return "Nothing in the last 24 hours."
    return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in counts.items())


async def _queue(uow: UnitOfWork, call: Call, case: Case, queue: str, now: datetime) -> None:
    """The caller waits in the provider's queue; a case nobody holds waits for routing."""
    call.enter_queue(queue, now)
    if case.status in (CaseStatus.BOT, CaseStatus.QUEUED):
        config = await current_config(uow, case.tenant_id)
        await enqueue_case(uow, case, treatment_for(config, case.intent, Channel.VOICE), now=now)


async def do_call_menu(
    db: Database, tenant_id: TenantId, *, call_sid: str, digits: str | None, chat_link: ChatLink
) -> MenuResult:
    """The caller's key in the menu: 1 texts a link to continue in chat, 2 asks for a callback,
    anything else (or nothing) queues. A provider retry repeats the answer, not the action."""
    now = utcnow()
    async with db.uow() as uow:
        tenant = await uow.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("tenant not found", kind="tenant")
        call = await uow.calls.by_provider_sid(tenant.id, call_sid, lock=True)
        if call is None:
            plan = await _default_plan(uow, tenant)
            return MenuResult(MenuOutcome.QUEUED, plan.queue, tenant.name)
        case = await uow.cases.get(tenant.id, call.case_id)
        assert case is not None
        plan = await _plan(uow, tenant, call, case, greet_name=None)
        if call.ivr_choice is not None:
            return MenuResult(_OUTCOMES[call.ivr_choice], plan.queue, tenant.name)
        if digits == "1" and plan.can_text:
            await _text_link(uow, call, case, chat_link(case.id, call.from_number), now)
            choice = IvrChoice.CONTINUE_IN_CHAT
        elif digits == "2" and plan.can_call_back:
            callback = await request_callback(
                uow,
                tenant.id,
                call.customer_id,
                phone=call.from_number,
                when=None,
                source=CallbackSource.IVR,
                channel=Channel.VOICE,
                case_id=call.case_id,
                now=now,
            )
            call.callback_id = callback.id
            choice = IvrChoice.CALLBACK
        else:
            await _queue(uow, call, case, plan.queue, now)
            choice = IvrChoice.QUEUE
        call.choose(choice, now)
        uow.journey.add(call_event(call, "call_menu", {"choice": choice.value}, now))
        await uow.events.append(tenant.id, EventType.CALL_UPDATED, call_payload(call))
    return MenuResult(_OUTCOMES[choice], plan.queue, tenant.name)


_OUTCOMES = {
    IvrChoice.CONTINUE_IN_CHAT: MenuOutcome.TEXTED,
    IvrChoice.CALLBACK: MenuOutcome.CALLBACK,
    IvrChoice.QUEUE: MenuOutcome.QUEUED,
}


async def _default_plan(uow: UnitOfWork, tenant: Tenant) -> CallPlan:
    config = await current_config(uow, tenant.id)
    treatment = treatment_for(config, None, Channel.VOICE)
    queue = tenant_routing(config).queue_for(treatment.skill) or treatment.skill
    return CallPlan(None, tenant.name, None, False, False, False, queue)


async def _text_link(uow: UnitOfWork, call: Call, case: Case, text: str, now: datetime) -> None:
    """Queue the SMS with the link (a system message on the case, sent by the SMS sender);
    the call was served digitally from here on."""
    message = Message.create(
        tenant_id=call.tenant_id,
        case_id=case.id,
        customer_id=case.customer_id,
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        text=text,
        properties={"to": call.from_number, "call_id": call.id},
        now=now,
    )
    uow.messages.add(message)
    await uow.flush()
    uow.outbox.add(
        OutboxItem(
            tenant_id=call.tenant_id, kind=DELIVER_MESSAGE, payload={"message_id": message.id}
        )
    )
    await uow.events.append(call.tenant_id, EventType.MESSAGE_CREATED, message_payload(message))
    if call.contact_id is not None:
        contact = await uow.contacts.get(call.tenant_id, call.contact_id)
        if contact is not None and not contact.is_ended:
            contact.hand_to(Handler.SELF_SERVICE, now)
