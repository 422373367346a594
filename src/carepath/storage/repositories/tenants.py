"""Tenants: the only repository not scoped by tenant, because it is the scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The version in force as this transaction saw it: routing asks several times per message.
        self._versions: dict[TenantId, int | None] = {}
        self._added: dict[tuple[TenantId, int], TenantConfigVersion] = {}

    def add(self, obj: object) -> None:
        if isinstance(obj, TenantConfigVersion):
            self._versions[obj.tenant_id] = obj.version
            self._added[(obj.tenant_id, obj.version)] = obj
        super().add(obj)

    async def current_version(self, tenant_id: TenantId) -> int | None:
        """The number of the version in force (None: never configured); one small read, once per
        transaction. Read on the connection, so the session does not autoflush first (ingest's
        new case would be inserted, then updated when routing queues it); `add` records a
        version added in this transaction instead."""
        if tenant_id not in self._versions:
            query = select(func.max(tenant_configs.c.version)).where(
                tenant_configs.c.tenant_id == tenant_id
            )
            connection = await self.session.connection()
            version = (await connection.execute(query)).scalar_one_or_none()
            self._versions[tenant_id] = None if version is None else int(version)
        return self._versions[tenant_id]

    async def current(self, tenant_id: TenantId) -> TenantConfigVersion | None:
        query = (
            select(TenantConfigVersion)
            .where(tenant_configs.c.tenant_id == tenant_id)
            .order_by(tenant_configs.c.version.desc())
            .limit(1)
        )
        return (await self.session.scalars(query)).first()

    async def get(self, tenant_id: TenantId, version: int) -> TenantConfigVersion | None:
        """A stored version, or one added in this transaction. Without an autoflush, like
        `current_version`: the first parse of a version must not flush ingest's new case early."""
        added = self._added.get((tenant_id, version))
        if added is not None:
            return added
        with self.session.no_autoflush:
            return await self.session.get(TenantConfigVersion, (tenant_id, version))
