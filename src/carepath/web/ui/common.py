"""What every UI page shares: the viewer, CSRF proof on posts, templates, errors as pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from carepath.access import Permission, Principal, can
from carepath.authn import CSRF_HEADER, SESSION_COOKIE, authenticate_session
from carepath.domain import User
from carepath.domain.clock import utcnow
from carepath.errors import AuthenticationRequired, CarepathError, PermissionDenied
from carepath.security import same
from carepath.web.deps import SAFE_METHODS, get_state
from carepath.web.errors import status_for

CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/app/login"


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a UI page, with the CSRF token their forms carry."""

    principal: Principal
    user: User
    csrf_token: str

    def can(self, permission: Permission) -> bool:
        return can(self.principal, permission)


async def current_viewer(request: Request) -> Viewer:
    """The session's user; on a post, the CSRF token from the header (htmx, fetch) or the form."""
    state = get_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationRequired("log in")
    auth = await authenticate_session(
        state.db,
        cookie,
        signer=state.session_signer,
        max_age=timedelta(seconds=state.settings.session_max_age_s),
    )
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            sent = str((await request.form()).get(CSRF_FIELD) or "")
        if not same(sent, auth.csrf_token):
            raise PermissionDenied("the form is stale or was not sent by this page", reason="csrf")
    async with state.db.uow(write=False) as uow:
        user = await uow.users.get(auth.principal.tenant_id, auth.principal.user_id or "")
    if user is None:
        raise AuthenticationRequired("log in")
    request.state.session_digest = auth.session_digest
    return Viewer(principal=auth.principal, user=user, csrf_token=auth.csrf_token)


@functools.cache
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("carepath.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["ago"] = ago
    env.filters["clock"] = clock
    return env


def render(
    request: Request, name: str, context: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    body = templates().get_template(name).render(request=request, now=utcnow(), **context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get: a reload never posts the form twice."""
    return RedirectResponse(url, status_code=303)


def ago(then: datetime | None) -> str:
    if then is None:
        return ""
    seconds = max(0, int((utcnow() - then).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d"


def clock(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M")


class UiRoute(APIRoute):
    """Errors of UI pages become pages (or a redirect to the login), not the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationRequired:
                target = f"{LOGIN_PATH}?next={quote(request.url.path)}"
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": target})
                if request.method in SAFE_METHODS:
                    return see_other(target)
                return see_other(LOGIN_PATH)
            except CarepathError as exc:
                status = status_for(exc)
                return render(request, "ui/error.html", {"error": exc}, status=status)

        return handle
