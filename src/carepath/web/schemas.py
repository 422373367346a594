"""Request and response bodies of the REST API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carepath.domain import ApiToken, AuditEntry, Tenant, User
from carepath.domain.outbox import OutboxItem, OutboxStatus
from carepath.domain.webhooks import WebhookEndpoint
from carepath.types import Role
from carepath.web.nul import NUL_MESSAGE, has_nul

T = TypeVar("T")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL refuses NUL in text: refused here, the same on every database.
        if has_nul(data):
            raise ValueError(NUL_MESSAGE)
        return data


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class LoginIn(Request):
    tenant: str = Field(min_length=1, max_length=40, description="The tenant's slug.")
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TenantOut(BaseModel):
    id: str
    slug: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(id=tenant.id, slug=tenant.slug, name=tenant.name, created_at=tenant.created_at)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class SessionOut(BaseModel):
    user: UserOut
    tenant: TenantOut
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on every non-GET request of this session."
    )


class MeOut(BaseModel):
    tenant_id: str
    role: Role
    user: UserOut | None
    api_token_id: str | None


class UserCreateIn(Request):
    email: str = Field(min_length=3, max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class UserUpdateIn(Request):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class TokenCreateIn(Request):
    name: str = Field(min_length=1, max_length=200, description="What uses this token.")
    role: Role


class TokenOut(BaseModel):
    id: str
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            role=token.role,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret. Shown once: store it now.")


class AuditOut(BaseModel):
    id: str
    actor: str
    action: str
    subject: str
    data: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(
            id=entry.id,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            data=entry.data,
            at=entry.at,
        )


class WebhookCreateIn(Request):
    url: str = Field(
        min_length=1, max_length=2000, description="Absolute http(s) URL; redirects not followed."
    )
    event_types: list[str] = Field(
        min_length=1, max_length=100, description='Event types to send, or ["*"] for all.'
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=endpoint.event_types,
            active=endpoint.active,
            created_at=endpoint.created_at,
        )


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="Verifies the X-Carepath-Signature header of each delivery (HMAC-SHA256)."
    )

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookWithSecretOut:
        return cls(**WebhookOut.of(endpoint).model_dump(), secret=endpoint.secret)


class DeliveryOut(BaseModel):
    id: str
    event_id: int | None = Field(description="The event's seq (the X-Carepath-Event-Id header).")
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    last_error: str | None
    created_at: datetime
    done_at: datetime | None

    @classmethod
    def of(cls, item: OutboxItem) -> DeliveryOut:
        seq = item.payload.get("seq")
        return cls(
            id=item.id,
            event_id=seq if isinstance(seq, int) else None,
            status=item.status,
            attempts=item.attempts,
            next_attempt_at=item.available_at if item.status == OutboxStatus.PENDING else None,
            last_error=item.last_error,
            created_at=item.created_at,
            done_at=item.done_at,
        )
