"""What the provider reports about a call (status, queue result, recordings) recorded on the call,
its contact (wait, handle time, abandonment) and, for a callback, the callback."""

from __future__ import annotations

from datetime import datetime

from carepath.actions.callbacks import callback_payload
from carepath.actions.calls import call_event, call_payload
from carepath.actions.payloads import contact_payload
from carepath.actions.work import finish_work_of
from carepath.domain.callbacks import TRANSITIONS, CallbackStatus
from carepath.domain.calls import Call, CallDirection, CallReport, CallStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel, Contact, Handler
from carepath.domain.events import EventType
from carepath.ids import TenantId
from carepath.storage import Database, UnitOfWork


async def do_record_call_report(
    db: Database, tenant_id: TenantId, report: CallReport, *, call_id: str | None = None
) -> Call | None:
    """Apply one report, in any order and any number of times (providers retry and reorder).
    `call_id` is carepath's own id, which it puts in the URLs of the calls it places: their
    first reports can arrive before the provider's CallSid was recorded. None: not our call."""
    now = utcnow()
    async with db.uow() as uow:
        call = await _find(uow, tenant_id, report.call_sid, call_id)
        if call is None:
            return None
        was_ended = call.is_ended
        changed = _apply(call, report, now)
        if not changed:
            return call
        if call.direction is CallDirection.OUTBOUND and call.answered_at and not call.contact_id:
            await _start_contact(uow, call, call.answered_at)
        await _measure_contact(uow, call)
        if call.is_ended and not was_ended:
            await _ended(uow, call, now)
        await uow.events.append(tenant_id, EventType.CALL_UPDATED, call_payload(call))
    return call


async def _find(
    uow: UnitOfWork, tenant_id: TenantId, call_sid: str, call_id: str | None
) -> Call | None:
    if call_id is None:
        return await uow.calls.by_provider_sid(tenant_id, call_sid, lock=True)
    call = await uow.calls.get(tenant_id, call_id, lock=True)
    if call is None or call.provider_sid not in (None, call_sid):
        return None
    return call


def _apply(call: Call, report: CallReport, now: datetime) -> bool:
    changed = False
    if call.provider_sid is None:
        call.provider_sid = report.call_sid
        changed = True
    if report.status is not None:
        changed |= call.progress(report.status, now, duration_s=report.duration_s)
    if report.queue_result is not None:
        changed |= call.left_queue(report.queue_result, report.queue_time_s, now)
    elif report.queue_time_s is not None:
        changed |= call.waited(report.queue_time_s, now)
    if report.has_recording:
        changed |= call.add_recording(
            sid=report.recording_sid,
            url=report.recording_url,
            duration_s=report.recording_duration_s,
            transcription=report.transcription_text,
            transcription_url=report.transcription_url,
            now=now,
        )
    return changed


async def _start_contact(uow: UnitOfWork, call: Call, at: datetime) -> None:
    """A callback the customer answered is a contact (one nobody answered is not)."""
    contact = Contact.start(
        call.tenant_id,
        call.customer_id,
        call.case_id,
        Channel.VOICE,
        handled_by=Handler.AGENT,
        now=at,
    )
    uow.contacts.add(contact)
    await uow.flush()
    call.contact_id = contact.id
    await uow.events.append(call.tenant_id, EventType.CONTACT_STARTED, contact_payload(contact))


async def _measure_contact(uow: UnitOfWork, call: Call) -> None:
    if call.contact_id is None:
        return
    contact = await uow.contacts.get(call.tenant_id, call.contact_id)
    if contact is None:
        return
    contact.wait_s = call.wait_s
    contact.handle_s = call.talk_s
    contact.abandoned = call.abandoned
    if call.ended_at is not None:
        contact.last_activity_at = max(contact.last_activity_at, call.ended_at)
        contact.close(call.ended_at)


async def _ended(uow: UnitOfWork, call: Call, now: datetime) -> None:
    """A call ended: a `call_ended` journey event; a callback's call that was answered makes the
    callback done, and whoever held its work is free again."""
    uow.journey.add(
        call_event(
            call,
            "call_ended",
            {
                "status": call.status.value,
                "wait_s": call.wait_s,
                "talk_s": call.talk_s,
                "abandoned": call.abandoned,
            },
            now,
        )
    )
    if call.direction is not CallDirection.OUTBOUND or call.callback_id is None:
        return
    await finish_work_of(uow, call.tenant_id, call.callback_id)
    callback = await uow.callbacks.get(call.tenant_id, call.callback_id, lock=True)
    if (
        callback is not None
        and call.status is CallStatus.COMPLETED
        and CallbackStatus.DONE in TRANSITIONS[callback.status]
    ):
        callback.transition(CallbackStatus.DONE)
        await uow.events.append(
            call.tenant_id, EventType.CALLBACK_UPDATED, callback_payload(callback)
        )
