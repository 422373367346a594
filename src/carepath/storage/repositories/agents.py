"""Agent profiles: skills, capacity and presence of the users who take routed work. Lock them only
while holding the tenant's event counter (see repositories/routing.py for the lock order)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from carepath.ids import TenantId, UserId
from carepath.routing.model import Presence
from carepath.routing.records import AgentProfile
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import agent_profiles, users


class AgentRepository(Repository):
    async def get(
        self, tenant_id: TenantId, user_id: str, *, lock: bool = False
    ) -> AgentProfile | None:
        query = select(AgentProfile).where(
            agent_profiles.c.tenant_id == tenant_id, agent_profiles.c.user_id == user_id
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def all(self, tenant_id: TenantId) -> list[AgentProfile]:
        query = (
            select(AgentProfile)
            .where(agent_profiles.c.tenant_id == tenant_id)
            .order_by(agent_profiles.c.user_id)
        )
        return list((await self.session.scalars(query)).all())

    async def online(self, tenant_id: TenantId) -> list[AgentProfile]:
        """Online agents whose user is active (a deactivated user takes no more work)."""
        query = (
            select(AgentProfile)
            .join(users, users.c.id == agent_profiles.c.user_id)
            .where(
                agent_profiles.c.tenant_id == tenant_id,
                agent_profiles.c.presence == Presence.ONLINE,
                users.c.is_active.is_(True),
            )
        )
        return list((await self.session.scalars(query)).all())

    async def claim(
        self, tenant_id: TenantId, user_ids: Iterable[str], *, skip_locked: bool
    ) -> dict[UserId, AgentProfile]:
        """Lock these profiles (in id order), leaving out any another transaction holds."""
        query = (
            select(AgentProfile)
            .where(
                agent_profiles.c.tenant_id == tenant_id,
                agent_profiles.c.user_id.in_(sorted(set(user_ids))),
            )
            .order_by(agent_profiles.c.user_id)
            .with_for_update(skip_locked=skip_locked)
            .execution_options(populate_existing=True)
        )
        return {p.user_id: p for p in (await self.session.scalars(query)).all()}
