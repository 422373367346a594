"""What agents do with callbacks: ask for one from any case (an SMS or chat conversation where a
call is quicker), or cancel one. Placing the call is actions/outbound_calls.py."""

from __future__ import annotations

from datetime import datetime

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions.callbacks import callback_payload, request_callback
from carepath.actions.work import finish_work_of
from carepath.domain.callbacks import Callback, CallbackSource, CallbackStatus
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.identities import IdentityKind
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.errors import InvalidInput
from carepath.storage import Database, UnitOfWork


async def do_request_case_callback(
    db: Database, actor: Principal, case_id: str, *, phone: str | None, when: datetime | None
) -> Callback:
    """A callback about `case_id` to `phone` (by default the customer's phone number) at `when`
    (None: now), from whichever channel the conversation is on."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = scoped(actor, await uow.cases.get(actor.tenant_id, case_id), "case")
        return await request_callback(
            uow,
            actor.tenant_id,
            case.customer_id,
            phone=phone or await customer_phone(uow, case),
            when=when,
            source=CallbackSource.AGENT,
            channel=case.channel,
            case_id=case.id,
            now=now,
        )


async def customer_phone(uow: UnitOfWork, case: Case) -> str:
    """The customer's phone number (any customer of the merge cluster), the oldest first."""
    cluster = await uow.customers.cluster_ids(case.tenant_id, case.customer_id)
    for identity in await uow.identities.of_customers(case.tenant_id, cluster):
        if identity.kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
            return identity.value
    raise InvalidInput(
        "the customer has no phone number on file: give one in `phone`", field="phone"
    )


async def do_cancel_callback(db: Database, actor: Principal, callback_id: str) -> Callback:
    """Nobody will call: the callback is cancelled and its routed work ends."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        callback = scoped(
            actor, await uow.callbacks.get(actor.tenant_id, callback_id, lock=True), "callback"
        )
        callback.transition(CallbackStatus.CANCELLED)
        await finish_work_of(uow, actor.tenant_id, callback.id)
        case = await uow.cases.get(actor.tenant_id, callback.case_id)
        uow.journey.add(
            JourneyEvent.record(
                tenant_id=actor.tenant_id,
                customer_id=callback.customer_id,
                type=JourneyEventType.CALLBACK,
                name="callback_cancelled",
                channel=case.channel if case else Channel.VOICE,
                case_id=callback.case_id,
                properties={"source": callback.source.value, "by": actor.actor},
                now=now,
            )
        )
        await uow.events.append(
            actor.tenant_id, EventType.CALLBACK_UPDATED, callback_payload(callback)
        )
    return callback
