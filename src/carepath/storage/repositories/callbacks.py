"""Callback requests, and the phone calls on cases (inbound, and callbacks placed)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from carepath.domain.callbacks import Callback, CallbackStatus
from carepath.domain.calls import Call
from carepath.ids import TenantId
from carepath.storage.repositories.base import Page, Repository
from carepath.storage.tables import callbacks, calls


class CallbackRepository(Repository):
    async def get(
        self, tenant_id: TenantId, callback_id: str, *, lock: bool = False
    ) -> Callback | None:
        query = select(Callback).where(
            callbacks.c.tenant_id == tenant_id, callbacks.c.id == callback_id
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def of_case(self, tenant_id: TenantId, case_id: str) -> Sequence[Callback]:
        query = (
            select(Callback)
            .where(callbacks.c.tenant_id == tenant_id, callbacks.c.case_id == case_id)
            .order_by(callbacks.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def list(
        self,
        tenant_id: TenantId,
        *,
        status: CallbackStatus | None,
        case_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Callback]:
        query = select(Callback).where(callbacks.c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(callbacks.c.status == status)
        if case_id is not None:
            query = query.where(callbacks.c.case_id == case_id)
        return await self.page(query, callbacks.c.id, limit=limit, cursor=cursor)


class CallRepository(Repository):
    async def get(self, tenant_id: TenantId, call_id: str, *, lock: bool = False) -> Call | None:
        query = select(Call).where(calls.c.tenant_id == tenant_id, calls.c.id == call_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def by_provider_sid(
        self, tenant_id: TenantId, provider_sid: str, *, lock: bool = False
    ) -> Call | None:
        query = select(Call).where(
            calls.c.tenant_id == tenant_id, calls.c.provider_sid == provider_sid
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def of_case(self, tenant_id: TenantId, case_id: str) -> Sequence[Call]:
        query = (
            select(Call)
            .where(calls.c.tenant_id == tenant_id, calls.c.case_id == case_id)
            .order_by(calls.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def of_callback(self, tenant_id: TenantId, callback_id: str) -> Sequence[Call]:
        query = (
            select(Call)
            .where(calls.c.tenant_id == tenant_id, calls.c.callback_id == callback_id)
            .order_by(calls.c.id)
        )
        return (await self.session.scalars(query)).all()
