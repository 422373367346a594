"""NUL characters are refused at the door: PostgreSQL cannot store them in text, so a "\\u0000"
that SQLite would keep becomes a server error there. One rule for both databases: a clear 422
(bodies) or 400 (URLs) before anything runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from carepath.web.errors import error_body

NUL = "\x00"
NUL_MESSAGE = "text may not contain NUL characters (\\u0000)"


def has_nul(data: Any) -> bool:
    """Anywhere in a JSON value, keys included; iterative, so depth costs no recursion."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class RefuseNulInUrls:
    """ASGI middleware: a path or query string with %00 gets 400 before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            query: bytes = scope.get("query_string", b"")
            if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query):
                if scope["type"] == "http":
                    body = error_body("invalid_input", NUL_MESSAGE, {"field": "url"})
                    await JSONResponse(body, 400)(scope, receive, send)
                    return
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
