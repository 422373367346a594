"""`carepath serve` and `carepath demo`: check everything, then hand over to uvicorn."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer
import uvicorn

from carepath.access import Principal
from carepath.actions import do_create_tenant, do_create_user
from carepath.cli.common import check_database, console, open_database, run, settings_or_exit
from carepath.errors import ConfigurationError
from carepath.logging import logging_config
from carepath.settings import ENV_PREFIX, Settings
from carepath.storage import migrate as migrations
from carepath.types import Role
from carepath.web import create_app

DEMO_TENANT = "demo"
DEMO_COMPANY = "Acme Outfitters"
DEMO_ADMIN_EMAIL = "admin@acme-outfitters.example.com"
DEMO_ADMIN_PASSWORD = "demo-password"  # noqa: S105 - printed on screen for the demo by design


async def _preflight(settings: Settings) -> None:
    settings.secret()  # refuses a missing or demo secret outside demo mode
    async with open_database(settings) as db:
        await check_database(db, settings, require_current=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes (use Redis when more than 1)."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line."),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Leave the outbox to `carepath worker` processes."
    ),
) -> None:
    """Serve the API and web UI. Checks the secret, the database and the schema first."""
    if log_json:
        # Worker processes build their own settings from the environment.
        os.environ[f"{ENV_PREFIX}LOG_JSON"] = "true"
    if no_worker:
        os.environ[f"{ENV_PREFIX}RUN_WORKER"] = "false"
    settings = settings_or_exit()
    run(_preflight(settings))
    if workers > 1 and not settings.redis_url:
        console.print(
            f"[yellow]note:[/] {workers} workers without {ENV_PREFIX}REDIS_URL: live events reach "
            "only clients of the worker that produced them until Redis is configured."
        )
    uvicorn.run(
        "carepath.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(json=settings.log_json, level=settings.log_level),
        proxy_headers=True,
    )


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Keep the demo here (default: a new temporary directory)."
    ),
) -> None:
    """Start a demo company on SQLite: nothing to install or configure."""
    data_dir = (data_dir or Path(tempfile.mkdtemp(prefix="carepath-demo-"))).resolve()
    settings = settings_or_exit(
        demo_mode=True,
        data_dir=data_dir,
        database_url=None,
        cookie_secure=False,
        public_url=f"http://{host}:{port}",
    )
    run(_seed_demo(settings))
    base = settings.public_url
    console.print(f"\n[bold green]carepath demo[/] — {DEMO_COMPANY} (data in {data_dir})")
    console.print(f"  API docs        {base}/docs")
    console.print(f"  health          {base}/readyz")
    console.print(
        f"  log in          tenant [bold]{DEMO_TENANT}[/], "
        f"{DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}"
    )
    console.print("  stop            Ctrl-C\n")
    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from exc
    uvicorn.run(app, host=host, port=port, log_config=logging_config(json=False, level="WARNING"))


async def _seed_demo(settings: Settings) -> None:
    async with open_database(settings) as db:
        await migrations.upgrade(db)
        async with db.uow(write=False) as uow:
            existing = await uow.tenants.by_slug(DEMO_TENANT)
        if existing is not None:
            return  # a --data-dir from an earlier run: keep it as it is
        tenant = await do_create_tenant(
            db, slug=DEMO_TENANT, name=DEMO_COMPANY, actor="system:demo"
        )
        await do_create_user(
            db,
            Principal.for_system(tenant.id, "demo"),
            email=DEMO_ADMIN_EMAIL,
            display_name="Demo Admin",
            role=Role.ADMIN,
            password=DEMO_ADMIN_PASSWORD,
        )
