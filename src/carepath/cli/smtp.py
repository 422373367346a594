"""`carepath smtp`: the inbound SMTP listener in its own process."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer

from carepath.channels.email.smtp_server import start_listener
from carepath.cli.common import check_database, console, display_url, run, settings_or_exit
from carepath.domain.events import Event
from carepath.ids import TenantId
from carepath.logging import configure_logging
from carepath.realtime import Doorbell, make_doorbell
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.unit_of_work import CommitHook

log = logging.getLogger("carepath.email.smtp")
DEFAULT_PORT = 2525


def smtp(
    host: str | None = typer.Option(
        None, help="Interface to listen on (default: CAREPATH_SMTP_LISTEN_HOST or 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, help=f"TCP port (default: CAREPATH_SMTP_LISTEN_PORT or {DEFAULT_PORT})."
    ),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line."),
) -> None:
    """Receive email for the tenants' email accounts until stopped (SIGTERM or Ctrl-C)."""
    settings = settings_or_exit(**({"log_json": True} if log_json else {}))
    configure_logging(json=settings.log_json, level=settings.log_level)
    run(_listen(settings, host, port))


async def _listen(settings: Settings, host: str | None, port: int | None) -> None:
    settings.secret()  # refuses a missing or demo secret outside demo mode
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    doorbell = make_doorbell(settings.redis_url)
    try:
        await check_database(db, settings, require_current=True)
        await doorbell.start()
        db.on_commit = _ring(doorbell)  # agents' streams hear about new mail at once
        listener = await start_listener(
            db,
            settings,
            host=host,
            port=port if port is not None else settings.smtp_listen_port or DEFAULT_PORT,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        console.print(
            f"carepath smtp on {host or settings.smtp_listen_host}:{listener.port}, database "
            f"{display_url(settings.effective_database_url)}; stop with Ctrl-C",
            highlight=False,
        )
        await stop.wait()
        log.info("stopping the SMTP listener")
        await listener.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    finally:
        db.on_commit = None
        await doorbell.stop()
        await db.dispose()


def _ring(doorbell: Doorbell) -> CommitHook:
    async def ring(seqs: dict[TenantId, int], _written: list[Event]) -> None:
        for tenant_id, seq in seqs.items():
            await doorbell.ring(tenant_id, seq)

    return ring
