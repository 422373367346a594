"""Micro-batched commits: writes submitted while a transaction is open share the next one.

Under load most of a small write transaction's cost is fixed (begin, the event counter, the
webhook endpoints read, commit, and on SQLite the wait for the one writer). `WriteBatcher`
runs each waiting piece of work in one transaction, each inside its own SAVEPOINT when there
are several, so one member's failure (a provider retry meeting the messages' unique key) undoes
only that member. Every caller is answered after the commit: acknowledged still means stored.
Batches start as soon as the previous one ends; nothing waits on a timer, so a quiet server
runs each write alone (and without a savepoint).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable
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
        # Transactions open at once. SQLite has one writer, so 1; PostgreSQL overlaps several
        # (their round trips), and each still takes whatever has queued up meanwhile.
        self.concurrency = concurrency
        self._waiting: deque[_Member[Any]] = deque()
        self._runners: set[asyncio.Task[None]] = set()
        self._closed = False
        self.batches = 0  # for tests and measurements: transactions run so far

    async def run(self, work: Work[T]) -> T:
        if self._closed:
            raise RuntimeError("the write batcher is closed")
        member: _Member[T] = _Member(work, asyncio.get_running_loop().create_future())
        self._waiting.append(member)
        if len(self._runners) < self.concurrency:
            # Runners live only while there is work: an idle batcher leaves no task behind.
            runner = asyncio.create_task(self._run_batches(), name="carepath-write-batches")
            self._runners.add(runner)
        # A caller that gives up (a client hanging up) cancels only its wait, never the batch.
        return await member.future

    async def close(self) -> None:
        """Refuse new work and wait until what was submitted has committed (or failed)."""
        self._closed = True
        while self._runners:
            await asyncio.wait(set(self._runners))

    async def _run_batches(self) -> None:
        try:
            while self._waiting:
                batch: list[_Member[Any]] = []
                while self._waiting and len(batch) < self.max_batch:
                    member = self._waiting.popleft()
                    if not member.future.cancelled():  # nobody waits for it any more
                        batch.append(member)
                if batch:
                    self.batches += 1
                    await self._run_batch(batch)
        finally:
            # Synchronously with the last look at the queue (no await between them): work
            # submitted from here on starts a runner of its own instead of waiting for this one.
            task = asyncio.current_task()
            if task is not None:
                self._runners.discard(task)

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
