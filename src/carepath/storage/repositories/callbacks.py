"""Callback requests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from carepath.domain.callbacks import Callback
from carepath.ids import TenantId
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import callbacks


class CallbackRepository(Repository):
    async def get(self, tenant_id: TenantId, callback_id: str) -> Callback | None:
        query = select(Callback).where(
            callbacks.c.tenant_id == tenant_id, callbacks.c.id == callback_id
        )
        return (await self.session.scalars(query)).first()

    async def of_case(self, tenant_id: TenantId, case_id: str) -> Sequence[Callback]:
        query = (
            select(Callback)
            .where(callbacks.c.tenant_id == tenant_id, callbacks.c.case_id == case_id)
            .order_by(callbacks.c.id)
        )
        return (await self.session.scalars(query)).all()
