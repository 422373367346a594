"""A real server on a loopback port for tests that need real sockets (WebSockets, browsers)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(
    app: ASGIApp, port: int | None = None, *, lifespan: bool = False
) -> AsyncIterator[str]:
    """Serve an app on a loopback port; yields its base URL. By default the caller runs the
    app's lifespan (as the `app` fixture does); `lifespan=True` lets the server run it."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on" if lifespan else "off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def ws_connect(base: str, path: str, headers: dict[str, str] | None = None) -> connect:
    return connect(
        base.replace("http://", "ws://") + path,
        additional_headers=headers or {},
        proxy=None,
        open_timeout=5,
    )


async def receive(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), within)
    message: dict[str, Any] = json.loads(raw)
    return message


async def receive_events(
    ws: ClientConnection, count: int, within: float = 10.0
) -> list[dict[str, Any]]:
    """The next `count` events, skipping heartbeats."""
    events: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(events) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        message = await receive(ws, max(remaining, 0.01))
        if message.get("type") not in ("heartbeat", "stream.ready"):
            events.append(message)
    return events


async def nothing_more(ws: ClientConnection, within: float = 0.5) -> bool:
    try:
        message = await receive(ws, within)
    except TimeoutError:
        return True
    return message.get("type") == "heartbeat"
