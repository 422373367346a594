"""An app built with settings of the test's choosing (limits set low, private targets refused),
and clients that call it from a chosen client address."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from carepath.settings import Settings
from carepath.web import create_app
from tests.processes import CAREPATH, free_port

SECTION = "No one gets in"


@asynccontextmanager
async def app_with(settings: Settings, **overrides: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update=overrides))
    async with LifespanManager(application):
        yield application


def client_for(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client whose requests reach the app from `address` (the rate limits count by it)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


@contextmanager
def logged_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`carepath serve` with its output in a file: a pipe nobody reads fills up and stalls it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        command = [*CAREPATH, "serve", "--port", str(port), "--no-worker"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                with suppress(httpx.TransportError):
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "server not ready in 30 s"
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)
