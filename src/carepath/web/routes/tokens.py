"""API tokens of the caller's tenant (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from carepath.access import Permission, authorize, scoped
from carepath.actions import do_create_api_token, do_revoke_api_token
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut, TokenCreatedOut, TokenCreateIn, TokenOut

router = APIRouter(prefix="/v1/tokens", tags=["api tokens"])


@router.get("", summary="List API tokens", response_model=PageOut[TokenOut])
async def list_tokens(
    principal: CurrentPrincipal, db: DB, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[TokenOut]:
    authorize(principal, Permission.MANAGE_TOKENS)
    async with db.uow(write=False) as uow:
        page = await uow.api_tokens.list(principal.tenant_id, limit=limit, cursor=cursor)
    return PageOut[TokenOut](
        items=[TokenOut.of(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    status_code=201,
    summary="Create an API token; the secret is shown once",
    response_model=TokenCreatedOut,
)
async def create_token(body: TokenCreateIn, principal: CurrentPrincipal, db: DB) -> TokenCreatedOut:
    created = await do_create_api_token(db, principal, name=body.name, role=body.role)
    return TokenCreatedOut(**TokenOut.of(created.token).model_dump(), token=created.plaintext)


@router.get("/{token_id}", summary="Read an API token (never its secret)", response_model=TokenOut)
async def get_token(token_id: str, principal: CurrentPrincipal, db: DB) -> TokenOut:
    authorize(principal, Permission.MANAGE_TOKENS)
    async with db.uow(write=False) as uow:
        token = scoped(
            principal, await uow.api_tokens.get(principal.tenant_id, token_id), "api token"
        )
    return TokenOut.of(token)


@router.delete("/{token_id}", summary="Revoke an API token", response_model=TokenOut)
async def revoke_token(token_id: str, principal: CurrentPrincipal, db: DB) -> TokenOut:
    return TokenOut.of(await do_revoke_api_token(db, principal, token_id))
