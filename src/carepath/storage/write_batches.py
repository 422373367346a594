"""Micro-batched commits: writes submitted while a transaction is open share the next one.

Under load most of a small write transaction's cost is fixed (begin, the event counter, the
webhook endpoints read, commit, and on SQLite the wait for the one writer). `WriteBatcher`
runs the waiting pieces of work in one transaction, one after another, without savepoints and
without autoflush, so that their writes go out together at the end: what they queued with
`UnitOfWork.insert_later` as one statement per table, then the ORM's changes (its UPDATEs of
one shape as one executemany). Every caller is answered after the commit: acknowledged still
means stored. Batches start as soon as the previous one ends; nothing waits on a timer, so a
quiet server runs each write alone, in a transaction of its own.

A batch holds at most one piece of work per key (ingest: the tenant and the sender); later ones
of that key wait for the next batch, in order. So the members of a batch never read what another
member of it wrote (they would not see it: nothing is written before the end).

Without savepoints a failure undoes the whole transaction, so the work must be safe to run
again. When a member's work raises, the batch is rolled back, that caller gets its error and
the others run again as a batch of their own. When the writes at the end fail (a provider
retry meeting the messages' unique key, a race with another process, a deadlock victim), the
batch runs once more, its unit of work marked as a rerun (`UnitOfWork.rerun`: ingest then looks
for provider retries first, and answers them as duplicates without writing); if that fails too,
nobody can tell whose writes failed, and each member runs again alone, in its own transaction,
and gets its own result or error.

Where transactions may run side by side (`concurrency` > 1: PostgreSQL could, though carepath
runs one at a time there too, see `storage/database.py`), each runs in a lane of its own, and
work with a key always takes the same lane: two messages of one customer never sit in two open
transactions at once, where they could deadlock on the same case rows taken in opposite orders.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from carepath.storage.conflicts import is_transient_conflict

if TYPE_CHECKING:
    from carepath.storage.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[["UnitOfWork"], Awaitable[T]]
# Reads ahead for a whole batch: called once per batch with every member's argument, before the
# members run, it leaves answers in the repositories that serve the members' first reads.
Preload = Callable[["UnitOfWork", list[Any]], Awaitable[None]]
# Bounds a batch's duration, and so the latency of whoever arrives while it runs.
MAX_BATCH = 32


@dataclass(frozen=True)
class BatchTiming:
    """One batch as its members lived it: the two halves of a batched write's latency."""

    waited_s: tuple[float, ...]  # each member: from submission until its batch started
    took_s: float  # the batch: from its start until its members were answered (reruns included)

    @property
    def members(self) -> int:
        return len(self.waited_s)


BatchObserver = Callable[[BatchTiming], None]


@dataclass
class _Member(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    key: Hashable | None
    preload: tuple[Preload, Any] | None = None
    # The submitter's context: the work sees its context variables (a replayed clock).
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    submitted: float = field(default_factory=time.perf_counter)
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
        observe: BatchObserver | None = None,
    ) -> None:
        self._open_uow = open_uow
        self.max_batch = max_batch
        self._observe = observe
        # Transactions open at once, one per lane, each taking whatever its lane queued meanwhile.
        # SQLite has one writer, so 1; PostgreSQL could overlap several's round trips.
        self._lanes: list[deque[_Member[Any]]] = [deque() for _ in range(concurrency)]
        self._runners: dict[int, asyncio.Task[None]] = {}
        self._closed = False
        self.batches = 0  # for tests and measurements: transactions run so far

    async def run(
        self,
        work: Work[T],
        key: Hashable | None = None,
        preload: tuple[Preload, Any] | None = None,
    ) -> T:
        """`key`: work with equal keys never runs in one transaction, nor in two at once (same
        lane, one per batch). `work` may run more than once (see the module's docstring).
        `preload`: `(function, argument)`; in a batch of several, each function is called once
        with the arguments of all its members, before they run (a lone member reads itself)."""
        if self._closed:
            raise RuntimeError("the write batcher is closed")
        member: _Member[T] = _Member(work, asyncio.get_running_loop().create_future(), key, preload)
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
                batch = self._take(waiting)
                if batch:
                    started = time.perf_counter()
                    await self._run_batch(batch)
                    if self._observe is not None:
                        self._report(batch, started)
        finally:
            # Synchronously with the last look at the queue (no await between them): work
            # submitted from here on starts a runner of its own instead of waiting for this one.
            self._runners.pop(lane, None)

    def _report(self, batch: list[_Member[Any]], started: float) -> None:
        assert self._observe is not None
        timing = BatchTiming(
            waited_s=tuple(started - member.submitted for member in batch),
            took_s=time.perf_counter() - started,
        )
        try:
            self._observe(timing)
        except Exception:  # measuring must never stop the writes
            logger.exception("the write batch observer failed")

    def _take(self, waiting: deque[_Member[Any]]) -> list[_Member[Any]]:
        """The next batch, in submission order, at most one member per key; the later members
        of a key in it stay queued, in their order (the scan stops after max_batch of those)."""
        batch: list[_Member[Any]] = []
        keys: set[Hashable] = set()
        later: list[_Member[Any]] = []
        while waiting and len(batch) < self.max_batch and len(later) < self.max_batch:
            member = waiting.popleft()
            if member.future.cancelled():  # nobody waits for it any more
                continue
            if member.key is not None:
                if member.key in keys:
                    later.append(member)
                    continue
                keys.add(member.key)
            batch.append(member)
        waiting.extendleft(reversed(later))
        return batch

    async def _run_batch(self, batch: list[_Member[Any]], *, rerun: bool = False) -> None:
        try:
            if len(batch) == 1:
                await self._run_alone(batch[0], rerun=rerun)
            else:
                await self._run_together(batch, rerun=rerun)
        except BaseException as exc:  # handed to every caller still waiting
            for member in batch:
                if member.error is None:
                    member.error = exc
            if not isinstance(exc, Exception):  # cancelled: the runner stops
                _settle(batch)
                raise
        # An error stops this batch only: the runner goes on with the lane's queue, which would
        # otherwise wait for the next submission to start a runner.
        _settle(batch)

    async def _run_alone(self, member: _Member[Any], *, rerun: bool = False) -> None:
        """The transaction is the member's: a failure rolls back its writes alone."""
        self.batches += 1
        member.result, member.error = None, None
        try:
            async with self._open_uow() as uow:
                uow.rerun = rerun
                member.result = await _in_context(member, uow)
        except Exception as exc:  # the member's caller gets it
            member.error = exc
        _settle([member])

    async def _run_together(self, batch: list[_Member[Any]], *, rerun: bool = False) -> None:
        self.batches += 1
        failed: _Member[Any] | None = None
        written = False
        try:
            async with self._open_uow() as uow:
                uow.rerun = rerun
                # Member 2's reads must not flush member 1's changes one statement at a time:
                # everything is written at the end (and nobody reads another's rows: one per key).
                uow.session.autoflush = False
                try:
                    await _preload(uow, batch)
                except DBAPIError:
                    raise  # the transaction may be aborted: the batch runs again, as below
                except Exception:
                    # A bug, not the database: the members read for themselves (answers already
                    # preloaded are each right), and it is told instead of showing as slowness.
                    logger.exception("write batch: a preload failed; its members read themselves")
                for member in batch:
                    member.result, member.error = None, None
                    try:
                        member.result = await _in_context(member, uow)
                    except Exception as exc:
                        failed, member.error = member, exc
                        raise
                await uow.flush()  # every member's writes: one statement per table
                written = True
        except Exception as exc:
            if failed is not None and not isinstance(failed.error, DBAPIError):
                # Its own work failed: its caller is told, its writes (and its events) went with
                # the rollback, and so did the others': they run again, as a batch.
                _settle([failed])
                rest = [member for member in batch if member is not failed]
                await self._run_batch(rest, rerun=rerun)
            elif written and not isinstance(exc, IntegrityError) and not is_transient_conflict(exc):
                # The commit failed (a lost connection): whether it took effect is unknown, so
                # nothing runs again; every caller gets the error, as a lone write's caller would.
                for member in batch:
                    member.error = exc
            elif not rerun:
                # The writes failed (a provider retry's unique key, a deadlock victim), or the
                # database refused a member's statement. Once more as a batch, told that it is a
                # rerun (ingest then looks for retries first: what fails most often)...
                await self._run_together(batch, rerun=True)
            else:
                # ... then, since nobody can tell whose writes failed, each member alone.
                for member in batch:
                    await self._run_alone(member, rerun=True)


async def _preload(uow: UnitOfWork, batch: list[_Member[Any]]) -> None:
    """The reads the members would each make, made once for all of them. Safe because no
    member writes before the end and none reads what another writes (one per key)."""
    arguments: dict[Preload, list[Any]] = {}
    for member in batch:
        if member.preload is not None:
            function, argument = member.preload
            arguments.setdefault(function, []).append(argument)
    for function, of_members in arguments.items():
        await function(uow, of_members)


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
