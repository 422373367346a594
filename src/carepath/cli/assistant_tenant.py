"""`carepath assistant train-tenant --tenant SLUG`: a tenant's model from its configuration."""

from __future__ import annotations

import typer

from carepath.cli.common import (
    check_database,
    console,
    fail,
    open_database,
    run,
    settings_or_exit,
    tenant_principal,
)
from carepath.errors import CarepathError


def train_tenant(
    tenant: str = typer.Option(..., "--tenant", help="Tenant slug."),
) -> None:
    """Train a new version of the tenant's model from the intents' examples in its configuration
    (an intent named `oos` gives out-of-scope examples); workers pick it up without a restart."""
    from carepath.actions.assistant import do_train_tenant_model

    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli")
            try:
                manifest = await do_train_tenant_model(db, actor, settings.data_dir)
            except CarepathError as exc:
                fail(exc.message)
        console.print(
            f"trained {tenant}: version [bold]{manifest.version}[/] "
            f"({len(manifest.classes)} intents) is now current"
        )

    run(go())
