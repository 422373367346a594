"""Authentication: turn a session cookie or an API token into a Principal.

Reads only; the bookkeeping writes (token last use) go through actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, TimestampSigner

from carepath.access import Principal
from carepath.domain.clock import utcnow
from carepath.errors import AuthenticationRequired
from carepath.ids import ApiTokenId
from carepath.security import digest, same
from carepath.storage import Database

SESSION_COOKIE = "carepath_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_SEPARATOR = "."  # noqa: S105 - a separator, not a secret
_SESSION_SALT = "carepath.session"


def session_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=_SESSION_SALT)


def format_api_token(token_id: str, secret: str) -> str:
    return f"{token_id}{TOKEN_SEPARATOR}{secret}"


@dataclass(frozen=True)
class SessionAuth:
    principal: Principal
    csrf_token: str
    session_digest: str


def session_digest_of(cookie: str | None, *, signer: TimestampSigner) -> str | None:
    """The stored digest of the session in a cookie this server signed, however old; None for
    no cookie or a forged one."""
    if not cookie:
        return None
    try:
        return digest(signer.unsign(cookie).decode())
    except (BadSignature, UnicodeDecodeError):
        return None


async def authenticate_session(
    db: Database, cookie: str, *, signer: TimestampSigner, max_age: timedelta
) -> SessionAuth:
    try:
        key = signer.unsign(cookie, max_age=int(max_age.total_seconds())).decode()
    except BadSignature as exc:
        raise AuthenticationRequired(
            "your session has expired or is invalid; log in again"
        ) from exc
    key_digest = digest(key)
    async with db.uow(write=False) as uow:
        session = await uow.login_sessions.get(key_digest)
        user = await uow.users.get(session.tenant_id, session.user_id) if session else None
    if session is None or user is None or not user.is_active or session.is_expired(utcnow()):
        raise AuthenticationRequired("your session has expired or is invalid; log in again")
    principal = Principal(tenant_id=user.tenant_id, role=user.role, user_id=user.id)
    return SessionAuth(
        principal=principal, csrf_token=session.csrf_token, session_digest=key_digest
    )


async def authenticate_api_token(db: Database, raw: str) -> Principal:
    token_id, _, secret = raw.partition(TOKEN_SEPARATOR)
    if not token_id or not secret:
        raise AuthenticationRequired("the API token is malformed; expected tok_….SECRET")
    async with db.uow(write=False) as uow:
        token = await uow.api_tokens.by_id_unscoped(ApiTokenId(token_id))
    if token is None or not token.is_active or not same(token.secret_digest, digest(secret)):
        raise AuthenticationRequired("the API token is unknown or revoked")
    return Principal(tenant_id=token.tenant_id, role=token.role, token_id=token.id)
