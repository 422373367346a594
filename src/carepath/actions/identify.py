"""Identify and track: the company's site, app and backend tell carepath who a customer is and
what they did, so every later contact starts with that context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from carepath.actions.payloads import customer_payload, journey_payload
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.domain.events import EventType
from carepath.domain.identities import Identity, IdentityRef
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.errors import InvalidInput
from carepath.ids import CustomerId, TenantId
from carepath.storage import Database, UnitOfWork

MAX_ATTEMPTS = 4
MAX_TRACK_BATCH = 100


@dataclass(frozen=True)
class IdentifyResult:
    customer: Customer
    linked: list[IdentityRef]
    # Identities that already belong to another customer: never moved silently (that is a
    # merge, which an agent decides and can undo).
    conflicts: list[IdentityRef] = field(default_factory=list)


async def do_identify(
    db: Database,
    tenant_id: TenantId,
    identities: Sequence[IdentityRef],
    *,
    traits: Mapping[str, Any] | None = None,
    verified: bool = False,
) -> IdentifyResult:
    if not identities:
        raise InvalidInput("name at least one identity", field="identities")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with db.uow() as uow:
                return await _identify(uow, tenant_id, identities, traits or {}, verified)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _identify(
    uow: UnitOfWork,
    tenant_id: TenantId,
    refs: Sequence[IdentityRef],
    traits: Mapping[str, Any],
    verified: bool,
) -> IdentifyResult:
    now = utcnow()
    found: list[tuple[IdentityRef, Identity | None]] = [
        (ref, await uow.identities.find(tenant_id, ref.kind, ref.value)) for ref in refs
    ]
    # The first identity that has a customer decides who this is (callers list the strongest,
    # e.g. the app's user id, first).
    customer: Customer | None = None
    for _ref, identity in found:
        if identity is not None:
            customer = await uow.customers.live(tenant_id, identity.customer_id)
            break
    is_new = customer is None
    if customer is None:
        customer = Customer.create(tenant_id, traits=traits, now=now)
        uow.customers.add(customer)
        await uow.flush()
    elif traits:
        customer.apply_traits(traits, now)
    cluster = set(await uow.customers.cluster_ids(tenant_id, customer.id))
    linked: list[IdentityRef] = []
    conflicts: list[IdentityRef] = []
    for ref, identity in found:
        if identity is None:
            uow.identities.add(
                Identity(
                    tenant_id=tenant_id,
                    customer_id=customer.id,
                    kind=ref.kind,
                    value=ref.value,
                    verified=verified,
                    created_at=now,
                )
            )
            linked.append(ref)
        elif identity.customer_id not in cluster:
            conflicts.append(ref)
        elif verified and not identity.verified:
            identity.verified = True
    event = EventType.CUSTOMER_CREATED if is_new else EventType.CUSTOMER_UPDATED
    if is_new or linked or traits:
        await uow.flush()
        await uow.events.append(tenant_id, event, customer_payload(customer))
    return IdentifyResult(customer=customer, linked=linked, conflicts=conflicts)


@dataclass(frozen=True)
class TrackedEvent:
    type: JourneyEventType
    name: str
    channel: Channel
    occurred_at: datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


async def do_track(
    db: Database, tenant_id: TenantId, who: IdentityRef, batch: Sequence[TrackedEvent]
) -> list[JourneyEvent]:
    """Record a batch of journey events for the customer behind `who` (created if unknown, so
    an anonymous visitor's journey is already there when they identify or write)."""
    if not batch:
        raise InvalidInput("send at least one event", field="events")
    if len(batch) > MAX_TRACK_BATCH:
        raise InvalidInput(f"send at most {MAX_TRACK_BATCH} events at once", field="events")
    for item in batch:
        if not item.type.is_trackable:
            raise InvalidInput(
                f"{item.type.value} events are recorded by carepath itself", field="events.type"
            )
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with db.uow() as uow:
                customer_id = await _customer_for(uow, tenant_id, who, now)
                recorded = [
                    JourneyEvent.record(
                        tenant_id=tenant_id,
                        customer_id=customer_id,
                        type=item.type,
                        name=item.name,
                        channel=item.channel,
                        occurred_at=item.occurred_at,
                        properties=item.properties,
                        now=now,
                    )
                    for item in batch
                ]
                for event in recorded:
                    uow.journey.add(event)
                await uow.flush()
                for event in recorded:
                    await uow.events.append(
                        tenant_id, EventType.JOURNEY_EVENT, journey_payload(event)
                    )
                return recorded
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _customer_for(
    uow: UnitOfWork, tenant_id: TenantId, who: IdentityRef, now: datetime
) -> CustomerId:
    identity = await uow.identities.find(tenant_id, who.kind, who.value)
    if identity is not None:
        live = await uow.customers.live(tenant_id, identity.customer_id)
        assert live is not None
        return live.id
    customer = Customer.create(tenant_id, now=now)
    uow.customers.add(customer)
    await uow.flush()
    uow.identities.add(
        Identity(tenant_id=tenant_id, customer_id=customer.id, kind=who.kind, value=who.value)
    )
    await uow.events.append(tenant_id, EventType.CUSTOMER_CREATED, customer_payload(customer))
    return customer.id
