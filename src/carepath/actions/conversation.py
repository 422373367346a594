"""Live-conversation signals: someone is typing, the customer has read the replies."""

from __future__ import annotations

from collections.abc import Sequence

from carepath.actions.payloads import message_payload
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.messages import AuthorKind, DeliveryStatus
from carepath.errors import NotFound
from carepath.ids import CustomerId, TenantId
from carepath.storage import Database

# Channels whose replies the customer reads in carepath's own client (the widget, an app).
STREAMED_CHANNELS = frozenset({Channel.CHAT, Channel.APP})


async def do_signal_typing(
    db: Database,
    tenant_id: TenantId,
    customer_id: CustomerId,
    *,
    case_id: str | None,
    author_kind: AuthorKind,
    author_id: str | None = None,
) -> None:
    """Record that the customer or someone of the team is writing on a case right now. Callers
    throttle this: it is a stream event, so that every process's clients see it."""
    async with db.uow() as uow:
        if case_id is None:
            cluster = await uow.customers.cluster_ids(tenant_id, customer_id)
            latest = await uow.cases.latest_for_customers(tenant_id, cluster)
            case_id = latest.id if latest else None
        await uow.events.append(
            tenant_id,
            EventType.TYPING,
            {
                "customer_id": customer_id,
                "case_id": case_id,
                "author_kind": AuthorKind(author_kind).value,
                "author_id": author_id,
            },
        )


async def do_mark_read(
    db: Database, tenant_id: TenantId, customers: Sequence[str], up_to: str
) -> int:
    """The customer has read the replies of a case up to message `up_to` (one of theirs): mark
    them read, each with a `message.updated` event. Returns how many changed."""
    changed = 0
    async with db.uow() as uow:
        last = await uow.messages.get(tenant_id, up_to)
        if last is None or last.customer_id not in customers:
            raise NotFound("message not found", kind="message")
        for message in await uow.messages.of_case(tenant_id, last.case_id, include_notes=False):
            if (
                message.is_sendable
                and message.channel in STREAMED_CHANNELS
                and (message.created_at, message.id) <= (last.created_at, last.id)
                and message.record_delivery(DeliveryStatus.READ)
            ):
                payload = {**message_payload(message), "delivery_status": message.delivery_status}
                await uow.events.append(tenant_id, EventType.MESSAGE_UPDATED, payload)
                changed += 1
    return changed
