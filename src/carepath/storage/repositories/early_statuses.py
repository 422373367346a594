"""Delivery reports kept until the provider's id they name is stored with our message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, insert, select

from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus
from carepath.ids import TenantId, new_id
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import early_delivery_statuses as early
from carepath.storage.tables import messages


@dataclass(frozen=True)
class ProviderRef:
    """One provider id of one tenant's channel: what a report names."""

    tenant_id: TenantId
    channel: Channel
    external_id: str


@dataclass(frozen=True)
class EarlyStatus:
    id: str
    status: DeliveryStatus
    received_at: datetime


class EarlyStatusRepository(Repository):
    async def keep(self, ref: ProviderRef, status: DeliveryStatus, now: datetime) -> None:
        await self.session.execute(
            insert(early).values(
                id=new_id("early_status"),
                tenant_id=ref.tenant_id,
                channel=ref.channel,
                external_id=ref.external_id,
                status=status,
                received_at=now,
            )
        )

    async def any_for(self, ref: ProviderRef) -> bool:
        query = select(exists().where(*_naming(ref)))
        return bool((await self.session.execute(query)).scalar())

    async def of(self, ref: ProviderRef) -> list[EarlyStatus]:
        """In arrival order, so applying them replays what the provider said."""
        query = (
            select(early.c.id, early.c.status, early.c.received_at)
            .where(*_naming(ref))
            .order_by(early.c.received_at, early.c.id)
        )
        rows = (await self.session.execute(query)).all()
        return [EarlyStatus(row.id, DeliveryStatus(row.status), row.received_at) for row in rows]

    async def matched(self, limit: int) -> list[ProviderRef]:
        """Provider ids that have waiting reports and, by now, a message: a send whose own
        look for them was cut short (a crash between its commit and the look)."""
        query = (
            select(early.c.tenant_id, early.c.channel, early.c.external_id)
            .join(
                messages,
                (messages.c.tenant_id == early.c.tenant_id)
                & (messages.c.channel == early.c.channel)
                & (messages.c.external_id == early.c.external_id),
            )
            .distinct()
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return [ProviderRef(TenantId(r.tenant_id), Channel(r.channel), r.external_id) for r in rows]

    async def remove(self, ids: Sequence[str]) -> None:
        await self.session.execute(delete(early).where(early.c.id.in_(ids)))

    async def purge(self, before: datetime) -> int:
        """Reports for ids that never became ours (or were never sent by us) go after a while."""
        result = cast(
            CursorResult[Any],
            await self.session.execute(delete(early).where(early.c.received_at < before)),
        )
        return int(result.rowcount or 0)


def _naming(ref: ProviderRef) -> tuple[Any, ...]:
    return (
        early.c.tenant_id == ref.tenant_id,
        early.c.channel == ref.channel,
        early.c.external_id == ref.external_id,
    )
