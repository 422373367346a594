"""Logging in and out of the web UI: server-side sessions behind a signed cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from anyio import to_thread

from carepath.actions.agents import sign_off
from carepath.domain import LoginSession, User, normalize_email
from carepath.domain.clock import utcnow
from carepath.errors import AuthenticationRequired, InvalidInput
from carepath.security import (
    digest,
    hash_password,
    new_secret,
    password_needs_rehash,
    verify_password,
)
from carepath.storage import Database

# One message for every failure, so a login form cannot be used to discover accounts or tenants.
LOGIN_FAILED = "wrong tenant, email or password"


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_key: str  # goes into the signed cookie; only its digest is stored
    csrf_token: str


async def do_login(
    db: Database,
    *,
    tenant_slug: str,
    email: str,
    password: str,
    max_age: timedelta,
    replaces: str | None = None,
) -> LoginResult:
    """A new session for the user. `replaces` is the digest of the session the browser came
    with: it ends with this login, so a session planted before it (fixation) or the previous
    user's never lives on beside the new one."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = ""
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(tenant_slug)
        user = await uow.users.by_email(tenant.id, email) if tenant and email else None
    stored_hash = user.password_hash if user and user.is_active else None
    # Always verify (against a dummy hash when there is no user) so timing reveals nothing.
    if not await to_thread.run_sync(verify_password, stored_hash, password) or user is None:
        raise AuthenticationRequired(LOGIN_FAILED)
    rehashed = None
    if stored_hash and password_needs_rehash(stored_hash):
        rehashed = await to_thread.run_sync(hash_password, password)
    session_key = new_secret()
    csrf_token = new_secret(24)
    now = utcnow()
    async with db.uow() as uow:
        current = await uow.users.get(user.tenant_id, user.id)
        if current is None or not current.is_active:
            raise AuthenticationRequired(LOGIN_FAILED)
        current.last_login_at = now
        if rehashed:
            current.password_hash = rehashed
        uow.login_sessions.add(
            LoginSession.start(
                key_digest=digest(session_key), user=current, csrf_token=csrf_token, max_age=max_age
            )
        )
        if replaces:
            await uow.login_sessions.delete(replaces)
        await uow.login_sessions.delete_expired(now)
    return LoginResult(user=current, session_key=session_key, csrf_token=csrf_token)


async def do_logout(db: Database, session_digest: str) -> None:
    """End a browser session; an agent whose last session it was goes offline."""
    async with db.uow() as uow:
        session = await uow.login_sessions.get(session_digest)
        await uow.login_sessions.delete(session_digest)
        if session is not None:
            await sign_off(uow, session.tenant_id, session.user_id, utcnow())
