"""Webhook endpoints of a tenant (admin), and a manual retry of a delivery that gave up."""

from __future__ import annotations

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry
from carepath.domain.clock import utcnow
from carepath.domain.events import EventType
from carepath.domain.outbox import OutboxItem, OutboxStatus
from carepath.domain.webhooks import ALL_EVENTS, WebhookEndpoint
from carepath.errors import Conflict, InvalidInput
from carepath.storage import Database
from carepath.webhook_targets import check_at_registration

KNOWN_EVENT_TYPES = frozenset(e.value for e in EventType) | {ALL_EVENTS}


async def do_create_webhook(
    db: Database,
    actor: Principal,
    *,
    url: str,
    event_types: list[str],
    allow_private: bool = False,
) -> WebhookEndpoint:
    """A new active endpoint with a fresh signing secret; it gets events committed from now on.

    `allow_private` (settings.webhook_allow_private_targets) lets it point at loopback or a
    private network: development and tests only (see carepath.webhook_targets)."""
    authorize(actor, Permission.MANAGE_WEBHOOKS)
    await check_at_registration(url.strip(), allow_private=allow_private)
    # A typo would otherwise be a subscription that silently never fires.
    unknown = sorted(set(event_types) - KNOWN_EVENT_TYPES)
    if unknown:
        raise InvalidInput(
            f"unknown event types: {', '.join(unknown)}",
            field="event_types",
            known=sorted(KNOWN_EVENT_TYPES),
        )
    endpoint = WebhookEndpoint.create(actor.tenant_id, url.strip(), event_types)
    async with db.uow() as uow:
        uow.webhooks.add(endpoint)
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="webhook.created",
                subject=endpoint.id,
                data={"url": endpoint.url, "event_types": endpoint.event_types},
            )
        )
    return endpoint


async def do_delete_webhook(db: Database, actor: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Deactivate: no new deliveries are queued, and queued ones go dead unsent."""
    authorize(actor, Permission.MANAGE_WEBHOOKS)
    async with db.uow() as uow:
        endpoint = scoped(actor, await uow.webhooks.get(actor.tenant_id, endpoint_id), "webhook")
        if endpoint.active:
            endpoint.active = False
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="webhook.deleted",
                    subject=endpoint.id,
                    data={"url": endpoint.url},
                )
            )
    return endpoint


async def do_retry_outbox_item(db: Database, actor: Principal, item_id: str) -> OutboxItem:
    """Make a dead or waiting item due now, with a fresh set of attempts (after a fix upstream)."""
    authorize(actor, Permission.MANAGE_WEBHOOKS)
    now = utcnow()
    async with db.uow() as uow:
        item = scoped(actor, await uow.outbox.get(item_id, lock=True), "delivery")
        if item.status == OutboxStatus.DONE:
            raise Conflict("this delivery already succeeded", status=item.status.value)
        if item.locked_until is not None and item.locked_until > now:
            raise Conflict("this delivery is being attempted right now; try again shortly")
        previous = item.status
        item.status = OutboxStatus.PENDING
        item.attempts = 0
        item.available_at = now
        item.locked_by = None
        item.locked_until = None
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="outbox.retried",
                subject=item.id,
                data={"kind": item.kind, "was": previous.value},
            )
        )
    return item
