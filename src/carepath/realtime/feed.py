"""One database read per ring for all of a process's streams of a tenant, not one per stream.

A ring wakes every `/v1/stream` handler of the tenant at once; each reading the new events
itself made a thousand connected agents a thousand queries per event (and queued them on the
connection pool). The feed keeps the tenant's latest events, read once and serialized once, and
hands the same frames to every handler. The database stays the record: the feed holds only
committed events, contiguous in seq (events commit in seq order, see docs/subsystems/events.md),
and a handler the feed cannot serve reads the database itself.

Events this process committed need no read at all: the commit hands them over (`offer`), and the
feed takes them when they follow on from what it holds. After a gap (another process committed
in between) it leaves them, and the ring that follows reads the database as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from carepath.domain.events import Event
from carepath.ids import TenantId
from carepath.storage import Database

logger = logging.getLogger(__name__)


class Frame(NamedTuple):
    seq: int
    text: str  # the event on the wire, as JSON


def frame(event: Event) -> Frame:
    # As Starlette's send_json writes it.
    return Frame(event.seq, json.dumps(event.to_wire(), separators=(",", ":"), ensure_ascii=False))


@dataclass
class _Log:
    frames: deque[Frame] = field(default_factory=deque)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    streams: int = 0

    def serves(self, seq: int, upto: int) -> bool:
        """Holds everything after `seq` up to `upto`."""
        return bool(self.frames) and self.frames[0].seq - 1 <= seq and self.frames[-1].seq >= upto

    def after(self, seq: int, limit: int) -> list[Frame]:
        start = seq - (self.frames[0].seq - 1)
        return list(itertools.islice(self.frames, start, start + limit))


class EventFeed:
    """Per process; `after` is what a stream handler calls instead of reading the events table."""

    def __init__(self, db: Database, *, keep: int = 1000) -> None:
        self._db = db
        self._keep = keep
        self._logs: dict[TenantId, _Log] = {}

    async def after(
        self, tenant_id: TenantId, seq: int, *, limit: int, upto: int | None
    ) -> list[Frame]:
        """Events after `seq`, at most `limit`. `upto` is the seq the doorbell rang: the feed
        answers from memory once it holds that far, reading the database at most once for
        all handlers waiting on the same ring. Without `upto` (a first read, a poll after a
        heartbeat timeout) it reads the database."""
        if upto is None or upto <= seq:
            return await self._read(tenant_id, seq, limit)
        log = self._logs.get(tenant_id)
        if log is None or (log.frames and seq < log.frames[0].seq - 1):
            return await self._read(tenant_id, seq, limit)  # no stream here, or behind the feed
        if not log.serves(seq, upto):
            async with log.lock:
                if not log.serves(seq, upto):
                    await self._refill(log, tenant_id, seq, limit)
        if log.frames and log.frames[0].seq - 1 <= seq:
            return log.after(seq, limit)
        return await self._read(tenant_id, seq, limit)  # too far behind for the feed

    def offer(self, committed: list[Event]) -> None:
        """Events just committed by this process, in seq order per tenant: kept for the
        tenant's streams here if they follow on from what the feed holds (or it holds nothing
        yet). Never raises: the database still has them for whoever the feed cannot serve."""
        by_tenant: dict[TenantId, list[Event]] = {}
        for event in committed:
            if event.tenant_id in self._logs:
                by_tenant.setdefault(event.tenant_id, []).append(event)
        for tenant_id, events in by_tenant.items():
            log = self._logs[tenant_id]
            if log.frames and log.frames[-1].seq + 1 != events[0].seq:
                continue  # a gap: another process's commit, read at the next ring
            try:
                frames = [frame(event) for event in events]
            except (TypeError, ValueError):  # a payload json cannot write: read it back instead
                logger.exception("committed events could not be framed for the stream feed")
                continue
            log.frames.extend(frames)
            _trim(log, self._keep)

    async def _refill(self, log: _Log, tenant_id: TenantId, seq: int, limit: int) -> None:
        held = bool(log.frames) and log.frames[0].seq - 1 <= seq <= log.frames[-1].seq
        start = log.frames[-1].seq if held else seq
        read = await self._read(tenant_id, start, max(limit, 100))
        if not held:
            log.frames.clear()
        elif log.frames:
            # Commits offered while this read was out are held already.
            read = [f for f in read if f.seq > log.frames[-1].seq]
        log.frames.extend(read)
        _trim(log, self._keep)

    async def _read(self, tenant_id: TenantId, seq: int, limit: int) -> list[Frame]:
        async with self._db.uow(write=False) as uow:
            return [frame(event) for event in await uow.events.after(tenant_id, seq, limit=limit)]

    @contextlib.contextmanager
    def streaming(self, tenant_id: TenantId) -> Iterator[None]:
        """Held by each stream handler; a tenant's frames go when its last stream here ends."""
        log = self._logs.setdefault(tenant_id, _Log())
        log.streams += 1
        try:
            yield
        finally:
            log.streams -= 1
            if log.streams == 0 and self._logs.get(tenant_id) is log:
                del self._logs[tenant_id]


def _trim(log: _Log, keep: int) -> None:
    while len(log.frames) > keep:
        log.frames.popleft()
