"""Operator commands: migrate, tenants, users, API tokens."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from carepath.actions import do_create_api_token, do_create_tenant, do_create_user
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.cli.common import (
    check_database,
    console,
    display_url,
    open_database,
    run,
    settings_or_exit,
    tenant_principal,
)
from carepath.storage import migrate as migrations
from carepath.types import Role

tenant_app = typer.Typer(help="Create and list tenants (companies).", no_args_is_help=True)
user_app = typer.Typer(help="Create users of a tenant.", no_args_is_help=True)
token_app = typer.Typer(help="Create API tokens for integrations.", no_args_is_help=True)


def migrate(
    revision: str = typer.Option("head", help="Target revision."),
    downgrade: bool = typer.Option(False, "--downgrade", help="Go back down to --revision."),
) -> None:
    """Bring the database schema up to date (or down to a revision)."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=False)
            before = await migrations.current_revision(db)
            if downgrade:
                await migrations.downgrade(db, revision)
            else:
                await migrations.upgrade(db, revision)
            after = await migrations.current_revision(db)
        shown = display_url(settings.effective_database_url)
        console.print(f"{shown}: schema {before or '(empty)'} → [bold]{after or '(empty)'}[/]")

    run(go())


@tenant_app.command("create")
def tenant_create(
    slug: str = typer.Argument(..., help="Short name used in URLs and logins, e.g. acme."),
    name: str = typer.Option(..., "--name", help="The company's display name."),
) -> None:
    """Create a tenant."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            tenant = await do_create_tenant(db, slug=slug, name=name)
        console.print(f"created tenant [bold]{tenant.slug}[/] ({tenant.id})")

    run(go())


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            async with db.uow(write=False) as uow:
                tenants = await uow.tenants.all()
        table = Table("slug", "name", "id", "created")
        for t in tenants:
            table.add_row(t.slug, t.name, t.id, t.created_at.isoformat(timespec="seconds"))
        console.print(table)

    run(go())


@user_app.command("create")
def user_create(
    tenant: str = typer.Option(..., "--tenant", help="Tenant slug."),
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option(..., "--name", help="Display name."),
    role: Role = typer.Option(Role.AGENT, "--role"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CAREPATH_NEW_USER_PASSWORD",
        help="Prompted for when not given.",
    ),
) -> None:
    """Create a user who can log in to the web UI."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli")
            user = await do_create_user(
                db, actor, email=email, display_name=name, role=role, password=password
            )
        console.print(f"created {user.role} [bold]{user.email}[/] ({user.id}) in {tenant}")

    run(go())


@token_app.command("create")
def token_create(
    tenant: str = typer.Option(..., "--tenant", help="Tenant slug."),
    name: str = typer.Option(..., "--name", help="What will use this token."),
    role: Role = typer.Option(..., "--role"),
) -> None:
    """Create an API token. The secret is printed once; store it now."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli")
            created = await do_create_api_token(db, actor, name=name, role=role)
        console.print(f"created {role} token [bold]{created.token.name}[/] ({created.token.id})")
        console.print("the secret is shown only now:", style="yellow")
        # Plain print: no wrapping or markup may alter the secret.
        print(created.plaintext)

    run(go())


@tenant_app.command("apply")
def tenant_apply(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The tenant's YAML file."),
    tenant: str = typer.Option(..., "--tenant", help="Tenant slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and compare only."),
) -> None:
    """Apply a tenant configuration file (skills, queues, routing, intents, strategy map).

    The file is refused whole, with every error listed by line and key, or stored as a new
    version (a file equal to the version in force stores nothing).
    """
    settings = settings_or_exit()
    source = file.read_text(encoding="utf-8")

    async def go() -> None:
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "cli")
            applied = await do_apply_tenant_config(
                db, actor, source, name=str(file), dry_run=dry_run
            )
        if not applied.changed:
            console.print(f"{file} equals version {applied.version} in force: nothing to do")
        elif dry_run:
            console.print(f"{file} is valid; applying it would make version {applied.version}")
        else:
            console.print(f"applied {file} to {tenant} as version [bold]{applied.version}[/]")

    run(go())
