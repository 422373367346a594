"""Reports kept for a provider id no message carries yet: the race between a report and the
send's record of the id (both orders, at once), the sweep that applies what a crash left
waiting, and the purge of reports that never match."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from sqlalchemy import func, select, update

from carepath.actions.delivery import do_record_delivery, do_record_provider_status
from carepath.actions.early_statuses import KEEP_UNMATCHED, do_sweep_early_statuses
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus
from carepath.storage import Database
from carepath.storage.tables import early_delivery_statuses, messages
from tests.channels.statuses.providers import a_reply
from tests.reliability.world import make_world

RACES = 24


async def waiting(db: Database) -> int:
    async with db.engine.connect() as conn:
        query = select(func.count()).select_from(early_delivery_statuses)
        return int((await conn.execute(query)).scalar_one())


async def status_of(db: Database, tenant_id: str, message_id: str) -> DeliveryStatus | None:
    async with db.uow(write=False) as uow:
        message = await uow.messages.get(tenant_id, message_id)  # type: ignore[arg-type]
    return message.delivery_status if message else None


async def test_a_report_racing_the_record_of_its_provider_id_is_never_lost(db: Database) -> None:
    # given replies whose provider reports delivery while the send records the provider's id
    company = await make_world(db)
    tenant = company.tenant.id
    replies = [await a_reply(db, company, Channel.SMS, n) for n in range(RACES)]
    rng = random.Random(7)

    async def race(message_id: str, n: int) -> None:
        provider_id = f"SMrace{n:04d}"
        send = do_record_delivery(
            db, tenant, message_id, DeliveryStatus.SENT, external_id=provider_id
        )
        callback = do_record_provider_status(
            db, tenant, Channel.SMS, provider_id, DeliveryStatus.DELIVERED
        )
        pair = [send, callback]
        rng.shuffle(pair)
        await asyncio.gather(*pair)

    # when both happen at once, in either order
    await asyncio.gather(*(race(reply.id, n) for n, reply in enumerate(replies)))
    # then every reply is delivered, and nothing is left waiting
    finals = [await status_of(db, tenant, reply.id) for reply in replies]
    assert finals == [DeliveryStatus.DELIVERED] * RACES
    assert await waiting(db) == 0


async def test_the_sweep_applies_what_a_crash_left_waiting_and_purges_what_never_matched(
    db: Database,
) -> None:
    company = await make_world(db)
    tenant = company.tenant.id
    reply = await a_reply(db, company, Channel.WHATSAPP)
    now = utcnow()
    # given a report for an id no message carries yet: acknowledged, so kept
    kept = await do_record_provider_status(
        db, tenant, Channel.WHATSAPP, "wamid.crashed", DeliveryStatus.READ
    )
    assert kept is None
    # and one for an id carepath never sent
    await do_record_provider_status(
        db, tenant, Channel.WHATSAPP, "wamid.not-ours", DeliveryStatus.DELIVERED
    )
    assert await waiting(db) == 2
    # and a send that stored the id, then died before looking for reports (its commit only)
    async with db.engine.begin() as conn:
        await conn.execute(
            update(messages)
            .where(messages.c.id == reply.id)
            .values(external_id="wamid.crashed", delivery_status=DeliveryStatus.SENT.value)
        )

    # when the background sweep runs
    swept = await do_sweep_early_statuses(db, now)

    # then the waiting report reached its message; the unmatched one is kept for now
    assert (swept.applied, swept.purged) == (1, 0)
    assert await status_of(db, tenant, reply.id) is DeliveryStatus.READ
    assert await waiting(db) == 1
    # and a day later the unmatched report is purged
    later = await do_sweep_early_statuses(db, now + KEEP_UNMATCHED + timedelta(seconds=1))
    assert (later.applied, later.purged) == (0, 1)
    assert await waiting(db) == 0
