"""Running the demo: carepath (with its SMTP listener), the provider emulator and the live
traffic in one process; Ctrl-C stops them all."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from carepath.demo.seed import Seeded
from carepath.demo.traffic import Endpoints, Traffic
from carepath.emulator import create_emulator
from carepath.logging import logging_config
from carepath.settings import Settings
from carepath.storage import Database
from carepath.web import create_app


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the demo, which stops every part together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def sent_mail_folder(settings: Settings) -> Path:
    return settings.data_dir / "sent-mail"


async def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    emulator_port: int,
    sink_port: int,
    seeded: Seeded,
    traffic_rate: float | None,
) -> bool:
    """Serve until Ctrl-C (or SIGTERM); False when carepath could not start (a port in use)."""
    quiet = logging_config(json=False, level="WARNING")
    app = _Server(uvicorn.Config(create_app(settings), host=host, port=port, log_config=quiet))
    emulator = _Server(
        uvicorn.Config(create_emulator(), host="127.0.0.1", port=emulator_port, log_config=quiet)
    )
    servers = [app, emulator]
    # Replies by email go to a local Maildir instead of the internet.
    sink = Controller(Mailbox(sent_mail_folder(settings)), hostname="127.0.0.1", port=sink_port)
    sink.start()
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    db = Database(settings.effective_database_url, pool_size=2)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    traffic: asyncio.Task[None] | None = None
    try:
        if traffic_rate:
            # uvicorn says it started only by a flag.
            while not all(s.started for s in servers) and not stopped.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            endpoints = Endpoints(
                public_url=settings.public_url,
                emulator_url=f"http://127.0.0.1:{emulator_port}",
                smtp_host=settings.smtp_listen_host,
                smtp_port=settings.smtp_listen_port or 0,
            )
            traffic = asyncio.create_task(Traffic(db, seeded, endpoints, traffic_rate).run())
        done = asyncio.create_task(stopped.wait())
        await asyncio.wait([done, *tasks], return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if traffic is not None:
            traffic.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await traffic
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await db.dispose()
        sink.stop()
    return app.started
