"""Webhook endpoints of the caller's tenant and their deliveries (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions import do_create_webhook, do_delete_webhook, do_retry_outbox_item
from carepath.domain.outbox import OutboxStatus
from carepath.domain.webhooks import WebhookEndpoint
from carepath.errors import Conflict, NotFound
from carepath.storage import Database
from carepath.storage.repositories.events import WEBHOOK_KIND
from carepath.web.deps import DB, AppSettings, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import (
    DeliveryOut,
    PageOut,
    WebhookCreateIn,
    WebhookOut,
    WebhookWithSecretOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

StatusFilter = Annotated[OutboxStatus | None, Query(description="Only deliveries in this status.")]


async def _endpoint(db: Database, principal: Principal, webhook_id: str) -> WebhookEndpoint:
    authorize(principal, Permission.MANAGE_WEBHOOKS)
    async with db.uow(write=False) as uow:
        endpoint = await uow.webhooks.get(principal.tenant_id, webhook_id)
    return scoped(principal, endpoint, "webhook")


@router.get("", summary="List webhook endpoints", response_model=PageOut[WebhookOut])
async def list_webhooks(
    principal: CurrentPrincipal, db: DB, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[WebhookOut]:
    authorize(principal, Permission.MANAGE_WEBHOOKS)
    async with db.uow(write=False) as uow:
        page = await uow.webhooks.list(principal.tenant_id, limit=limit, cursor=cursor)
    return PageOut[WebhookOut](
        items=[WebhookOut.of(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    status_code=201,
    summary="Register a webhook endpoint; the response holds its signing secret",
    response_model=WebhookWithSecretOut,
)
async def create_webhook(
    body: WebhookCreateIn, principal: CurrentPrincipal, db: DB, settings: AppSettings
) -> WebhookWithSecretOut:
    endpoint = await do_create_webhook(
        db,
        principal,
        url=body.url,
        event_types=body.event_types,
        allow_private=settings.webhook_allow_private_targets,
    )
    return WebhookWithSecretOut.of(endpoint)


@router.get(
    "/{webhook_id}",
    summary="Read a webhook endpoint, with its signing secret",
    response_model=WebhookWithSecretOut,
)
async def get_webhook(webhook_id: str, principal: CurrentPrincipal, db: DB) -> WebhookWithSecretOut:
    return WebhookWithSecretOut.of(await _endpoint(db, principal, webhook_id))


@router.delete(
    "/{webhook_id}",
    summary="Delete (deactivate) a webhook endpoint; queued deliveries are not sent",
    response_model=WebhookOut,
)
async def delete_webhook(webhook_id: str, principal: CurrentPrincipal, db: DB) -> WebhookOut:
    return WebhookOut.of(await do_delete_webhook(db, principal, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    summary="List the deliveries of a webhook endpoint, oldest first",
    response_model=PageOut[DeliveryOut],
)
async def list_deliveries(
    webhook_id: str,
    principal: CurrentPrincipal,
    db: DB,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[DeliveryOut]:
    endpoint = await _endpoint(db, principal, webhook_id)
    async with db.uow(write=False) as uow:
        page = await uow.outbox.list_for_webhook(
            principal.tenant_id, endpoint.id, status=status, limit=limit, cursor=cursor
        )
    return PageOut[DeliveryOut](
        items=[DeliveryOut.of(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    summary="Try a failed or waiting delivery again now, with a fresh set of attempts",
    response_model=DeliveryOut,
)
async def retry_delivery(
    webhook_id: str, delivery_id: str, principal: CurrentPrincipal, db: DB
) -> DeliveryOut:
    endpoint = await _endpoint(db, principal, webhook_id)
    async with db.uow(write=False) as uow:
        item = await uow.outbox.get(delivery_id)
    if (
        item is None
        or item.tenant_id != principal.tenant_id
        or item.kind != WEBHOOK_KIND
        or item.payload.get("endpoint_id") != endpoint.id
    ):
        raise NotFound("delivery not found", kind="delivery")
    if not endpoint.active:
        raise Conflict("the webhook endpoint is deleted; its deliveries cannot be retried")
    return DeliveryOut.of(await do_retry_outbox_item(db, principal, item.id))
