"""Tenants: the only repository not scoped by tenant, because it is the scope."""

from __future__ import annotations

from sqlalchemy import select

from carepath.domain import Tenant
from carepath.domain.tenant_configs import TenantConfigVersion
from carepath.ids import TenantId
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import tenant_configs, tenants


class TenantRepository(Repository):
    async def get(self, tenant_id: TenantId) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def by_slug(self, slug: str) -> Tenant | None:
        return (await self.session.scalars(select(Tenant).where(tenants.c.slug == slug))).first()

    async def by_public_key(self, public_key: str) -> Tenant | None:
        query = select(Tenant).where(tenants.c.public_key == public_key)
        return (await self.session.scalars(query)).first()

    async def all(self) -> list[Tenant]:
        return list((await self.session.scalars(select(Tenant).order_by(tenants.c.slug))).all())


class TenantConfigRepository(Repository):
    async def current(self, tenant_id: TenantId) -> TenantConfigVersion | None:
        query = (
            select(TenantConfigVersion)
            .where(tenant_configs.c.tenant_id == tenant_id)
            .order_by(tenant_configs.c.version.desc())
            .limit(1)
        )
        return (await self.session.scalars(query)).first()

    async def get(self, tenant_id: TenantId, version: int) -> TenantConfigVersion | None:
        return await self.session.get(TenantConfigVersion, (tenant_id, version))
