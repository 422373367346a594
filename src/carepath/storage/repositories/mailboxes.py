"""IMAP cursors: how far polling got in each mailbox, and the lease of the poller polling it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, insert, or_, select, update

from carepath.ids import TenantId
from carepath.storage.repositories.base import Repository
from carepath.storage.tables import imap_cursors


@dataclass(frozen=True)
class ImapCursor:
    account_id: str
    tenant_id: TenantId
    uidvalidity: int | None
    last_uid: int
    locked_by: str | None
    locked_until: datetime | None


class ImapCursorRepository(Repository):
    async def get(self, account_id: str) -> ImapCursor | None:
        row = (
            await self.session.execute(
                select(imap_cursors).where(imap_cursors.c.account_id == account_id)
            )
        ).first()
        if row is None:
            return None
        return ImapCursor(
            account_id=row.account_id,
            tenant_id=TenantId(row.tenant_id),
            uidvalidity=row.uidvalidity,
            last_uid=row.last_uid,
            locked_by=row.locked_by,
            locked_until=row.locked_until,
        )

    async def create(self, account_id: str, tenant_id: TenantId, now: datetime) -> None:
        """A cursor at the start of the mailbox; IntegrityError if another poller made it first."""
        await self.session.execute(
            insert(imap_cursors).values(
                account_id=account_id, tenant_id=tenant_id, last_uid=0, updated_at=now
            )
        )

    async def lease(self, account_id: str, worker: str, now: datetime, until: datetime) -> bool:
        """Take (or extend) the lease unless another poller holds an unexpired one."""
        return await self._updated(
            update(imap_cursors)
            .where(
                imap_cursors.c.account_id == account_id,
                or_(
                    imap_cursors.c.locked_by.is_(None),
                    imap_cursors.c.locked_by == worker,
                    imap_cursors.c.locked_until < now,
                ),
            )
            .values(locked_by=worker, locked_until=until)
        )

    async def advance(
        self,
        account_id: str,
        worker: str,
        *,
        uidvalidity: int,
        last_uid: int,
        now: datetime,
        until: datetime,
    ) -> bool:
        """Move the cursor, only while `worker` holds the lease (which is extended)."""
        return await self._updated(
            update(imap_cursors)
            .where(imap_cursors.c.account_id == account_id, imap_cursors.c.locked_by == worker)
            .values(uidvalidity=uidvalidity, last_uid=last_uid, locked_until=until, updated_at=now)
        )

    async def release(self, account_id: str, worker: str) -> None:
        await self.session.execute(
            update(imap_cursors)
            .where(imap_cursors.c.account_id == account_id, imap_cursors.c.locked_by == worker)
            .values(locked_by=None, locked_until=None)
        )

    async def _updated(self, statement: Update) -> bool:
        result = cast(CursorResult[Any], await self.session.execute(statement))
        return bool(result.rowcount)
