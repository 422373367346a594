"""`carepath worker`: the outbox worker in its own process (servers then run with --no-worker)."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer

from carepath.cli.common import check_database, console, display_url, run, settings_or_exit
from carepath.logging import configure_logging
from carepath.settings import Settings
from carepath.storage import Database
from carepath.worker import DEFAULT_CONCURRENCY, BackgroundWorker

log = logging.getLogger("carepath.worker")


def worker(
    concurrency: int = typer.Option(
        DEFAULT_CONCURRENCY, min=1, help="Deliveries in flight at once."
    ),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line."),
) -> None:
    """Deliver webhooks and queued messages, and route waiting work to agents, until stopped
    (SIGTERM or Ctrl-C)."""
    settings = settings_or_exit(**({"log_json": True} if log_json else {}))
    configure_logging(json=settings.log_json, level=settings.log_level)
    run(_work(settings, concurrency))


async def _work(settings: Settings, concurrency: int) -> None:
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    try:
        await check_database(db, settings, require_current=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        background = BackgroundWorker.start(db, settings, concurrency=concurrency)
        console.print(
            f"carepath worker {background.worker.name} on "
            f"{display_url(settings.effective_database_url)}; stop with Ctrl-C",
            highlight=False,
        )
        await stop.wait()
        log.info("stopping: finishing the deliveries in hand")
        await background.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    finally:
        await db.dispose()
