"""Users of a tenant: create, change role or name, deactivate, set a password."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy.exc import IntegrityError

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry, User, normalize_email
from carepath.domain.users import check_password_strength
from carepath.errors import Conflict, InvalidInput
from carepath.security import hash_password
from carepath.storage import Database
from carepath.types import Role


async def do_create_user(
    db: Database,
    actor: Principal,
    *,
    email: str,
    display_name: str,
    role: Role,
    password: str | None,
) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    email = normalize_email(email)
    display_name = display_name.strip()
    if not display_name:
        raise InvalidInput("a user needs a display name", field="display_name")
    password_hash = None
    if password is not None:
        check_password_strength(password)
        # argon2 is deliberately slow: keep it off the event loop.
        password_hash = await to_thread.run_sync(hash_password, password)
    user = User(
        tenant_id=actor.tenant_id,
        email=email,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
    )
    try:
        async with db.uow() as uow:
            if await uow.users.by_email(actor.tenant_id, email):
                raise _duplicate(email)
            uow.users.add(user)
            await uow.audit.record(
                _audit(actor, "user.created", user, email=email, role=role.value)
            )
    except IntegrityError as exc:
        raise _duplicate(email) from exc
    return user


@dataclass(frozen=True)
class UserChanges:
    display_name: str | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = None


async def do_update_user(
    db: Database, actor: Principal, user_id: str, changes: UserChanges
) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    if _locks_self_out(actor, user_id, changes):
        raise InvalidInput(
            "you cannot remove your own admin role or deactivate yourself; ask another admin",
            field="role",
        )
    password_hash = None
    if changes.password is not None:
        check_password_strength(changes.password)
        password_hash = await to_thread.run_sync(hash_password, changes.password)
    async with db.uow() as uow:
        user = scoped(actor, await uow.users.get(actor.tenant_id, user_id), "user")
        changed: dict[str, object] = {}
        if changes.display_name is not None and changes.display_name.strip():
            user.display_name = changed["display_name"] = changes.display_name.strip()
        if changes.role is not None and changes.role != user.role:
            user.role = changes.role
            changed["role"] = changes.role.value
        if changes.is_active is not None and changes.is_active != user.is_active:
            user.is_active = changed["is_active"] = changes.is_active
        if password_hash is not None:
            user.password_hash = password_hash
            changed["password"] = "changed"  # noqa: S105 - an audit marker, not the password
        if changed.get("is_active") is False or "password" in changed or "role" in changed:
            # Existing logins must not outlive a demotion, a deactivation or a password change.
            await uow.login_sessions.delete_for_user(actor.tenant_id, user.id)
        if changed:
            await uow.audit.record(_audit(actor, "user.updated", user, **changed))
    return user


def _locks_self_out(actor: Principal, user_id: str, changes: UserChanges) -> bool:
    """An admin demoting or deactivating themselves could leave a tenant with no admin at all."""
    if actor.user_id != user_id:
        return False
    return (changes.role is not None and changes.role != Role.ADMIN) or changes.is_active is False


def _duplicate(email: str) -> Conflict:
    return Conflict(f"a user with email {email} already exists in this tenant", field="email")


def _audit(actor: Principal, action: str, user: User, **data: object) -> AuditEntry:
    return AuditEntry(
        tenant_id=actor.tenant_id, actor=actor.actor, action=action, subject=user.id, data=data
    )
