"""API tokens: created by admins, shown once, stored as a digest, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from carepath.access import Permission, Principal, authorize, scoped
from carepath.authn import format_api_token
from carepath.domain import ApiToken, AuditEntry
from carepath.domain.clock import utcnow
from carepath.errors import InvalidInput
from carepath.ids import ApiTokenId, TenantId
from carepath.security import digest, new_secret
from carepath.storage import Database
from carepath.types import Role

# Recording every use would turn each API read into a write; once a minute is plenty for admins.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    plaintext: str  # shown to the caller once, never stored


async def do_create_api_token(
    db: Database, actor: Principal, *, name: str, role: Role
) -> CreatedToken:
    authorize(actor, Permission.MANAGE_TOKENS)
    name = name.strip()
    if not name:
        raise InvalidInput("a token needs a name that says what uses it", field="name")
    secret = new_secret()
    token = ApiToken(
        tenant_id=actor.tenant_id,
        name=name,
        role=role,
        secret_digest=digest(secret),
        created_by=actor.user_id,
    )
    async with db.uow() as uow:
        uow.api_tokens.add(token)
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="api_token.created",
                subject=token.id,
                data={"name": name, "role": role.value},
            )
        )
    return CreatedToken(token=token, plaintext=format_api_token(token.id, secret))


async def do_revoke_api_token(db: Database, actor: Principal, token_id: str) -> ApiToken:
    authorize(actor, Permission.MANAGE_TOKENS)
    async with db.uow() as uow:
        token = scoped(actor, await uow.api_tokens.get(actor.tenant_id, token_id), "api token")
        if token.is_active:
            token.revoke(utcnow())
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="api_token.revoked",
                    subject=token.id,
                    data={"name": token.name},
                )
            )
    return token


async def do_record_token_use(db: Database, tenant_id: TenantId, token_id: ApiTokenId) -> None:
    now = utcnow()
    async with db.uow() as uow:
        token = await uow.api_tokens.get(tenant_id, token_id)
        if token and (
            token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
        ):
            token.last_used_at = now
