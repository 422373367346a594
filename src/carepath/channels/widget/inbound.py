"""What a visitor does, the same from the stream and from REST: checked against the limits,
turned into the normalized inbound message or the action it asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carepath.actions.callbacks import do_request_callback
from carepath.actions.conversation import do_mark_read, do_signal_typing
from carepath.actions.ingest import do_ingest_inbound
from carepath.channels.widget.limits import VisitorLimits, check_text
from carepath.channels.widget.session import Visitor
from carepath.domain.callbacks import Callback, CallbackSource
from carepath.domain.clock import utcnow
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import AuthorKind, InboundMessage
from carepath.errors import Conflict
from carepath.ids import CaseId
from carepath.storage import Database


@dataclass(frozen=True)
class Sent:
    client_id: str
    message_id: str
    case_id: str
    created_at: datetime
    duplicate: bool  # a resend: it was stored the first time


def inbound_message(
    visitor: Visitor, *, client_id: str, text: str, case_id: str | None, now: datetime
) -> InboundMessage:
    session = visitor.session
    others: tuple[IdentityRef, ...] = ()
    if session.verified:
        others = (IdentityRef.of(IdentityKind.WEB_VISITOR, session.visitor_id),)
    return InboundMessage(
        tenant_id=session.tenant_id,
        channel=session.channel,
        sender=session.sender,
        sender_verified=session.verified,
        other_identities=others,
        text=text,
        received_at=now,
        external_id=client_id,
        # A session opened from a "continue in chat" link continues that link's case.
        case_id=CaseId(case_id) if case_id else session.case_id,
    )


async def send_message(
    db: Database,
    limits: VisitorLimits,
    visitor: Visitor,
    *,
    client_id: str,
    text: str,
    case_id: str | None = None,
) -> Sent:
    text = check_text(text)
    key = visitor.session.key
    limits.take_message(key)
    inbound = inbound_message(
        visitor, client_id=client_id, text=text, case_id=case_id, now=utcnow()
    )
    result = await do_ingest_inbound(db, inbound)
    if result.duplicate:
        limits.messages.give_back(key)
        if result.message.customer_id not in visitor.cluster:
            # Client ids are UUIDs nobody else sees; a collision is a client reusing one.
            raise Conflict(
                "this client_id was used for another message; make a new UUID per message",
                code="client_id_reused",
                client_id=client_id,
            )
    return Sent(
        client_id=client_id,
        message_id=result.message.id,
        case_id=result.message.case_id,
        created_at=result.message.created_at,
        duplicate=result.duplicate,
    )


async def signal_typing(
    db: Database, limits: VisitorLimits, visitor: Visitor, case_id: str | None
) -> bool:
    """Record the visitor typing, at most once per few seconds; False when throttled."""
    if not limits.may_signal_typing(visitor.session.key):
        return False
    if case_id is not None and not await _owns_case(db, visitor, case_id):
        case_id = None
    await do_signal_typing(
        db,
        visitor.session.tenant_id,
        visitor.customer_id,
        case_id=case_id,
        author_kind=AuthorKind.CUSTOMER,
    )
    return True


async def mark_read(db: Database, visitor: Visitor, up_to: str) -> int:
    return await do_mark_read(db, visitor.session.tenant_id, visitor.cluster, up_to)


async def request_callback(
    db: Database, visitor: Visitor, *, phone: str, when: datetime | None, case_id: str | None
) -> Callback:
    return await do_request_callback(
        db,
        visitor.session.tenant_id,
        visitor.customer_id,
        phone=phone,
        when=when,
        source=CallbackSource.WIDGET,
        channel=visitor.session.channel,
        case_id=case_id,
    )


async def _owns_case(db: Database, visitor: Visitor, case_id: str) -> bool:
    async with db.uow(write=False) as uow:
        case = await uow.cases.get(visitor.session.tenant_id, case_id)
    return case is not None and case.customer_id in visitor.cluster
