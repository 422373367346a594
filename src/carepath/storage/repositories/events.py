"""The event stream, the outbox and webhook endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, bindparam, insert, or_, select, update

from carepath.domain.events import Event
from carepath.domain.outbox import OutboxItem, OutboxStatus
from carepath.domain.webhooks import WebhookEndpoint
from carepath.ids import TenantId
from carepath.storage.repositories.base import Page, Repository
from carepath.storage.tables import event_counters, events, outbox, webhook_endpoints

WEBHOOK_KIND = "webhook"


class EventRepository(Repository):
    """Appended events are held until the unit of work commits, then written together: one
    counter increment per tenant for all of them (the counter row lock is taken there and held
    until commit; see tables.event_counters), so a transaction appending six events makes one
    round trip for their seqs, and holds the tenant's lock only for its last moment."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appended: dict[TenantId, int] = {}
        self.written: list[Event] = []  # numbered and written, in seq order per tenant
        self._pending: list[Event] = []
        self._endpoints: dict[TenantId, list[WebhookEndpoint]] = {}

    async def start_counter(self, tenant_id: TenantId) -> None:
        await self.session.execute(insert(event_counters).values(tenant_id=tenant_id, last_seq=0))

    async def append(self, tenant_id: TenantId, type_: str, payload: dict[str, Any]) -> Event:
        """Queue an event; its `seq` is set when the unit of work writes the events at commit."""
        customer_id = payload.get("customer_id")
        event = Event(
            tenant_id=tenant_id,
            seq=0,
            type=type_,
            payload=payload,
            customer_id=customer_id if isinstance(customer_id, str) else None,
        )
        self._pending.append(event)
        return event

    async def append_many(
        self, tenant_id: TenantId, items: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[Event]:
        return [await self.append(tenant_id, type_, payload) for type_, payload in items]

    async def write_pending(self) -> None:
        """Number the queued events (gap-free, in append order) and add them, with the webhook
        deliveries they call for, to the transaction. The unit of work calls this before commit."""
        pending, self._pending = self._pending, []
        by_tenant: dict[TenantId, list[Event]] = {}
        for event in pending:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        # A fixed order of counter locks, so two transactions never wait on each other's.
        for tenant_id in sorted(by_tenant):
            batch = by_tenant[tenant_id]
            params = {"tenant": tenant_id, "count": len(batch)}
            last = (await self.session.execute(_count_query(), params)).scalar_one()
            first = int(last) - len(batch) + 1
            for offset, event in enumerate(batch):
                event.seq = first + offset
            # One Core executemany, not ORM objects: events are never changed after this, and
            # the flush's per-object bookkeeping was a large part of a small transaction's CPU.
            await self.session.execute(insert(events), [_row(event) for event in batch])
            self.appended[tenant_id] = int(last)
            self.written.extend(batch)
            endpoints = await self._webhooks(tenant_id)
            self.session.add_all(
                OutboxItem(
                    tenant_id=tenant_id,
                    kind=WEBHOOK_KIND,
                    payload={"endpoint_id": endpoint.id, "seq": event.seq},
                )
                for event in batch
                for endpoint in endpoints
                if endpoint.wants(event.type)
            )

    async def _webhooks(self, tenant_id: TenantId) -> list[WebhookEndpoint]:
        if tenant_id not in self._endpoints:
            params = {"tenant_id": tenant_id}
            found = await self.session.scalars(_active_webhooks_query(), params)
            self._endpoints[tenant_id] = list(found.all())
        return self._endpoints[tenant_id]

    async def after(self, tenant_id: TenantId, seq: int, *, limit: int) -> Sequence[Event]:
        query = (
            select(Event)
            .where(events.c.tenant_id == tenant_id, events.c.seq > seq)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def after_for_customers(
        self, tenant_id: TenantId, customer_ids: Sequence[str], seq: int, *, limit: int
    ) -> Sequence[Event]:
        """One customer's (merge cluster's) events after `seq`: what their own devices see."""
        query = (
            select(Event)
            .where(
                events.c.tenant_id == tenant_id,
                events.c.customer_id.in_(customer_ids),
                events.c.seq > seq,
            )
            .order_by(events.c.seq)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def get(self, tenant_id: TenantId, seq: int) -> Event | None:
        return await self.session.get(Event, (tenant_id, seq))

    async def last_seq(self, tenant_id: TenantId) -> int:
        query = select(event_counters.c.last_seq).where(event_counters.c.tenant_id == tenant_id)
        return int((await self.session.execute(query)).scalar_one_or_none() or 0)


def _row(event: Event) -> dict[str, Any]:
    return {
        "tenant_id": event.tenant_id,
        "seq": event.seq,
        "type": event.type,
        "payload": event.payload,
        "created_at": event.created_at,
        "customer_id": event.customer_id,
    }


class OutboxRepository(Repository):
    async def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        skip_locked: bool,
        kinds: Sequence[str],
    ) -> list[OutboxItem]:
        """Lease up to `limit` due items of `kinds` (those the worker can handle: a worker of an
        older version, or one without a channel configured, leaves the rest for others).
        An expired lease (a crashed worker) is due again."""
        query = (
            select(OutboxItem)
            .where(
                outbox.c.status == OutboxStatus.PENDING,
                outbox.c.kind.in_(kinds),
                outbox.c.available_at <= now,
                or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < now),
            )
            .order_by(outbox.c.available_at)
            .limit(limit)
        )
        if skip_locked:
            # Several workers on PostgreSQL each take different rows, never the same one.
            query = query.with_for_update(skip_locked=True)
        items = list((await self.session.scalars(query)).all())
        for item in items:
            item.claim(worker, now, lease)
        return items

    async def get(self, item_id: str, *, lock: bool = False) -> OutboxItem | None:
        """`lock` holds the row until commit (PostgreSQL), so a read-then-write cannot race."""
        return await self.session.get(OutboxItem, item_id, with_for_update=lock)

    async def list(
        self, tenant_id: TenantId, *, status: OutboxStatus | None, limit: int, cursor: str | None
    ) -> Page[OutboxItem]:
        query = select(OutboxItem).where(outbox.c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(outbox.c.status == status)
        return await self.page(query, outbox.c.id, limit=limit, cursor=cursor)

    async def list_for_webhook(
        self,
        tenant_id: TenantId,
        endpoint_id: str,
        *,
        status: OutboxStatus | None,
        limit: int,
        cursor: str | None,
    ) -> Page[OutboxItem]:
        """The deliveries queued for one endpoint, oldest first."""
        query = select(OutboxItem).where(
            outbox.c.tenant_id == tenant_id,
            outbox.c.kind == WEBHOOK_KIND,
            outbox.c.payload["endpoint_id"].as_string() == endpoint_id,
        )
        if status is not None:
            query = query.where(outbox.c.status == status)
        return await self.page(query, outbox.c.id, limit=limit, cursor=cursor)


class WebhookRepository(Repository):
    async def get(self, tenant_id: TenantId, endpoint_id: str) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(
            webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.id == endpoint_id
        )
        return (await self.session.scalars(query)).first()

    async def list(
        self, tenant_id: TenantId, *, limit: int, cursor: str | None
    ) -> Page[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(webhook_endpoints.c.tenant_id == tenant_id)
        return await self.page(query, webhook_endpoints.c.id, limit=limit, cursor=cursor)


# Run by every write transaction that appends events: built once, with bind parameters.


@cache
def _count_query() -> Update:
    return (
        update(event_counters)
        # Not named after a column: an UPDATE reads such parameters as SET values.
        .where(event_counters.c.tenant_id == bindparam("tenant"))
        .values(last_seq=event_counters.c.last_seq + bindparam("count"))
        .returning(event_counters.c.last_seq)
    )


@cache
def _active_webhooks_query() -> Select[Any]:
    return select(WebhookEndpoint).where(
        webhook_endpoints.c.tenant_id == bindparam("tenant_id"),
        webhook_endpoints.c.active.is_(True),
    )
