"""Micro-batched commits: writes submitted while a transaction is open share the next one.

Under load most of a small write transaction's cost is fixed (begin, the event counter, the
webhook endpoints read, commit, and on SQLite the wait for the one writer). `WriteBatcher`
runs each waiting piece of work in one transaction, each inside its own SAVEPOINT when there
are several, so one member's failure (a provider retry meeting the messages' unique key) undoes
only that member. Every caller is answered after the commit: acknowledged still means stored.
Batches start as soon as the previous one ends; nothing waits on a timer, so a quiet server
runs each write alone (and without a savepoint).

Where transactions run side by side (PostgreSQL), each runs in a lane of its own, and work with
a key (ingest: the tenant and the sender) always takes the same lane: two messages of one
customer never sit in two open transactions at once, where they could deadlock on the same case
rows taken in opposite orders.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from carepath.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
Work = Callable[["UnitOfWork"], Awaitable[T]]
# Bounds a batch's duration, and so the latency of whoever arrives while it runs.
MAX_BATCH = 32


@dataclass
class _Member(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    # The submitter's context: the work sees its context variables (a replayed clock).
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    result: Any = None
    error: BaseException | None = None


class WriteBatcher:
    """One per event loop and database. `await batcher.run(work)` returns `work(uow)`'s result
    once the transaction it ran in has committed, or raises what it raised."""

    def __init__(
        self,
        open_uow: Callable[[], UnitOfWork],
        *,
        max_batch: int = MAX_BATCH,
        concurrency: int = 1,
    ) -> None:
        self._open_uow = open_uow
        self.max_batch = max_batch
        # Transactions open at once, one per lane. SQLite has one writer, so 1; PostgreSQL
        # overlaps several (their round trips), and each takes whatever its lane queued meanwhile.
        self._lanes: list[deque[_Member[Any]]] = [deque() for _ in range(concurrency)]
        self._runners: dict[int, asyncio.Task[None]] = {}
        self._closed = False
        self.batches = 0  # for tests and measurements: transactions run so far

    async def run(self, work: Work[T], key: Hashable | None = None) -> T:
        """`key`: work with equal keys never runs in two transactions at once (same lane)."""
        if self._closed:
            raise RuntimeError("the write batcher is closed")
        member: _Member[T] = _Member(work, asyncio.get_running_loop().create_future())
        lane = self._lane_for(key)
        self._lanes[lane].append(member)
        if lane not in self._runners:
            # Runners live only while there is work: an idle batcher leaves no task behind.
            self._runners[lane] = asyncio.create_task(
                self._run_batches(lane), name=f"carepath-write-batches-{lane}"
            )
        # A caller that gives up (a client hanging up) cancels only its wait, never the batch.
        return await member.future

    def _lane_for(self, key: Hashable | None) -> int:
        if key is not None:
            return hash(key) % len(self._lanes)
        # No key: the lane with the least waiting, an idle one first.
        return min(range(len(self._lanes)), key=lambda i: (len(self._lanes[i]), i in self._runners))

    async def close(self) -> None:
        """Refuse new work and wait until what was submitted has committed (or failed)."""
        self._closed = True
        while self._runners:
            await asyncio.wait(set(self._runners.values()))
            for lane, runner in list(self._runners.items()):
                if runner.done():  # cancelled before it ran: its own clean-up never did
                    self._runners.pop(lane, None)

    async def _run_batches(self, lane: int) -> None:
        waiting = self._lanes[lane]
        try:
            while waiting:
                batch: list[_Member[Any]] = []
                while waiting and len(batch) < self.max_batch:
                    member = waiting.popleft()
                    if not member.future.cancelled():  # nobody waits for it any more
                        batch.append(member)
                if batch:
                    self.batches += 1
                    await self._run_batch(batch)
        finally:
            # Synchronously with the last look at the queue (no await between them): work
            # submitted from here on starts a runner of its own instead of waiting for this one.
            self._runners.pop(lane, None)

    async def _run_batch(self, batch: list[_Member[Any]]) -> None:
        try:
            async with self._open_uow() as uow:
                if len(batch) == 1:
                    # Alone: the transaction is the member's, a failure rolls it back whole.
                    batch[0].result = await _in_context(batch[0], uow)
                else:
                    for member in batch:
                        await _run_member(uow, member)
        except BaseException as exc:  # handed to every waiting caller
            for member in batch:
                if member.error is None:
                    member.error = exc
            if not isinstance(exc, Exception):
                _settle(batch)
                raise
        _settle(batch)


async def _run_member(uow: UnitOfWork, member: _Member[Any]) -> None:
    mark = uow.events.mark()
    try:
        async with uow.savepoint():
            member.result = await _in_context(member, uow)
            # Flushed inside its savepoint, so a unique-key failure is this member's alone.
            await uow.flush()
    except Exception as exc:  # the member's caller gets it
        member.error = exc
        uow.events.rewind(mark)
        await uow.reload_expired()


def _in_context(member: _Member[T], uow: UnitOfWork) -> asyncio.Task[T]:
    return asyncio.get_running_loop().create_task(_await(member.work(uow)), context=member.context)


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _settle(batch: list[_Member[Any]]) -> None:
    for member in batch:
        if member.future.done():
            continue
        if member.error is not None:
            member.future.set_exception(member.error)
        else:
            member.future.set_result(member.result)
