"""current_config: the version in force, parsed once per process, never a stale one."""

from __future__ import annotations

from sqlalchemy import event

from carepath.actions.tenant_config import current_config, do_apply_tenant_config
from carepath.storage import Database
from tests.factories import make_tenant, system

DAY = "{mon: '00:00-24:00', tue: '00:00-24:00'}"


def config(sla: int) -> str:
    return (
        f"business_hours: {{timezone: UTC, weekly: {DAY}}}\n"
        f"strategy: {{defaults: {{treatment: live, skill: general, sla_seconds: {sla}}}}}\n"
    )


async def test_a_new_version_is_in_force_in_the_next_transaction(db: Database) -> None:
    # given a tenant whose first version was read (and so cached)
    tenant = await make_tenant(db)
    async with db.uow(write=False) as uow:
        assert (await current_config(uow, tenant.id)).strategy.defaults.sla_seconds == 3600
    await do_apply_tenant_config(db, system(tenant), config(600))
    async with db.uow(write=False) as uow:
        assert (await current_config(uow, tenant.id)).strategy.defaults.sla_seconds == 600
    # when a second version is applied
    await do_apply_tenant_config(db, system(tenant), config(120))
    # then the next transaction reads it, not the cached first one
    async with db.uow(write=False) as uow:
        assert (await current_config(uow, tenant.id)).strategy.defaults.sla_seconds == 120


async def test_one_transaction_reads_the_version_once_and_a_parsed_one_not_at_all(
    db: Database,
) -> None:
    # given a configured tenant whose version this process has parsed
    tenant = await make_tenant(db)
    await do_apply_tenant_config(db, system(tenant), config(300))
    async with db.uow(write=False) as uow:
        await current_config(uow, tenant.id)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "tenant_configs" in statement:
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        # when routing asks for the configuration three times in one transaction
        async with db.uow(write=False) as uow:
            configs = [await current_config(uow, tenant.id) for _ in range(3)]
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # then one small read of the version number, and the same parsed configuration
    assert len(statements) == 1
    assert "max(tenant_configs.version)" in statements[0]
    assert all(c.strategy.defaults.sla_seconds == 300 for c in configs)
