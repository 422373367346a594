"""The `assistant_turn` outbox handler: runs the bot stage for one customer message."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from carepath.delivery.base import HandlerContext
from carepath.domain.assistant import ASSISTANT_TURN
from carepath.domain.outbox import OutboxItem

if TYPE_CHECKING:
    from carepath.assistant.serving import TenantModels

__all__ = ["ASSISTANT_TURN", "AssistantTurnHandler"]


class AssistantTurnHandler:
    """Holds the worker's per-tenant models (opened on first use) and its HTTP client."""

    def __init__(self, data_dir: Path, http: httpx.AsyncClient, public_url: str) -> None:
        self.data_dir = data_dir
        self.http = http
        self.public_url = public_url
        self._models: TenantModels | None = None

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None:
        # scikit-learn takes a second to import: only a worker that serves a turn pays it,
        # not every command and server start that builds the handler map.
        from carepath.actions.assistant import do_assistant_turn
        from carepath.assistant.serving import TenantModels

        if self._models is None:
            self._models = TenantModels(self.data_dir)
        await do_assistant_turn(
            ctx.db,
            self._models,
            self.http,
            item.tenant_id,
            str(item.payload["message_id"]),
            public_url=self.public_url,
        )
