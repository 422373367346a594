"""The audit trail, append-only."""

from __future__ import annotations

from sqlalchemy import select

from carepath.domain import AuditEntry
from carepath.ids import TenantId
from carepath.storage.repositories.base import Page, Repository
from carepath.storage.tables import audit_log


class AuditRepository(Repository):
    async def record(self, entry: AuditEntry) -> None:
        # Without ORM relationships the flush order between mappers is not FK-aware: write what
        # the entry refers to (a new tenant, a new user) before the entry itself.
        await self.session.flush()
        self.session.add(entry)

    async def list(
        self, tenant_id: TenantId, *, limit: int, cursor: str | None, subject: str | None = None
    ) -> Page[AuditEntry]:
        query = select(AuditEntry).where(audit_log.c.tenant_id == tenant_id)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        return await self.page(query, audit_log.c.id, limit=limit, cursor=cursor)
