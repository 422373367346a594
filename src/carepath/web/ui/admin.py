"""Admin pages of the console: users and roles, agents' skills and capacity, channel accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from carepath.access import Permission, authorize
from carepath.actions import UserChanges, do_update_user
from carepath.actions.channels import do_set_channel_account_active
from carepath.types import Role
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other

router = APIRouter(prefix="/app/supervisor", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@router.get("/users")
async def users_page(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    authorize(viewer.principal, Permission.READ_USERS)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        users = (await uow.users.list(tenant_id, limit=200, cursor=None)).items
        profiles = {p.user_id: p for p in await uow.agents.all(tenant_id)}
    context = {
        "viewer": viewer,
        "users": users,
        "profiles": profiles,
        "roles": list(Role),
        "may_manage": viewer.can(Permission.MANAGE_USERS),
    }
    return render(request, "ui/users.html", context)


@router.post("/users/{user_id}")
async def update_user(
    user_id: str,
    db: DB,
    viewer: CurrentViewer,
    role: Annotated[Role, Form()],
    active: Annotated[bool, Form()] = False,
) -> Response:
    changes = UserChanges(role=role, is_active=active)
    await do_update_user(db, viewer.principal, user_id, changes)
    return see_other("/app/supervisor/users")


@router.get("/channels")
async def channels_page(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    authorize(viewer.principal, Permission.MANAGE_CHANNELS)
    async with db.uow(write=False) as uow:
        page = await uow.channel_accounts.list(viewer.principal.tenant_id, limit=200, cursor=None)
    context = {"viewer": viewer, "accounts": page.items}
    return render(request, "ui/channels.html", context)


@router.post("/channels/{account_id}")
async def set_channel_active(
    account_id: str,
    db: DB,
    viewer: CurrentViewer,
    active: Annotated[bool, Form()] = False,
) -> Response:
    await do_set_channel_account_active(db, viewer.principal, account_id, active=active)
    return see_other("/app/supervisor/channels")
