"""Public identify and track: the tenant's site and app (with its public key) and its backend
(with an API token) tell carepath who a customer is and what they did.

The verification rules are in carepath.actions.claims.do_identify_claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from carepath.access import Permission, authorize
from carepath.actions import Claims, do_identify_claims, do_track_claims
from carepath.actions.identify import TrackedEvent
from carepath.domain.tenants import Tenant
from carepath.errors import AuthenticationRequired, NotFound
from carepath.web.deps import DB, authenticate
from carepath.web.schemas_customers import (
    IdentifyIn,
    IdentifyOut,
    IdentityRefOut,
    TrackIn,
    TrackOut,
)

router = APIRouter(prefix="/v1", tags=["identify"])

KEY_HEADER = "X-Carepath-Key"
PUBLIC_PATHS = frozenset({"/v1/identify", "/v1/track"})
_MAX_KEY_LENGTH = 100


@dataclass(frozen=True)
class SiteCaller:
    tenant: Tenant
    # A backend with an API token is trusted; a browser or app with the public key is not.
    trusted: bool


async def site_caller(
    request: Request,
    db: DB,
    key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            description="The tenant's public key (pk_…), from a browser or app. A backend "
            "sends `Authorization: Bearer <api token>` instead.",
        ),
    ] = None,
) -> SiteCaller:
    has_token = bool(request.headers.get("authorization"))
    if key is not None and has_token:
        raise AuthenticationRequired(
            f"send {KEY_HEADER} (a browser or app) or an API token (your backend), not both"
        )
    if key is not None:
        tenant = None
        if len(key) <= _MAX_KEY_LENGTH:
            async with db.uow(write=False) as uow:
                tenant = await uow.tenants.by_public_key(key.strip())
        if tenant is None:
            raise AuthenticationRequired(
                f"unknown {KEY_HEADER}: use your tenant's public key (pk_…)", header=KEY_HEADER
            )
        return SiteCaller(tenant, trusted=False)
    if not has_token:
        # A session cookie is not enough: the widget runs in pages a logged-in agent may open.
        raise AuthenticationRequired(
            f"send {KEY_HEADER}: pk_… (a browser or app) or "
            "Authorization: Bearer <api token> (your backend)"
        )
    principal = await authenticate(request)
    authorize(principal, Permission.UPDATE_CUSTOMERS)
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.get(principal.tenant_id)
    if tenant is None:  # deleted while the caller still held a credential
        raise NotFound("tenant not found", kind="tenant")
    return SiteCaller(tenant, trusted=True)


Site = Annotated[SiteCaller, Depends(site_caller)]


@router.post("/identify", summary="Say who a visitor or user is", response_model=IdentifyOut)
async def identify(body: IdentifyIn, caller: Site, db: DB) -> IdentifyOut:
    claims = Claims(
        user_id=body.user_id,
        hash=body.hash,
        visitor_id=body.visitor_id,
        email=body.email,
        phone=body.phone,
        traits=body.all_traits(),
    )
    result = await do_identify_claims(db, caller.tenant, claims, trusted=caller.trusted)
    # A browser is not told which identities exist or whom they belong to.
    linked = [IdentityRefOut.of(r) for r in result.linked] if caller.trusted else None
    conflicts = [IdentityRefOut.of(r) for r in result.conflicts] if caller.trusted else None
    return IdentifyOut(
        customer_id=result.customer.id,
        verified=result.verified,
        linked=linked,
        conflicts=conflicts,
        ignored=result.ignored,
    )


@router.post(
    "/track",
    status_code=202,
    summary="Record journey events (at most 100 at once)",
    response_model=TrackOut,
)
async def track(body: TrackIn, caller: Site, db: DB) -> TrackOut:
    batch = [
        TrackedEvent(
            type=event.type,
            name=event.name,
            channel=event.channel,
            occurred_at=event.occurred_at,
            properties=event.properties,
        )
        for event in body.events
    ]
    recorded = await do_track_claims(
        db,
        caller.tenant,
        batch,
        visitor_id=body.visitor_id,
        user_id=body.user_id,
        hash=body.hash,
        trusted=caller.trusted,
    )
    return TrackOut(accepted=len(recorded), ids=[event.id for event in recorded])


class PublicCors:
    """CORS for the public endpoints only: any site may call them with its public key.

    No credentials and no Authorization header cross origins, so an API token or a session
    cookie can never be used from another site's page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["POST"],
            allow_headers=["Content-Type", KEY_HEADER],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PUBLIC_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
