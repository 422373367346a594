"""Login and logout for the web UI, and `me` for any caller."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from carepath.actions import do_login, do_logout
from carepath.authn import SESSION_COOKIE
from carepath.errors import NotFound
from carepath.web.cookies import presented_session, set_session_cookie
from carepath.web.deps import DB, AppSettings, CurrentPrincipal
from carepath.web.schemas import LoginIn, MeOut, SessionOut, TenantOut, UserOut
from carepath.web.throttle import login_attempt

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/login", summary="Log in; sets the session cookie", response_model=SessionOut)
async def login(
    body: LoginIn, request: Request, response: Response, db: DB, settings: AppSettings
) -> SessionOut:
    max_age = timedelta(seconds=settings.session_max_age_s)
    async with login_attempt(request, tenant=body.tenant, email=body.email):
        result = await do_login(
            db,
            tenant_slug=body.tenant,
            email=body.email,
            password=body.password,
            max_age=max_age,
            replaces=presented_session(request),
        )
    set_session_cookie(response, request, result.session_key)
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.get(result.user.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return SessionOut(
        user=UserOut.of(result.user), tenant=TenantOut.of(tenant), csrf_token=result.csrf_token
    )


@router.post("/logout", status_code=204, summary="End this browser session")
async def logout(principal: CurrentPrincipal, request: Request, response: Response, db: DB) -> None:
    session_digest = getattr(request.state, "session_digest", None)
    if session_digest:
        await do_logout(db, session_digest)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", summary="Who the caller is", response_model=MeOut)
async def me(principal: CurrentPrincipal, db: DB) -> MeOut:
    user = None
    if principal.user_id:
        async with db.uow(write=False) as uow:
            found = await uow.users.get(principal.tenant_id, principal.user_id)
        user = UserOut.of(found) if found else None
    return MeOut(
        tenant_id=principal.tenant_id,
        role=principal.role,
        user=user,
        api_token_id=principal.token_id,
    )
