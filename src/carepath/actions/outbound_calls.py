"""Calling the customer back: "call now" on a callback queues the provider call through the
outbox, logs it on the case, and links the call to the case and the callback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions.callbacks import callback_payload
from carepath.actions.calls import call_event, call_payload
from carepath.actions.payloads import message_payload
from carepath.actions.tenant_config import current_config
from carepath.actions.work import WAITING, release
from carepath.domain.callbacks import CallbackStatus
from carepath.domain.calls import Call, CallDirection, CallStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.messages import AuthorKind, Direction, Message
from carepath.domain.outbox import OutboxItem
from carepath.errors import Conflict, InvalidInput
from carepath.ids import TenantId, UserId
from carepath.routing.tenant_rules import tenant_routing
from carepath.storage import Database
from carepath.tenant_config import treatment_for

PLACE_CALL = "place_call"
# A placed call never reported ended after this long is not "under way" any more.
STALE_CALL = timedelta(hours=2)


@dataclass(frozen=True)
class ConnectPlan:
    """Whom a customer who answered our call is put through to."""

    company: str
    customer_name: str | None
    agent_id: UserId | None  # the agent who placed the call, on their softphone
    queue: str  # else the case's queue


async def do_call_now(db: Database, actor: Principal, callback_id: str) -> Call:
    """Place the call of a callback now: from the tenant's voice number to the callback's phone,
    connecting the agent who asked. The callback is scheduled; nobody else is offered its
    work; the case gets a `call_outbound` journey event and a note."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        callback = scoped(
            actor, await uow.callbacks.get(actor.tenant_id, callback_id, lock=True), "callback"
        )
        if callback.status not in (CallbackStatus.REQUESTED, CallbackStatus.SCHEDULED):
            raise Conflict(
                f"this callback is {callback.status}: there is nobody to call",
                code="callback_closed",
                callback_id=callback.id,
            )
        for earlier in await uow.calls.of_callback(actor.tenant_id, callback.id):
            if not earlier.is_ended and now - earlier.started_at < STALE_CALL:
                raise Conflict(
                    "a call for this callback is already under way",
                    code="call_in_progress",
                    call_id=earlier.id,
                )
        accounts = await uow.channel_accounts.active(actor.tenant_id, Channel.VOICE)
        if not accounts:
            raise InvalidInput(
                "there is no voice number to call from: add a voice channel account "
                "(POST /v1/channels with channel voice)",
                field="channel",
            )
        case = await uow.cases.get(actor.tenant_id, callback.case_id)
        assert case is not None
        # The agent calling takes the callback off the queue: nobody else should be offered it.
        for work in await uow.work.open_for_subject(actor.tenant_id, callback.id):
            if work.status in WAITING:
                await release(uow, work, now)
        scheduled = callback.status is CallbackStatus.REQUESTED
        if scheduled:
            callback.transition(CallbackStatus.SCHEDULED)
        call = Call.outbound(
            tenant_id=actor.tenant_id,
            case_id=case.id,
            customer_id=case.customer_id,
            from_number=accounts[0].address,
            to_number=callback.phone,
            callback_id=callback.id,
            placed_by=actor.user_id,
            now=now,
        )
        uow.calls.add(call)
        await uow.flush()
        uow.journey.add(call_event(call, "call_outbound", {"callback_id": callback.id}, now))
        note = Message.create(
            tenant_id=actor.tenant_id,
            case_id=case.id,
            customer_id=case.customer_id,
            channel=Channel.VOICE,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT if actor.user_id else AuthorKind.SYSTEM,
            author_id=actor.user_id,
            text=f"Calling {callback.phone} back ({callback.source} callback, call {call.id}).",
            is_internal_note=True,
            now=now,
        )
        uow.messages.add(note)
        await uow.flush()
        uow.outbox.add(
            OutboxItem(tenant_id=actor.tenant_id, kind=PLACE_CALL, payload={"call_id": call.id})
        )
        if scheduled:
            await uow.events.append(
                actor.tenant_id, EventType.CALLBACK_UPDATED, callback_payload(callback)
            )
        await uow.events.append(actor.tenant_id, EventType.NOTE_ADDED, message_payload(note))
        await uow.events.append(actor.tenant_id, EventType.CALL_UPDATED, call_payload(call))
    return call


async def do_record_call_placed(
    db: Database, tenant_id: TenantId, call_id: str, provider_sid: str | None
) -> None:
    """The provider accepted the call: keep its CallSid (its reports name the call by it)."""
    async with db.uow() as uow:
        call = await uow.calls.get(tenant_id, call_id, lock=True)
        if call is None or call.provider_sid is not None or not provider_sid:
            return
        call.provider_sid = provider_sid
        call.updated_at = utcnow()
        await uow.events.append(tenant_id, EventType.CALL_UPDATED, call_payload(call))


async def do_record_call_not_placed(
    db: Database, tenant_id: TenantId, call_id: str, reason: str
) -> None:
    """The provider refused the call for good: it failed, and the callback waits for another
    try (it stays scheduled)."""
    now = utcnow()
    async with db.uow() as uow:
        call = await uow.calls.get(tenant_id, call_id, lock=True)
        if call is None or not call.progress(CallStatus.FAILED, now, duration_s=None):
            return
        uow.journey.add(call_event(call, "call_ended", {"status": "failed", "reason": reason}, now))
        await uow.events.append(tenant_id, EventType.CALL_UPDATED, call_payload(call))


async def outbound_connect_plan(db: Database, tenant_id: TenantId, call_id: str) -> ConnectPlan:
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.get(tenant_id)
        call = await uow.calls.get(tenant_id, call_id)
        if tenant is None or call is None or call.direction is not CallDirection.OUTBOUND:
            raise InvalidInput("not a call carepath placed", field="call")
        customer = await uow.customers.live(tenant_id, call.customer_id)
        case = await uow.cases.get(tenant_id, call.case_id)
        config = await current_config(uow, tenant_id)
    treatment = treatment_for(config, case.intent if case else None, Channel.VOICE)
    return ConnectPlan(
        company=tenant.name,
        customer_name=customer.name if customer else None,
        agent_id=call.placed_by,
        queue=tenant_routing(config).queue_for(treatment.skill) or treatment.skill,
    )
