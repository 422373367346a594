"""A visitor's client for tests: the session handshake, the stream and its frames."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from carepath.domain.tenants import Tenant
from tests.live import ws_connect


def site(tenant: Tenant) -> dict[str, str]:
    return {"X-Carepath-Key": tenant.public_key}


def signed(tenant: Tenant, user_id: str) -> str:
    """What the tenant's backend puts in the page for its signed-in user."""
    return hmac.new(tenant.identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@dataclass
class Visitor:
    tenant: Tenant
    visitor_id: str
    session: str
    customer_id: str
    verified: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Carepath-Session": self.session}


async def open_visitor(
    http: httpx.AsyncClient,
    tenant: Tenant,
    visitor_id: str | None = None,
    *,
    user_id: str | None = None,
    hash: str | None = None,
    channel: str = "chat",
) -> Visitor:
    body: dict[str, Any] = {"visitor_id": visitor_id or f"v-{uuid.uuid4()}", "channel": channel}
    if user_id is not None:
        body["user_id"] = user_id
    if hash is not None:
        body["hash"] = hash
    response = await http.post("/v1/visitor/session", json=body, headers=site(tenant))
    assert response.status_code == 200, response.text
    out = response.json()
    return Visitor(tenant, out["visitor_id"], out["session"], out["customer_id"], out["verified"])


def stream(base_url: str, visitor: Visitor, last_event_id: int = 0) -> connect:
    return ws_connect(
        base_url, f"/v1/visitor/stream?session={visitor.session}&last_event_id={last_event_id}"
    )


def message(text: str, client_id: str | None = None, **extra: Any) -> str:
    frame = {"type": "message", "client_id": client_id or str(uuid.uuid4()), "text": text}
    return json.dumps({**frame, **extra})


async def frames(ws: ClientConnection, quiet: float = 0.6) -> list[dict[str, Any]]:
    """Every frame until the stream has been quiet for `quiet` seconds (heartbeats skipped)."""
    received: list[dict[str, Any]] = []
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return received
        frame = json.loads(raw)
        if frame.get("type") != "heartbeat":
            received.append(frame)


async def until(
    ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], within: float = 5.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first frame `wanted` accepts, and the frames before it."""
    before: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + within
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.01)))
        if wanted(frame):
            return frame, before
        before.append(frame)


def of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == kind


def texts(received: list[dict[str, Any]]) -> list[str]:
    return [f["data"]["text"] for f in received if f.get("type") == "message.created"]
