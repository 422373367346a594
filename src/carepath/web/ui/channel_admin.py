"""Channel accounts in the console (admins, as in the API): add, edit, turn on or off. Every
change goes through the same actions and checks as `POST /v1/channels`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.channels import (
    do_create_channel_account,
    do_set_channel_account_active,
    do_update_channel_account,
)
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.web.deps import DB, get_state
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other

router = APIRouter(prefix="/app/supervisor/channels", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
Name = Annotated[str, Form(min_length=1, max_length=200)]
Address = Annotated[str, Form(min_length=1, max_length=320)]
Config = Annotated[str, Form(max_length=16_000)]
Secrets = Annotated[str, Form(max_length=16_000)]
PAGE = "/app/supervisor/channels"


def parse_config(text: str) -> dict[str, Any]:
    """Non-secret settings as a JSON object (blank: none)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"settings are not valid JSON: {exc.msg}", field="config") from exc
    if not isinstance(value, dict):
        raise InvalidInput('settings are a JSON object, e.g. {"from": "..."}', field="config")
    return value


def parse_secrets(text: str) -> dict[str, str]:
    """One `name=value` per line; the values are sealed and never shown again."""
    secrets: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"line {number}: write name=value", field="secrets")
        secrets[name.strip()] = value.strip()
    return secrets


@router.get("")
async def channels_page(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    authorize(viewer.principal, Permission.MANAGE_CHANNELS)
    async with db.uow(write=False) as uow:
        page = await uow.channel_accounts.list(viewer.principal.tenant_id, limit=200, cursor=None)
    context = {
        "viewer": viewer,
        "accounts": page.items,
        "channels": [c for c in Channel if c.is_conversational],
        "json": json.dumps,
    }
    return render(request, "ui/channels.html", context)


@router.post("")
async def create_account(
    request: Request,
    db: DB,
    viewer: CurrentViewer,
    channel: Annotated[Channel, Form()],
    name: Name,
    address: Address,
    config: Config = "",
    secrets: Secrets = "",
) -> Response:
    await do_create_channel_account(
        db,
        viewer.principal,
        get_state(request).secret_box,
        channel=channel,
        name=name,
        address=address,
        config=parse_config(config),
        secrets=parse_secrets(secrets),
    )
    return see_other(PAGE)


@router.post("/{account_id}/edit")
async def edit_account(
    account_id: str,
    request: Request,
    db: DB,
    viewer: CurrentViewer,
    name: Name,
    address: Address,
    config: Config = "",
    secrets: Secrets = "",
) -> Response:
    """Blank secrets keep the sealed ones; given ones replace those of the same name."""
    await do_update_channel_account(
        db,
        viewer.principal,
        get_state(request).secret_box,
        account_id,
        name=name,
        address=address,
        config=parse_config(config),
        secrets=parse_secrets(secrets) or None,
    )
    return see_other(PAGE)


@router.post("/{account_id}")
async def set_channel_active(
    account_id: str,
    db: DB,
    viewer: CurrentViewer,
    active: Annotated[bool, Form()] = False,
) -> Response:
    await do_set_channel_account_active(db, viewer.principal, account_id, active=active)
    return see_other(PAGE)
