"""WhatsApp's sending rules, applied when a reply is made so the agent hears of a refusal."""

from __future__ import annotations

from datetime import datetime

from carepath.domain.cases import Case
from carepath.domain.contacts import Channel
from carepath.domain.whatsapp import Template, ensure_in_window
from carepath.errors import InvalidInput
from carepath.storage import UnitOfWork


async def check_reply(
    uow: UnitOfWork, case: Case, channel: Channel, template: Template | None, now: datetime
) -> None:
    """Templates are WhatsApp-only; free-form WhatsApp text needs an open service window."""
    if template is not None:
        if channel is not Channel.WHATSAPP:
            raise InvalidInput(
                f"templates are sent on WhatsApp only, not on {channel}", field="template"
            )
        return
    if channel is Channel.WHATSAPP:
        cluster = await uow.customers.cluster_ids(case.tenant_id, case.customer_id)
        last = await uow.messages.last_inbound_at(case.tenant_id, cluster, Channel.WHATSAPP)
        ensure_in_window(last, now)
