"""Users, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from carepath.domain import ApiToken, LoginSession, User
from carepath.ids import ApiTokenId, TenantId, UserId
from carepath.storage.repositories.base import Page, Repository
from carepath.storage.tables import api_tokens, login_sessions, users


class UserRepository(Repository):
    async def get(self, tenant_id: TenantId, user_id: str) -> User | None:
        query = select(User).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        return (await self.session.scalars(query)).first()

    async def by_email(self, tenant_id: TenantId, email: str) -> User | None:
        query = select(User).where(users.c.tenant_id == tenant_id, users.c.email == email)
        return (await self.session.scalars(query)).first()

    async def list(self, tenant_id: TenantId, *, limit: int, cursor: str | None) -> Page[User]:
        query = select(User).where(users.c.tenant_id == tenant_id)
        return await self.page(query, users.c.id, limit=limit, cursor=cursor)


class LoginSessionRepository(Repository):
    async def get(self, key_digest: str) -> LoginSession | None:
        return await self.session.get(LoginSession, key_digest)

    async def delete(self, key_digest: str) -> None:
        await self.session.execute(delete(login_sessions).where(login_sessions.c.id == key_digest))

    async def delete_for_user(self, tenant_id: TenantId, user_id: UserId) -> None:
        await self.session.execute(
            delete(login_sessions).where(
                login_sessions.c.tenant_id == tenant_id, login_sessions.c.user_id == user_id
            )
        )

    async def live_count_for_user(self, tenant_id: TenantId, user_id: UserId, now: datetime) -> int:
        query = select(func.count()).where(
            login_sessions.c.tenant_id == tenant_id,
            login_sessions.c.user_id == user_id,
            login_sessions.c.expires_at > now,
        )
        return int((await self.session.execute(query)).scalar_one())

    async def delete_expired(self, now: datetime) -> None:
        await self.session.execute(delete(login_sessions).where(login_sessions.c.expires_at <= now))


class ApiTokenRepository(Repository):
    async def get(self, tenant_id: TenantId, token_id: str) -> ApiToken | None:
        query = select(ApiToken).where(
            api_tokens.c.tenant_id == tenant_id, api_tokens.c.id == token_id
        )
        return (await self.session.scalars(query)).first()

    async def by_id_unscoped(self, token_id: ApiTokenId) -> ApiToken | None:
        """Only for authentication: the token itself says which tenant it belongs to."""
        return await self.session.get(ApiToken, token_id)

    async def list(self, tenant_id: TenantId, *, limit: int, cursor: str | None) -> Page[ApiToken]:
        query = select(ApiToken).where(api_tokens.c.tenant_id == tenant_id)
        return await self.page(query, api_tokens.c.id, limit=limit, cursor=cursor)
