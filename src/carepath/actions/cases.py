"""What agents do to a case: reply, note, assign, set intent and priority, resolve, reopen."""

from __future__ import annotations

from dataclasses import dataclass

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions.delivery import DELIVER_MESSAGE, reachable_address
from carepath.actions.payloads import case_payload, message_payload
from carepath.actions.personal_data import record_case_change
from carepath.actions.surveys import send_survey
from carepath.actions.whatsapp import check_reply as check_whatsapp_reply
from carepath.actions.work import retarget_case_work, sync_case_work
from carepath.domain.cases import Case, CaseStatus, Priority
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel, Handler
from carepath.domain.events import EventType
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, Direction, Message
from carepath.domain.outbox import OutboxItem
from carepath.domain.whatsapp import Template
from carepath.errors import InvalidInput, PermissionDenied
from carepath.ids import UserId
from carepath.storage import Database, UnitOfWork
from carepath.types import Role


async def _case(uow: UnitOfWork, actor: Principal, case_id: str) -> Case:
    return scoped(actor, await uow.cases.get(actor.tenant_id, case_id), "case")


def _agent(actor: Principal) -> UserId:
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in agent can do this, not an API token")
    return actor.user_id


async def do_reply(
    db: Database,
    actor: Principal,
    case_id: str,
    *,
    text: str,
    channel: Channel | None = None,
    set_pending: bool = False,
    template: Template | None = None,
) -> Message:
    """An agent's (or an integration's) reply, delivered through the outbox on the case's
    current channel or the one chosen; the customer must be reachable there. On WhatsApp,
    outside the 24-hour window only a `template` may be sent."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        if not case.is_open:
            raise InvalidInput(f"the case is {case.status}; reopen it to reply", field="case")
        channel = Channel(channel or case.channel)
        address = await reachable_address(uow, case, channel)
        await check_whatsapp_reply(uow, case, channel, template, now)
        if case.status in (CaseStatus.BOT, CaseStatus.QUEUED) and actor.user_id:
            case.assign(actor.user_id, now)  # answering a waiting case takes it
            await sync_case_work(uow, case, now)
        contact = await uow.contacts.latest_open(actor.tenant_id, case.id, channel)
        if contact is not None and contact.ended_at is None:
            contact.hand_to(Handler.AGENT, now)
        message = Message.create(
            tenant_id=actor.tenant_id,
            case_id=case.id,
            customer_id=case.customer_id,
            contact_id=contact.id if contact else None,
            channel=channel,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT if actor.user_id else AuthorKind.SYSTEM,
            author_id=actor.user_id,
            text=text or (template.summary if template else ""),
            properties={"to": address, **({"template": template.to_api()} if template else {})},
            now=now,
        )
        if set_pending:
            case.wait_for_customer(now)
        case.updated_at = now
        uow.messages.add(message)
        await uow.flush()
        uow.outbox.add(
            OutboxItem(
                tenant_id=actor.tenant_id, kind=DELIVER_MESSAGE, payload={"message_id": message.id}
            )
        )
        await uow.events.append(
            actor.tenant_id, EventType.MESSAGE_CREATED, message_payload(message)
        )
        await uow.events.append(actor.tenant_id, EventType.CASE_UPDATED, case_payload(case))
        await record_case_change(uow, actor, case.id, "replied", channel.value)
    return message


async def do_add_note(db: Database, actor: Principal, case_id: str, *, text: str) -> Message:
    """An internal note: visible to the team, never sent to the customer."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        note = Message.create(
            tenant_id=actor.tenant_id,
            case_id=case.id,
            customer_id=case.customer_id,
            channel=case.channel,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT if actor.user_id else AuthorKind.SYSTEM,
            author_id=actor.user_id,
            text=text,
            is_internal_note=True,
            now=now,
        )
        uow.messages.add(note)
        await uow.flush()
        await uow.events.append(actor.tenant_id, EventType.NOTE_ADDED, message_payload(note))
        await record_case_change(uow, actor, case.id, "note_added")
    return note


@dataclass(frozen=True)
class CaseChanges:
    intent: str | None = None
    clear_intent: bool = False
    priority: Priority | None = None
    subject: str | None = None


async def do_update_case(
    db: Database, actor: Principal, case_id: str, changes: CaseChanges
) -> Case:
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        if changes.clear_intent:
            case.set_intent(None, now)
        elif changes.intent is not None:
            case.set_intent(changes.intent, now)
        if changes.priority is not None:
            case.set_priority(changes.priority, now)
        if changes.subject is not None:
            case.set_subject(changes.subject, now)
        if changes.clear_intent or changes.intent is not None or changes.priority is not None:
            await retarget_case_work(uow, case)
        await uow.events.append(actor.tenant_id, EventType.CASE_UPDATED, case_payload(case))
        await record_case_change(uow, actor, case.id, "updated", _changed(changes))
    return case


async def do_assign_case(
    db: Database, actor: Principal, case_id: str, assignee_id: str | None
) -> Case:
    """Assign to an agent (yourself, or anyone when supervisor), or give back to the queue."""
    authorize(actor, Permission.WORK_CASES)
    if assignee_id != actor.user_id and not actor.role.includes(Role.SUPERVISOR):
        authorize(actor, Permission.ASSIGN_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        if assignee_id is None:
            case.unassign(now)
        else:
            user = scoped(actor, await uow.users.get(actor.tenant_id, assignee_id), "user")
            if not user.is_active:
                raise InvalidInput("that user is deactivated", field="assignee_id")
            case.assign(user.id, now)
        await sync_case_work(uow, case, now)
        await uow.events.append(actor.tenant_id, EventType.CASE_ASSIGNED, case_payload(case))
        await record_case_change(uow, actor, case.id, "assigned", assignee_id or "queue")
    return case


async def do_resolve_case(db: Database, actor: Principal, case_id: str) -> Case:
    """Resolve: end its open contacts as resolved, record the journey step, send the survey."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        case.resolve(now)
        await sync_case_work(uow, case, now)
        last_contact = None
        for contact in await uow.contacts.of_case(actor.tenant_id, case.id):
            if contact.ended_at is None:
                contact.resolved = True
                contact.close(now)
            last_contact = contact
        uow.journey.add(
            JourneyEvent.record(
                tenant_id=actor.tenant_id,
                customer_id=case.customer_id,
                type=JourneyEventType.RESOLUTION,
                name="case_resolved",
                channel=case.channel,
                case_id=case.id,
                now=now,
            )
        )
        await uow.events.append(actor.tenant_id, EventType.CASE_RESOLVED, case_payload(case))
        await record_case_change(uow, actor, case.id, "resolved")
        tenant = await uow.tenants.get(actor.tenant_id)
        if tenant is not None and tenant.survey_kinds:
            await send_survey(uow, tenant, case, last_contact, now)
    return case


async def do_reopen_case(db: Database, actor: Principal, case_id: str) -> Case:
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        case = await _case(uow, actor, case_id)
        case.reopen(now, assignee_id=actor.user_id)
        await sync_case_work(uow, case, now)
        await uow.events.append(actor.tenant_id, EventType.CASE_REOPENED, case_payload(case))
        await record_case_change(uow, actor, case.id, "reopened")
    return case


def _changed(changes: CaseChanges) -> str:
    # Field names only: a new subject is the customer's words, the trail keeps none.
    fields = {
        "intent": changes.intent is not None or changes.clear_intent,
        "priority": changes.priority is not None,
        "subject": changes.subject is not None,
    }
    return ",".join(name for name, changed in fields.items() if changed)
