"""Building normalized inbound messages for tests, the way channel adapters do."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import InboundMessage
from carepath.ids import CaseId, TenantId

_ids = itertools.count(1)
SENDER_KIND = {
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.SMS: IdentityKind.PHONE,
    Channel.VOICE: IdentityKind.PHONE,
    Channel.WHATSAPP: IdentityKind.WHATSAPP,
    Channel.CHAT: IdentityKind.WEB_VISITOR,
    Channel.APP: IdentityKind.APP_USER,
}


def inbound(
    tenant_id: TenantId,
    channel: Channel,
    sender: str,
    text: str = "hello",
    *,
    external_id: str | None = None,
    at: datetime | None = None,
    after: timedelta | None = None,
    case_id: str | None = None,
    thread_refs: tuple[str, ...] = (),
    **extra: Any,
) -> InboundMessage:
    received = at or utcnow()
    if after is not None:
        received += after
    return InboundMessage(
        tenant_id=tenant_id,
        channel=channel,
        sender=IdentityRef.of(SENDER_KIND[channel], sender),
        text=text,
        received_at=received,
        external_id=external_id if external_id is not None else f"ext-{next(_ids)}",
        case_id=CaseId(case_id) if case_id else None,
        thread_refs=thread_refs,
        **extra,
    )
