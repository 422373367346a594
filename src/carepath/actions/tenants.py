"""Creating tenants: the operator's job (CLI), so it takes no Principal."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from carepath.domain import AuditEntry, Tenant
from carepath.errors import Conflict
from carepath.storage import Database


async def do_create_tenant(
    db: Database, *, slug: str, name: str, actor: str = "system:cli"
) -> Tenant:
    tenant = Tenant.create(slug=slug, name=name)
    try:
        async with db.uow() as uow:
            if await uow.tenants.by_slug(tenant.slug):
                raise Conflict(f"a tenant with slug {tenant.slug!r} already exists", field="slug")
            uow.tenants.add(tenant)
            await uow.flush()
            await uow.events.start_counter(tenant.id)
            await uow.audit.record(
                AuditEntry(
                    tenant_id=tenant.id,
                    actor=actor,
                    action="tenant.created",
                    subject=tenant.id,
                    data={"slug": tenant.slug, "name": tenant.name},
                )
            )
    except IntegrityError as exc:  # a concurrent create with the same slug
        raise Conflict(f"a tenant with slug {tenant.slug!r} already exists", field="slug") from exc
    return tenant
