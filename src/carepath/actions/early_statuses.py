"""Delivery reports that come before the send recorded the provider's id: kept, then applied.

A provider may call back before its API's answer (the id) is committed with our message. Each
side commits its half first and only then looks for the other's: the report looks for the
message, the send looks for waiting reports. Whichever commits second finds the first, so no
acknowledged report is left behind; the periodic sweep covers a process that died between its
commit and its look, and purges reports for ids that never became ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from carepath.actions.payloads import message_payload
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.messages import DeliveryStatus, Message
from carepath.ids import TenantId
from carepath.storage import Database
from carepath.storage.repositories.early_statuses import EarlyStatusRepository, ProviderRef

__all__ = [
    "KEEP_UNMATCHED",
    "ProviderRef",
    "SweepResult",
    "apply_early_statuses",
    "do_sweep_early_statuses",
    "keep_early_status",
]

# Providers call back within seconds of a send; a report still unmatched after a day names a
# message that is not ours (another tool on the same number) and never will be.
KEEP_UNMATCHED = timedelta(days=1)
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class SweepResult:
    applied: int
    purged: int


async def keep_early_status(
    db: Database,
    tenant_id: TenantId,
    channel: Channel,
    external_id: str,
    status: DeliveryStatus,
    now: datetime,
) -> Message | None:
    """Keep a report no message carries the id of yet, then apply it if the send stored the id
    meanwhile. The message it reached, or None while none carries the id."""
    ref = ProviderRef(tenant_id, channel, external_id)
    async with db.uow() as uow:
        await EarlyStatusRepository(uow.session).keep(ref, status, now)
    return await apply_early_statuses(db, ref)


async def apply_early_statuses(db: Database, ref: ProviderRef) -> Message | None:
    """Apply the reports waiting for `ref` to the message carrying it, in arrival order, under
    the message's row lock (statuses never go backwards); None when there is no such message
    yet or nothing waits for it."""
    async with db.uow(write=False) as uow:
        if not await EarlyStatusRepository(uow.session).any_for(ref):
            return None
        carrier = await uow.messages.by_external_id(ref.tenant_id, ref.channel, ref.external_id)
    if carrier is None:
        return None
    async with db.uow() as uow:
        repo = EarlyStatusRepository(uow.session)
        message = await uow.messages.get(ref.tenant_id, carrier.id, lock=True)
        waiting = await repo.of(ref)
        if message is None or not waiting:
            return message
        changed = False
        if message.is_sendable:  # an inbound message with the same id takes no reports
            for report in waiting:
                changed = message.record_delivery(report.status) or changed
        await repo.remove([report.id for report in waiting])
        if changed:
            payload = {**message_payload(message), "delivery_status": message.delivery_status}
            await uow.events.append(ref.tenant_id, EventType.MESSAGE_UPDATED, payload)
    return message


async def do_sweep_early_statuses(
    db: Database, now: datetime, *, keep: timedelta = KEEP_UNMATCHED, limit: int = SWEEP_LIMIT
) -> SweepResult:
    """Apply reports whose message has its id by now, and purge those older than `keep`."""
    async with db.uow(write=False) as uow:
        refs = await EarlyStatusRepository(uow.session).matched(limit)
    applied = 0
    for ref in refs:
        applied += await apply_early_statuses(db, ref) is not None
    async with db.uow() as uow:
        purged = await EarlyStatusRepository(uow.session).purge(now - keep)
    return SweepResult(applied, purged)
