"""The assistant's turns: the conversation state each turn leaves, and the record for analytics."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from carepath.domain.assistant import AssistantTurn
from carepath.ids import TenantId
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import assistant_turns


class AssistantTurnRepository(Repository):
    async def for_message(self, tenant_id: TenantId, message_id: str) -> AssistantTurn | None:
        query = select(AssistantTurn).where(
            assistant_turns.c.tenant_id == tenant_id, assistant_turns.c.message_id == message_id
        )
        return (await self.session.scalars(query)).first()

    async def of_case(self, tenant_id: TenantId, case_id: str) -> Sequence[AssistantTurn]:
        """Oldest first."""
        query = select(AssistantTurn).where(
            assistant_turns.c.tenant_id == tenant_id, assistant_turns.c.case_id == case_id
        )
        order = (assistant_turns.c.created_at, assistant_turns.c.id)
        return (await self.session.scalars(query.order_by(*order))).all()

    async def latest(self, tenant_id: TenantId, case_id: str) -> AssistantTurn | None:
        query = select(AssistantTurn).where(
            assistant_turns.c.tenant_id == tenant_id, assistant_turns.c.case_id == case_id
        )
        order = (assistant_turns.c.created_at.desc(), assistant_turns.c.id.desc())
        return (await self.session.scalars(query.order_by(*order).limit(1))).first()
