"""What the outbox worker records after talking to a provider, and the messages carepath itself
sends (survey questions)."""

from __future__ import annotations

from carepath.actions.early_statuses import ProviderRef, apply_early_statuses, keep_early_status
from carepath.actions.payloads import message_payload
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.identities import IdentityKind
from carepath.domain.messages import AuthorKind, DeliveryStatus, Direction, Message
from carepath.domain.outbox import OutboxItem
from carepath.errors import InvalidInput, NotFound
from carepath.ids import TenantId
from carepath.storage import Database, UnitOfWork

DELIVER_MESSAGE = "deliver_message"

# Where a reply on each channel is addressed, in order of preference.
_ADDRESS_KINDS: dict[Channel, tuple[IdentityKind, ...]] = {
    Channel.EMAIL: (IdentityKind.EMAIL,),
    Channel.SMS: (IdentityKind.PHONE,),
    Channel.VOICE: (IdentityKind.PHONE,),
    Channel.WHATSAPP: (IdentityKind.WHATSAPP, IdentityKind.PHONE),
    Channel.MESSENGER: (IdentityKind.MESSENGER,),
    Channel.INSTAGRAM: (IdentityKind.INSTAGRAM,),
    Channel.CHAT: (IdentityKind.WEB_VISITOR, IdentityKind.APP_USER),
    # An app with no signed-in user still streams replies to its device (its visitor id).
    Channel.APP: (IdentityKind.APP_USER, IdentityKind.WEB_VISITOR),
}


async def do_record_delivery(
    db: Database,
    tenant_id: TenantId,
    message_id: str,
    status: DeliveryStatus,
    *,
    external_id: str | None = None,
) -> Message:
    """A send succeeded, or a provider reported progress. Stale reports (callbacks arrive out of
    order) change nothing; the provider's id is kept so its callbacks find the message, and
    reports that came before it are applied once it is stored."""
    stored_id: str | None = None
    async with db.uow() as uow:
        # Locked: two reports at once (delivered and read) must not both compare against the
        # old state, or the later commit writes its older status over the newer one.
        message = await uow.messages.get(tenant_id, message_id, lock=True)
        if message is None:
            raise NotFound("message not found", kind="message")
        changed = message.record_delivery(status)
        if external_id and message.external_id is None:
            message.external_id = stored_id = external_id
            changed = True
        if changed:
            payload = {**message_payload(message), "delivery_status": message.delivery_status}
            await uow.events.append(tenant_id, EventType.MESSAGE_UPDATED, payload)
    if stored_id is not None:
        # After the commit, so a report kept meanwhile is seen (actions/early_statuses.py).
        ref = ProviderRef(tenant_id, message.channel, stored_id)
        return await apply_early_statuses(db, ref) or message
    return message


async def do_record_provider_status(
    db: Database,
    tenant_id: TenantId,
    channel: Channel,
    external_id: str,
    status: DeliveryStatus,
) -> Message | None:
    """A provider's report on one of our messages, named by its provider id. One that comes
    before the send recorded that id is kept and applied when it is: it was acknowledged, so it
    is never dropped. None when no message of ours carries the id (yet)."""
    async with db.uow(write=False) as uow:
        message = await uow.messages.by_external_id(tenant_id, channel, external_id)
    if message is None:
        return await keep_early_status(db, tenant_id, channel, external_id, status, utcnow())
    if not message.is_sendable:  # the provider's id of a customer's message: nothing to record
        return None
    return await do_record_delivery(db, tenant_id, message.id, status)


async def do_post_system_message(
    db: Database, tenant_id: TenantId, case_id: str, *, channel: Channel, text: str, to: str
) -> Message:
    """A message carepath sends on its own (a survey question), queued like an agent's reply."""
    async with db.uow() as uow:
        case = await uow.cases.get(tenant_id, case_id)
        if case is None:
            raise NotFound("case not found", kind="case")
        message = Message.create(
            tenant_id=tenant_id,
            case_id=case.id,
            customer_id=case.customer_id,
            channel=channel,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.SYSTEM,
            text=text,
            properties={"to": to},
            now=utcnow(),
        )
        uow.messages.add(message)
        await uow.flush()
        uow.outbox.add(
            OutboxItem(
                tenant_id=tenant_id, kind=DELIVER_MESSAGE, payload={"message_id": message.id}
            )
        )
        await uow.events.append(tenant_id, EventType.MESSAGE_CREATED, message_payload(message))
    return message


async def reachable_address(uow: UnitOfWork, case: Case, channel: Channel) -> str:
    """The customer's address on `channel` (any identity of the merge cluster), or why not."""
    kinds = _ADDRESS_KINDS.get(channel)
    if kinds is None:
        raise InvalidInput(f"replies cannot be sent on {channel}", field="channel")
    cluster = await uow.customers.cluster_ids(case.tenant_id, case.customer_id)
    identities = await uow.identities.of_customers(case.tenant_id, cluster)
    for kind in kinds:
        for identity in identities:
            if identity.kind is kind:
                return identity.value
    raise InvalidInput(
        f"the customer has no {' or '.join(k.value for k in kinds)} to reach them on {channel}",
        field="channel",
    )
