"""FastAPI dependencies and their aliases: the database, settings, and who is calling."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request
from starlette.requests import HTTPConnection

from carepath.access import Principal
from carepath.actions import do_record_token_use
from carepath.authn import (
    CSRF_HEADER,
    SESSION_COOKIE,
    authenticate_api_token,
    authenticate_session,
)
from carepath.errors import AuthenticationRequired, PermissionDenied
from carepath.security import same
from carepath.settings import Settings
from carepath.storage import Database
from carepath.web.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.carepath
    return state


def get_db(request: Request) -> Database:
    return get_state(request).db


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


async def authenticate(request: Request) -> Principal:
    """Bearer API token first (integrations), then the session cookie (the web UI)."""
    return await authenticate_connection(request, method=request.method)


async def authenticate_connection(conn: HTTPConnection, *, method: str) -> Principal:
    """For HTTP requests and WebSockets alike; `method` decides whether CSRF proof is needed."""
    state = get_state(conn)
    header = conn.headers.get("authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationRequired("use the header `Authorization: Bearer <api token>`")
        principal = await authenticate_api_token(state.db, credentials.strip())
        assert principal.token_id is not None
        await do_record_token_use(state.db, principal.tenant_id, principal.token_id)
        return principal
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationRequired("log in, or send an API token")
    auth = await authenticate_session(
        state.db,
        cookie,
        signer=state.session_signer,
        max_age=timedelta(seconds=state.settings.session_max_age_s),
    )
    # A cookie is sent by the browser on its own; a header proves the page itself made the call.
    if method == "WEBSOCKET":
        # Browsers send cookies on cross-site WebSocket handshakes and no CSRF header can be
        # set there: the Origin must be this site itself.
        origin = conn.headers.get("origin")
        if origin and urlsplit(origin).netloc != conn.headers.get("host"):
            raise PermissionDenied("cross-site WebSocket refused", reason="origin")
    elif method not in SAFE_METHODS and not same(
        conn.headers.get(CSRF_HEADER, ""), auth.csrf_token
    ):
        raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header", reason="csrf")
    conn.state.session_digest = auth.session_digest
    return auth.principal


DB = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
