"""Callback requests: "call me" from the widget or an app, the phone menu, or an agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carepath.actions.payloads import case_payload
from carepath.actions.work import enqueue_callback
from carepath.domain.callbacks import Callback, CallbackSource
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.tenants import Tenant
from carepath.errors import NotFound
from carepath.ids import CustomerId, TenantId
from carepath.storage import Database, UnitOfWork


def callback_payload(callback: Callback) -> dict[str, Any]:
    return {
        "callback_id": callback.id,
        "case_id": callback.case_id,
        "customer_id": callback.customer_id,
        "phone": callback.phone,
        "requested_for": callback.requested_for.isoformat(),
        "status": callback.status.value,
        "source": callback.source.value,
        "created_at": callback.created_at.isoformat(),
    }


async def do_request_callback(
    db: Database,
    tenant_id: TenantId,
    customer_id: CustomerId,
    *,
    phone: str,
    when: datetime | None,
    source: CallbackSource,
    channel: Channel,
    case_id: str | None = None,
) -> Callback:
    """Ask for a call to `phone` at `when` (None: as soon as possible) about the customer's case:
    `case_id` when it is theirs, else their case that a message would continue (reopened if
    recently resolved), else a new one on `channel`, where the request was made."""
    now = utcnow()
    async with db.uow() as uow:
        return await request_callback(
            uow,
            tenant_id,
            customer_id,
            phone=phone,
            when=when,
            source=source,
            channel=channel,
            case_id=case_id,
            now=now,
        )


async def request_callback(
    uow: UnitOfWork,
    tenant_id: TenantId,
    customer_id: CustomerId,
    *,
    phone: str,
    when: datetime | None,
    source: CallbackSource,
    channel: Channel,
    case_id: str | None,
    now: datetime,
) -> Callback:
    """do_request_callback in the caller's transaction (the phone menu records the call's
    choice in the same one)."""
    tenant = await uow.tenants.get(tenant_id)
    customer = await uow.customers.live(tenant_id, customer_id)
    if tenant is None or customer is None:
        raise NotFound("customer not found", kind="customer")
    case = await _case(uow, tenant, customer.id, case_id, now)
    if case is None:
        case = Case.open(tenant.id, customer.id, channel, segment=customer.segment, now=now)
        uow.cases.add(case)
        await uow.flush()
        await uow.events.append(tenant.id, EventType.CASE_CREATED, case_payload(case))
    callback = Callback.request(
        tenant_id=tenant.id,
        case_id=case.id,
        customer_id=customer.id,
        phone=phone,
        requested_for=when,
        source=source,
        now=now,
    )
    uow.callbacks.add(callback)
    await uow.flush()
    await enqueue_callback(uow, callback, case, now=now)
    uow.journey.add(
        JourneyEvent.record(
            tenant_id=tenant.id,
            customer_id=customer.id,
            type=JourneyEventType.CALLBACK,
            name="callback_requested",
            channel=channel,
            case_id=case.id,
            properties={
                "source": callback.source.value,
                "requested_for": callback.requested_for.isoformat(),
            },
            now=now,
        )
    )
    await uow.flush()
    await uow.events.append(tenant.id, EventType.CALLBACK_REQUESTED, callback_payload(callback))
    return callback


async def _case(
    uow: UnitOfWork, tenant: Tenant, customer_id: CustomerId, case_id: str | None, now: datetime
) -> Case | None:
    cluster = await uow.customers.cluster_ids(tenant.id, customer_id)
    case = await uow.cases.get(tenant.id, case_id) if case_id else None
    if case is None or case.customer_id not in cluster:
        case = await uow.cases.latest_for_customers(tenant.id, cluster)
    if case is None or not case.may_continue(now, tenant.reopen_window):
        return None
    if not case.is_open:
        case.reopen(now)
        await uow.events.append(tenant.id, EventType.CASE_REOPENED, case_payload(case))
    return case
