"""Rate limits at the door: login and the public endpoints (no login, reachable by anyone) are
counted per client address before any handler runs, and login lockout wraps the login handlers.

The public groups are listed here, in one table, so that a reviewer sees every door at once;
`tests/security/test_rate_limits.py` fails when a public POST route is missing from it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from carepath.errors import AuthenticationRequired, RateLimited
from carepath.ratelimits import RateLimits
from carepath.web.errors import error_body, retry_headers

# (group, methods, path): each group has its own count per client address.
PUBLIC_ROUTES: list[tuple[str, frozenset[str], re.Pattern[str]]] = [
    ("login", frozenset({"POST"}), re.compile(r"^/(v1/auth|app)/login$")),
    ("identify", frozenset({"POST"}), re.compile(r"^/v1/(identify|track)$")),
    ("visitor", frozenset({"POST"}), re.compile(r"^/v1/visitor/[a-z]+$")),
    ("survey", frozenset({"POST"}), re.compile(r"^/v1/surveys/answer$")),
    ("survey", frozenset({"GET"}), re.compile(r"^/s/[^/]+$")),
    ("help", frozenset({"GET"}), re.compile(r"^/help/[^/]+/search$")),
    ("help", frozenset({"POST"}), re.compile(r"^/help/[^/]+/articles/[^/]+/feedback$")),
    ("continuation", frozenset({"GET"}), re.compile(r"^/t/[^/]+/continue$")),
]


def client_address(conn: HTTPConnection | Scope) -> str:
    """The peer address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the client's)."""
    client = conn.client if isinstance(conn, HTTPConnection) else conn.get("client")
    return client[0] if client else "unknown"


def group_of(method: str, path: str) -> str | None:
    for group, methods, pattern in PUBLIC_ROUTES:
        if method in methods and pattern.match(path):
            return group
    return None


def rate_limits(conn: HTTPConnection) -> RateLimits:
    limits: RateLimits = conn.app.state.rate_limits
    return limits


class Throttle:
    """ASGI middleware: counts each call to a public route and answers 429 past the limit."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = group_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if group is not None:
            try:
                await self.limits.hit(group, client_address(scope))
            except RateLimited as exc:
                body = error_body(exc.code, exc.message, exc.data)
                await JSONResponse(body, 429, headers=retry_headers(exc))(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def login_attempt(conn: HTTPConnection, *, tenant: str, email: str) -> AsyncIterator[None]:
    """Around a login: refused while the account or address is locked out (RateLimited, code
    `login_locked`, before the password is checked); a failure counts towards the lockout."""
    limits = rate_limits(conn)
    address = client_address(conn)
    await limits.check_login(address, tenant, email)
    try:
        yield
    except AuthenticationRequired:
        await limits.login_failed(address, tenant, email)
        raise
