"""`carepath serve` and `carepath demo`: check everything, then hand over to uvicorn."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carepath.cli.common import check_database, console, open_database, run, settings_or_exit
from carepath.demo import company
from carepath.demo.run import free_port, run_demo, sent_mail_folder
from carepath.demo.seed import Seeded
from carepath.demo.shop import running_shop
from carepath.demo.traffic import MAX_RATE
from carepath.errors import ConfigurationError
from carepath.logging import logging_config
from carepath.settings import ENV_PREFIX, Settings
from carepath.storage import migrate as migrations


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
    smtp_port: int | None = typer.Option(
        None, "--smtp-port", help="Also receive email: the SMTP listener on this port."
    ),
    smtp_host: str | None = typer.Option(
        None, "--smtp-host", help="Interface of the SMTP listener (default: --host)."
    ),
) -> None:
    """Serve the API and web UI. Checks the secret, the database and the schema first."""
    if log_json:
        # Worker processes build their own settings from the environment.
        os.environ[f"{ENV_PREFIX}LOG_JSON"] = "true"
    if no_worker:
        os.environ[f"{ENV_PREFIX}RUN_WORKER"] = "false"
    if smtp_port is not None:
        os.environ[f"{ENV_PREFIX}SMTP_LISTEN_PORT"] = str(smtp_port)
        os.environ[f"{ENV_PREFIX}SMTP_LISTEN_HOST"] = smtp_host or host
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
    traffic: bool = typer.Option(
        True, "--traffic/--no-traffic", help="Simulate customers and agents while it runs."
    ),
    rate: float = typer.Option(
        12, "--rate", min=0.1, max=MAX_RATE, help="Simulated customer actions per minute."
    ),
    customers: int = typer.Option(
        60, "--customers", min=1, max=2000, help="Customers in the 90 days of history."
    ),
) -> None:
    """Start a demo company on SQLite: nothing to install or configure."""
    started = time.monotonic()
    data_dir = (data_dir or Path(tempfile.mkdtemp(prefix="carepath-demo-"))).resolve()
    emulator_port, sink_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    settings = settings_or_exit(
        demo_mode=True,
        data_dir=data_dir,
        database_url=None,
        cookie_secure=False,
        public_url=f"http://{host}:{port}",
        twilio_api_url=f"http://127.0.0.1:{emulator_port}",
        graph_api_url=f"http://127.0.0.1:{emulator_port}",
        smtp_listen_host=host,
        smtp_listen_port=free_port(host),
        smtp_url=f"smtp://127.0.0.1:{sink_port}",
    )
    # Acme's order system, which the demo's "where is my order" flow calls: up before the
    # history replays that flow, down after the server stops.
    with running_shop(free_port("127.0.0.1")) as shop_url:
        seeded = run(_seed_demo(settings, customers, shop_url))
        announce(
            settings,
            started,
            host=host,
            emulator_port=emulator_port,
            rate=rate if traffic else None,
        )
        try:
            served = asyncio.run(
                run_demo(
                    settings,
                    host=host,
                    port=port,
                    emulator_port=emulator_port,
                    sink_port=sink_port,
                    seeded=seeded,
                    traffic_rate=rate if traffic else None,
                )
            )
        except ConfigurationError as exc:
            console.print(f"[red]error:[/] {exc.message}")
            raise typer.Exit(2) from exc
        if not served:
            console.print(f"[red]error:[/] could not serve on {host}:{port}; in use? Try --port.")
            raise typer.Exit(1)


def announce(
    settings: Settings, started: float, *, host: str, emulator_port: int, rate: float | None
) -> None:
    """Print what the demo serves and how to log in."""
    base, tenant = settings.public_url, company.SLUG
    lines = [
        f"\n[bold green]carepath demo[/] — {company.NAME}, ready in "
        f"{time.monotonic() - started:.1f} s (data in {settings.data_dir})",
        f"  customer site   {base}/t/{tenant}/demo  (the chat widget: start a return, chat)",
        f"  agent workspace {base}/app",
        f"  supervisor      {base}/app/supervisor",
        f"  dashboard       {base}/app/supervisor/dashboard  (movement, FCR, journeys, strategy)",
        f"  help centre     {base}/help/{tenant}",
        f"  API docs        {base}/docs",
        f"  log in          tenant [bold]{tenant}[/], password {company.PASSWORD}: "
        f"{company.ADMIN_EMAIL} (admin), {company.SUPERVISOR_EMAIL} (supervisor), "
        f"{company.AGENT_EMAIL} (agent)",
        f"  email           smtp://{host}:{settings.smtp_listen_port} to {company.SUPPORT_EMAIL}",
        f"  sent email      {sent_mail_folder(settings)} (a Maildir)",
        f"  emulator        http://127.0.0.1:{emulator_port}/_emulator/requests  (texts, calls)",
        f"  traffic         {f'{rate:g} customer actions a minute' if rate else 'off'}",
        "  stop            Ctrl-C\n",
    ]
    for line in lines:
        console.print(line, soft_wrap=True)  # whole lines: URLs must stay copyable


async def _seed_demo(settings: Settings, customers: int, shop_url: str) -> Seeded:
    """Migrate, then seed the company and replay its history through the actions; a
    --data-dir from an earlier run is kept as it is but for the order system's address."""
    from carepath.assistant.serving import TenantModels
    from carepath.demo.history import replay_history
    from carepath.demo.seed import (
        apply_company_config,
        load_seeded,
        seed_company,
        train_assistant,
    )

    async with open_database(settings) as db:
        await migrations.upgrade(db)
        existing = await load_seeded(db)
        if existing is not None:
            await apply_company_config(db, existing.system, shop_url)
            return existing
        columns = (
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            step = progress.add_task("the company, its articles", total=1)
            seeded = await seed_company(db, settings, shop_url=shop_url)
            progress.advance(step)
            training = asyncio.create_task(train_assistant(db, settings, seeded))
            history = progress.add_task("90 days of history", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(history, completed=done, total=total)

            await replay_history(
                db,
                seeded,
                TenantModels(settings.data_dir),
                public_url=settings.public_url,
                customers=customers,
                advance=advance,
                model_ready=training,
            )
        return seeded
