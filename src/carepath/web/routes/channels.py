"""Channel accounts of the caller's tenant (admin): mailboxes, numbers, pages. Secrets go in and
never come out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from carepath.access import Permission, authorize, scoped
from carepath.actions.channels import (
    do_create_channel_account,
    do_set_channel_account_active,
    do_update_channel_account,
)
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit, get_state
from carepath.web.schemas import PageOut
from carepath.web.schemas import Request as RequestBody

router = APIRouter(prefix="/v1/channels", tags=["channels"])


class ChannelAccountIn(RequestBody):
    channel: Channel
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(
        min_length=1,
        max_length=320,
        description="Inbound email address, E.164 number or provider id.",
    )
    config: dict[str, Any] = Field(default_factory=dict, description="Non-secret settings.")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="Tokens and passwords; stored sealed, never returned."
    )


class ChannelAccountPatch(RequestBody):
    """Only the fields given change; secrets are merged into the sealed ones (a token rotated,
    the others kept)."""

    active: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=320)
    config: dict[str, Any] | None = Field(default=None, description="Replaces the settings.")
    secrets: dict[str, str] | None = Field(default=None, description="Merged; never returned.")


class ChannelAccountOut(BaseModel):
    id: str
    channel: Channel
    name: str
    address: str
    config: dict[str, Any]
    has_secrets: bool
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, account: ChannelAccount) -> ChannelAccountOut:
        return cls(
            id=account.id,
            channel=account.channel,
            name=account.name,
            address=account.address,
            config=account.config,
            has_secrets=bool(account.secrets_sealed),
            active=account.active,
            created_at=account.created_at,
        )


@router.get("", summary="List channel accounts")
async def list_accounts(
    principal: CurrentPrincipal, db: DB, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[ChannelAccountOut]:
    authorize(principal, Permission.MANAGE_CHANNELS)
    async with db.uow(write=False) as uow:
        page = await uow.channel_accounts.list(principal.tenant_id, limit=limit, cursor=cursor)
    return PageOut[ChannelAccountOut](
        items=[ChannelAccountOut.of(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, summary="Add a channel account")
async def create_account(
    body: ChannelAccountIn, principal: CurrentPrincipal, db: DB, request: Request
) -> ChannelAccountOut:
    account = await do_create_channel_account(
        db,
        principal,
        get_state(request).secret_box,
        channel=body.channel,
        name=body.name,
        address=body.address,
        config=body.config,
        secrets=body.secrets,
    )
    return ChannelAccountOut.of(account)


@router.get("/{account_id}", summary="Read a channel account (never its secrets)")
async def get_account(account_id: str, principal: CurrentPrincipal, db: DB) -> ChannelAccountOut:
    authorize(principal, Permission.MANAGE_CHANNELS)
    async with db.uow(write=False) as uow:
        account = scoped(
            principal,
            await uow.channel_accounts.get(principal.tenant_id, account_id),
            "channel account",
        )
    return ChannelAccountOut.of(account)


@router.patch("/{account_id}", summary="Edit a channel account or turn it on or off")
async def patch_account(
    account_id: str,
    body: ChannelAccountPatch,
    principal: CurrentPrincipal,
    db: DB,
    request: Request,
) -> ChannelAccountOut:
    account = await get_account(account_id, principal, db)
    edits = body.model_dump(exclude_unset=True, exclude={"active"})
    if edits:
        # Validated as on creation (the console's edit form uses the same action).
        updated = await do_update_channel_account(
            db,
            principal,
            get_state(request).secret_box,
            account_id,
            name=body.name or account.name,
            address=body.address or account.address,
            config=account.config if body.config is None else body.config,
            secrets=body.secrets,
        )
        account = ChannelAccountOut.of(updated)
    if body.active is not None and body.active != account.active:
        toggled = await do_set_channel_account_active(db, principal, account_id, active=body.active)
        account = ChannelAccountOut.of(toggled)
    return account
