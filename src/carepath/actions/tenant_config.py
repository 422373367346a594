"""Applying a tenant's configuration file: validated whole, stored as a new version, audited."""

from __future__ import annotations

from dataclasses import dataclass

from carepath.access import Permission, Principal, authorize
from carepath.actions.agents import apply_agents, check_agents
from carepath.domain import AuditEntry
from carepath.domain.clock import utcnow
from carepath.domain.tenant_configs import TenantConfigVersion
from carepath.errors import InvalidInput, NotFound
from carepath.ids import TenantId
from carepath.storage import Database, UnitOfWork
from carepath.tenant_config import TenantConfig, parse_tenant_config
from carepath.tenant_config.versions import PARSED_CONFIGS


@dataclass(frozen=True)
class Applied:
    version: int
    changed: bool  # False: the file equals the version in force, nothing was stored
    config: TenantConfig


async def current_config(uow: UnitOfWork, tenant_id: TenantId) -> TenantConfig:
    """The configuration in force; a tenant that never applied one gets the defaults.
    Reads only the version number when this process has already parsed that version."""
    version = await uow.tenant_configs.current_version(tenant_id)
    if version is None:
        return TenantConfig()
    config = PARSED_CONFIGS.get(tenant_id, version)
    if config is None:
        stored = await uow.tenant_configs.get(tenant_id, version)
        if stored is None:
            raise NotFound("tenant configuration not found", kind="tenant_config")
        config = TenantConfig.model_validate(stored.document)
        PARSED_CONFIGS.put(tenant_id, version, config)
    return config


async def do_apply_tenant_config(
    db: Database,
    actor: Principal,
    source: str,
    *,
    name: str = "<tenant config>",
    dry_run: bool = False,
) -> Applied:
    authorize(actor, Permission.MANAGE_TENANT_CONFIG)
    config = parse_tenant_config(source, source=name)
    document = config.model_dump(mode="json")
    async with db.uow() as uow:
        tenant = await uow.tenants.get(actor.tenant_id)
        if tenant is None:
            raise NotFound("tenant not found", kind="tenant")
        if config.tenant is not None and config.tenant != tenant.slug:
            raise InvalidInput(
                f"{name} is for tenant {config.tenant!r}, not {tenant.slug!r}", field="tenant"
            )
        agents = await check_agents(uow, tenant.id, config, source, name)
        current = await uow.tenant_configs.current(tenant.id)
        if current is not None and current.document == document:
            return Applied(version=current.version, changed=False, config=config)
        version = (current.version if current else 0) + 1
        if dry_run:
            return Applied(version=version, changed=True, config=config)
        uow.tenant_configs.add(
            TenantConfigVersion(
                tenant_id=tenant.id,
                version=version,
                document=document,
                source=source,
                applied_by=actor.actor,
            )
        )
        in_force = TenantConfig.model_validate(current.document) if current else None
        await apply_agents(uow, config, agents, utcnow(), in_force=in_force)
        await uow.audit.record(
            AuditEntry(
                tenant_id=tenant.id,
                actor=actor.actor,
                action="tenant_config.applied",
                subject=tenant.id,
                data={"version": version},
            )
        )
    return Applied(version=version, changed=True, config=config)
