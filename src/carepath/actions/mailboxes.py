"""IMAP polling bookkeeping: lease a mailbox to one poller, move its cursor, let it go."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.clock import utcnow
from carepath.storage import Database
from carepath.storage.repositories.mailboxes import ImapCursor, ImapCursorRepository


async def do_lease_mailbox(
    db: Database, account: ChannelAccount, worker: str, lease: timedelta
) -> ImapCursor | None:
    """The mailbox's cursor, leased to `worker`; None while another poller holds it."""
    for attempt in range(2):
        try:
            async with db.uow() as uow:
                cursors = ImapCursorRepository(uow.session)
                now = utcnow()
                if await cursors.get(account.id) is None:
                    await cursors.create(account.id, account.tenant_id, now)
                if not await cursors.lease(account.id, worker, now, now + lease):
                    return None
                return await cursors.get(account.id)
        except IntegrityError:
            if attempt:  # two pollers created the first cursor at once; the loser reads it
                raise
    raise AssertionError("unreachable")


async def do_advance_mailbox(
    db: Database,
    account_id: str,
    worker: str,
    *,
    uidvalidity: int,
    last_uid: int,
    lease: timedelta,
) -> bool:
    """Record that everything up to `last_uid` is ingested; False if the lease was lost."""
    async with db.uow() as uow:
        now = utcnow()
        return await ImapCursorRepository(uow.session).advance(
            account_id,
            worker,
            uidvalidity=uidvalidity,
            last_uid=last_uid,
            now=now,
            until=now + lease,
        )


async def do_release_mailbox(db: Database, account_id: str, worker: str) -> None:
    async with db.uow() as uow:
        await ImapCursorRepository(uow.session).release(account_id, worker)
