"""Personal data requests from the command line: export or erase a customer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from carepath.actions.personal_data import do_erase_customer, do_export_customer
from carepath.cli.common import (
    check_database,
    console,
    open_database,
    run,
    settings_or_exit,
    tenant_principal,
)
from carepath.storage.files import AttachmentStore

customer_app = typer.Typer(help="Personal data: export or erase a customer.", no_args_is_help=True)
TenantOption = typer.Option(..., "--tenant", help="The tenant's slug.")


@customer_app.command("export")
def customer_export(
    customer_id: str = typer.Argument(..., help="The customer's id (cus_…)."),
    tenant: str = TenantOption,
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here, not to stdout."),
) -> None:
    """Everything about a customer (and those merged with them) as JSON."""
    settings = settings_or_exit()

    async def go() -> dict[str, Any]:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli-customer-export")
            return await do_export_customer(db, actor, customer_id)

    export = run(go())
    text = json.dumps(export, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {out} ({len(export['messages'])} messages)")


@customer_app.command("erase")
def customer_erase(
    customer_id: str = typer.Argument(..., help="The customer's id (cus_…)."),
    tenant: str = TenantOption,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase a customer's personal data (right to erasure). Cannot be undone."""
    if not yes:
        typer.confirm(f"Erase customer {customer_id} for good?", abort=True)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli-customer-erase")
            store = AttachmentStore(settings.data_dir / "attachments")
            erasure = await do_erase_customer(db, actor, customer_id, store=store)
        if erasure.already_erased:
            console.print(f"customer {erasure.customer_id} was already erased; nothing left")
            return
        counts = ", ".join(f"{k} {v}" for k, v in vars(erasure.counts).items() if v)
        console.print(f"erased customer {erasure.customer_id}: {counts or 'nothing stored'}")

    run(go())
