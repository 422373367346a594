"""People and integrations that act inside a tenant: users, their login sessions, API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from carepath.domain.clock import utcnow
from carepath.errors import InvalidInput
from carepath.ids import ApiTokenId, TenantId, UserId, new_id
from carepath.types import Role

MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """The canonical form used for matching: validated syntax, lower-cased."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid email address: {exc}", field="email") from exc
    return result.normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


@dataclass(eq=False)
class User:
    tenant_id: TenantId
    email: str
    display_name: str
    role: Role
    password_hash: str | None
    id: UserId = field(default_factory=lambda: UserId(new_id("user")))
    is_active: bool = True
    created_at: datetime = field(default_factory=utcnow)
    last_login_at: datetime | None = None


@dataclass(eq=False)
class LoginSession:
    """A browser login. `id` is the digest of the cookie's secret; the secret is never stored."""

    id: str
    tenant_id: TenantId
    user_id: UserId
    csrf_token: str
    expires_at: datetime
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def start(
        cls, *, key_digest: str, user: User, csrf_token: str, max_age: timedelta
    ) -> LoginSession:
        now = utcnow()
        return cls(
            id=key_digest,
            tenant_id=user.tenant_id,
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + max_age,
        )

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(eq=False)
class ApiToken:
    """A per-tenant credential for integrations. Only the digest of its secret is kept."""

    tenant_id: TenantId
    name: str
    role: Role
    secret_digest: str
    id: ApiTokenId = field(default_factory=lambda: ApiTokenId(new_id("api_token")))
    created_by: UserId | None = None
    created_at: datetime = field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
