"""Admin pages of the console: users and roles (add, rename, change role, disable) and agents'
skills with proficiency and capacity per channel kind, through the same actions as the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from carepath.access import Permission, authorize
from carepath.actions import UserChanges, do_update_user
from carepath.actions.agents import do_set_agent_profile
from carepath.actions.tenant_config import current_config
from carepath.actions.users import do_create_user
from carepath.errors import InvalidInput
from carepath.routing.model import ChannelKind
from carepath.routing.records import DEFAULT_CAPACITY
from carepath.types import Role
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other

router = APIRouter(prefix="/app/supervisor", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
PAGE = "/app/supervisor/users"
SKILL = "skill."
CAPACITY = "capacity."


@router.get("/users")
async def users_page(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    authorize(viewer.principal, Permission.READ_USERS)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        users = (await uow.users.list(tenant_id, limit=200, cursor=None)).items
        profiles = {p.user_id: p for p in await uow.agents.all(tenant_id)}
        config = await current_config(uow, tenant_id)
    held = {name for p in profiles.values() for name in p.skills}
    context = {
        "viewer": viewer,
        "users": users,
        "profiles": profiles,
        "roles": list(Role),
        # Declared skills first, then any an agent holds that the file no longer declares.
        "skills": [*config.skills, *sorted(held - set(config.skills))],
        "kinds": [k.value for k in ChannelKind],
        "default_capacity": DEFAULT_CAPACITY,
        "may_manage": viewer.can(Permission.MANAGE_USERS),
        "may_set_profiles": viewer.can(Permission.MANAGE_AGENTS),
    }
    return render(request, "ui/users.html", context)


@router.post("/users")
async def create_user(
    db: DB,
    viewer: CurrentViewer,
    email: Annotated[str, Form(min_length=3, max_length=320)],
    display_name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """No password: the user cannot log in to the workspace until one is set."""
    await do_create_user(
        db,
        viewer.principal,
        email=email,
        display_name=display_name,
        role=role,
        password=password or None,
    )
    return see_other(PAGE)


@router.post("/users/{user_id}")
async def update_user(
    user_id: str,
    db: DB,
    viewer: CurrentViewer,
    role: Annotated[Role, Form()],
    active: Annotated[bool, Form()] = False,
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    changes = UserChanges(display_name=display_name or None, role=role, is_active=active)
    await do_update_user(db, viewer.principal, user_id, changes)
    return see_other(PAGE)


@router.post("/users/{user_id}/profile")
async def set_profile(user_id: str, request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """Proficiency 1-5 per skill (blank or 0: not held) and slots per channel kind."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    skills = {
        name.removeprefix(SKILL): level
        for name, level in _numbers(form, SKILL).items()
        if level != 0
    }
    capacity = {kind.removeprefix(CAPACITY): n for kind, n in _numbers(form, CAPACITY).items()}
    total = _numbers(form, "total_capacity").get("total_capacity")
    await do_set_agent_profile(
        db, viewer.principal, user_id, skills=skills, capacity=capacity, total_capacity=total
    )
    return see_other(PAGE)


def _numbers(form: Mapping[str, str], prefix: str) -> dict[str, int]:
    found = {}
    for name, value in form.items():
        if not name.startswith(prefix) or not value.strip():
            continue
        try:
            found[name] = int(value)
        except ValueError as exc:
            raise InvalidInput(f"{name} is a whole number, not {value!r}", field=name) from exc
    return found
