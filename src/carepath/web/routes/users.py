"""Users of the caller's tenant."""

from __future__ import annotations

from fastapi import APIRouter

from carepath.access import Permission, authorize, scoped
from carepath.actions import UserChanges, do_create_user, do_update_user
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut, UserCreateIn, UserOut, UserUpdateIn

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.get("", summary="List users", response_model=PageOut[UserOut])
async def list_users(
    principal: CurrentPrincipal, db: DB, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[UserOut]:
    authorize(principal, Permission.READ_USERS)
    async with db.uow(write=False) as uow:
        page = await uow.users.list(principal.tenant_id, limit=limit, cursor=cursor)
    return PageOut[UserOut](items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.post("", status_code=201, summary="Create a user (admin)", response_model=UserOut)
async def create_user(body: UserCreateIn, principal: CurrentPrincipal, db: DB) -> UserOut:
    user = await do_create_user(
        db,
        principal,
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
    )
    return UserOut.of(user)


@router.get("/{user_id}", summary="Read a user", response_model=UserOut)
async def get_user(user_id: str, principal: CurrentPrincipal, db: DB) -> UserOut:
    # Everyone may read themselves; reading others needs READ_USERS.
    if user_id != principal.user_id:
        authorize(principal, Permission.READ_USERS)
    async with db.uow(write=False) as uow:
        user = scoped(principal, await uow.users.get(principal.tenant_id, user_id), "user")
    return UserOut.of(user)


@router.patch("/{user_id}", summary="Change a user (admin)", response_model=UserOut)
async def update_user(
    user_id: str, body: UserUpdateIn, principal: CurrentPrincipal, db: DB
) -> UserOut:
    changes = UserChanges(
        display_name=body.display_name,
        role=body.role,
        is_active=body.is_active,
        password=body.password,
    )
    return UserOut.of(await do_update_user(db, principal, user_id, changes))
