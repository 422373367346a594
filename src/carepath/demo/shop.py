"""Acme's own order system, as the demo company would run it beside carepath: the endpoint the
demo's "where is my order" flow calls (`flows:` in company.yaml). It answers from the order
number alone, the same way every time, so a walk-through can be repeated."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carepath.domain.clock import utcnow

ORDER_NUMBER = re.compile(r"^[A-Z][0-9]{5}$")
CARRIERS = ("PostNL", "DHL", "DPD")
STATUSES = ("processing", "shipped", "shipped", "delivered")


def order_status(order_number: str) -> dict[str, str]:
    """What the order system knows of an order: a status and, once shipped, when and how."""
    digest = hashlib.sha256(order_number.encode()).digest()
    status = STATUSES[digest[0] % len(STATUSES)]
    answer = {"order_number": order_number, "status": status}
    if status != "processing":
        shipped = utcnow().date() - timedelta(days=1 + digest[1] % 4)
        answer |= {"shipped_on": shipped.isoformat(), "carrier": CARRIERS[digest[2] % 3]}
    if status == "shipped":
        answer["expected_on"] = (utcnow().date() + timedelta(days=1 + digest[3] % 2)).isoformat()
    return answer


async def _status(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    number = body.get("order_number") if isinstance(body, dict) else None
    if not isinstance(number, str) or not ORDER_NUMBER.match(number):
        return JSONResponse({"error": "order_number must look like A12345"}, status_code=422)
    return JSONResponse(order_status(number))


def create_shop() -> Starlette:
    return Starlette(routes=[Route("/orders/status", _status, methods=["POST"])])


@contextmanager
def running_shop(port: int) -> Iterator[str]:
    """Serve the order system on 127.0.0.1:`port` in a thread for as long as the block runs
    (seeding replays flows through it, then the live demo uses it); yields its base URL."""
    config = uvicorn.Config(create_shop(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)  # in a thread it leaves signals to the main thread
    thread = threading.Thread(target=server.run, name="demo-shop", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"the demo order system could not listen on 127.0.0.1:{port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
