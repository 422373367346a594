"""The workspace's login and logout pages."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from carepath.actions import do_login, do_logout
from carepath.authn import SESSION_COOKIE
from carepath.errors import AuthenticationRequired, PermissionDenied, RateLimited
from carepath.security import same
from carepath.web.cookies import presented_session, set_session_cookie
from carepath.web.deps import DB, AppSettings
from carepath.web.errors import retry_headers, status_for
from carepath.web.throttle import login_attempt
from carepath.web.ui.common import (
    CSRF_FIELD,
    LOGIN_PATH,
    UiRoute,
    Viewer,
    current_viewer,
    render,
    see_other,
)

router = APIRouter(prefix="/app", route_class=UiRoute, include_in_schema=False)
# Before login there is no session to hold a CSRF token: a cookie and the form must agree
# (double submit), so another site cannot sign a browser into an account of its choosing.
LOGIN_CSRF_COOKIE = "carepath_login_csrf"


def safe_next(target: str | None) -> str:
    """Only pages of the workspace itself: never an open redirect."""
    if target and target.startswith("/app") and not target.startswith("//"):
        return target
    return "/app"


@router.get("/login")
async def login_page(
    request: Request, settings: AppSettings, next: str | None = None, tenant: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "ui/login.html",
        {"csrf": token, "next": safe_next(next), "tenant": tenant, "error": None},
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path=LOGIN_PATH,
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    db: DB,
    settings: AppSettings,
    tenant: Annotated[str, Form(max_length=100)],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = "/app",
) -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")) or not csrf_token:
        raise PermissionDenied("the login form is stale; reload the page", reason="csrf")
    max_age = timedelta(seconds=settings.session_max_age_s)
    try:
        async with login_attempt(request, tenant=tenant, email=email):
            result = await do_login(
                db,
                tenant_slug=tenant,
                email=email,
                password=password,
                max_age=max_age,
                replaces=presented_session(request),
            )
    except (AuthenticationRequired, RateLimited) as exc:
        context = {"csrf": csrf_token, "next": safe_next(next), "tenant": tenant, "error": exc}
        context["email"] = email
        status = status_for(exc)
        page = render(request, "ui/login.html", context, status=status)
        page.headers.update(retry_headers(exc))
        return page
    response = see_other(safe_next(next))
    set_session_cookie(response, request, result.session_key)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/logout")
async def logout(
    request: Request, db: DB, viewer: Annotated[Viewer, Depends(current_viewer)]
) -> Response:
    digest = getattr(request.state, "session_digest", None)
    if digest:
        await do_logout(db, digest)
    response = see_other(LOGIN_PATH)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
