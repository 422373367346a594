"""The outbox worker: leases due items, runs their handlers outside transactions, records each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import httpx

from carepath.channels.email.imap_poller import ImapPolling
from carepath.delivery import Handler, HandlerContext
from carepath.delivery.early_status_sweep import EarlyStatusSweep
from carepath.delivery.registry import build_handlers, http_client
from carepath.domain.clock import utcnow
from carepath.domain.outbox import OutboxItem, OutboxStatus
from carepath.errors import DeliveryFailed
from carepath.routing.dispatcher import DispatcherTask
from carepath.settings import Settings
from carepath.storage import Database

__all__ = ["BackgroundWorker", "Handler", "HandlerContext", "OutboxWorker", "worker_name"]

log = logging.getLogger("carepath.worker")

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_CONCURRENCY = 10
# A handler is stopped at this share of its lease, so that its failure is recorded while this
# worker still holds the item, not after another worker may have taken it over.
HANDLER_SHARE_OF_LEASE = 0.9
MAX_ERROR_BACKOFF_S = 30.0
STOP_GRACE_S = 15.0


def worker_name() -> str:
    """Unique per worker instance: several may run in one process, host or cluster."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


class OutboxWorker:
    """Runs due outbox items through their handlers, at least once each.

    `run_once` leases a batch in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
    so several workers take different items; SQLite serialises writers anyway), runs the
    handlers with no transaction open, then records each result in its own transaction, but only
    while this worker still holds the item: a worker whose lease ran out (it was too slow, or
    paused) leaves the item to whoever took it over. A crash between a handler's work and its
    record runs the item again after the lease, so handlers must be idempotent.
    """

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        name: str,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = 20,
        concurrency: int = DEFAULT_CONCURRENCY,
        idle_sleep: float = 0.5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if batch < 1 or concurrency < 1 or lease <= timedelta(0):
            raise ValueError("batch and concurrency must be at least 1 and the lease positive")
        self.db = db
        self.handlers = dict(handlers)
        self.name = name
        self.lease = lease
        self.batch = batch
        self.idle_sleep = idle_sleep
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._ctx = HandlerContext(db=db, worker=name, clock=clock)

    async def run_once(self) -> int:
        """Lease and process one batch of due items; how many there were (0: nothing was due)."""
        async with self.db.uow() as uow:
            items = await uow.outbox.claim(
                worker=self.name,
                now=self.clock(),
                lease=self.lease,
                limit=self.batch,
                skip_locked=not uow.is_sqlite,
                kinds=list(self.handlers),
            )
        if items:
            deadline = asyncio.get_running_loop().time() + (
                self.lease.total_seconds() * HANDLER_SHARE_OF_LEASE
            )
            await asyncio.gather(*(self._process(item, deadline) for item in items))
        return len(items)

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; a database error is logged and waited out."""
        log.info("outbox worker %s started", self.name)
        errors = 0
        while not stop.is_set():
            try:
                processed = await self.run_once()
            except Exception:
                errors += 1
                delay = min(MAX_ERROR_BACKOFF_S, self.idle_sleep * 2 ** min(errors, 16))
                log.exception("outbox worker %s: claiming failed; again in %.1fs", self.name, delay)
                await _sleep_unless(stop, delay)
                continue
            errors = 0
            if processed == 0:
                await _sleep_unless(stop, self.idle_sleep)
        log.info("outbox worker %s stopped", self.name)

    async def _process(self, item: OutboxItem, deadline: float) -> None:
        async with self._slots:
            failure = await self._run_handler(item, deadline)
        try:
            await self._record(item, failure)
        except Exception:
            log.exception("outbox item %s: result not recorded; it runs again later", item.id)

    async def _run_handler(self, item: OutboxItem, deadline: float) -> DeliveryFailed | None:
        handler = self.handlers[item.kind]  # claim() takes only kinds this worker handles
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                await handler(item, self._ctx)
        except DeliveryFailed as exc:
            log.info("outbox item %s (%s) failed: %s", item.id, item.kind, exc.message)
            return exc
        except TimeoutError as exc:
            if not timeout.expired():  # the handler's own timeout, not the lease's
                log.exception("outbox item %s (%s) failed unexpectedly", item.id, item.kind)
                return DeliveryFailed(f"TimeoutError: {exc}".rstrip(": "), retryable=True)
            return DeliveryFailed(
                f"not finished within {HANDLER_SHARE_OF_LEASE:.0%} of its "
                f"{self.lease.total_seconds():.0f}s lease",
                retryable=True,
            )
        except Exception as exc:
            log.exception("outbox item %s (%s) failed unexpectedly", item.id, item.kind)
            return DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True)
        return None

    async def _record(self, claimed: OutboxItem, failure: DeliveryFailed | None) -> bool:
        async with self.db.uow() as uow:
            item = await uow.outbox.get(claimed.id, lock=True)
            if item is None or not self._still_holds(item, claimed):
                log.warning(
                    "outbox item %s: lease lost to %s; this worker's result is dropped",
                    claimed.id,
                    item.locked_by if item else "(deleted)",
                )
                return False
            now = self.clock()
            if failure is None:
                item.succeed(now)
            else:
                item.fail(failure.message, now, retryable=failure.retryable)
                if item.status == OutboxStatus.DEAD:
                    log.warning(
                        "outbox item %s (%s) gave up after %d attempts: %s",
                        item.id,
                        item.kind,
                        item.attempts,
                        failure.message,
                    )
        return True

    def _still_holds(self, item: OutboxItem, claimed: OutboxItem) -> bool:
        # `attempts` fences out a stale claim of this same worker: each claim increments it.
        return (
            item.status == OutboxStatus.PENDING
            and item.locked_by == self.name
            and item.attempts == claimed.attempts
        )


class BackgroundWorker:
    """An outbox worker running as a task, with its own outgoing HTTP client; `stop` ends both."""

    def __init__(self, worker: OutboxWorker, http: httpx.AsyncClient) -> None:
        self.worker = worker
        self._http = http
        self.imap: ImapPolling | None = None  # email mailboxes, polled beside the outbox
        self.dispatcher: DispatcherTask | None = None  # routing of waiting work to agents
        # Delivery reports that came before their provider id: applied late, or purged.
        self.early_statuses: EarlyStatusSweep | None = None
        self._stop = stop = asyncio.Event()
        self._task = asyncio.create_task(worker.run(stop), name=f"outbox worker {worker.name}")

    @classmethod
    def start(
        cls,
        db: Database,
        settings: Settings,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        name: str | None = None,
    ) -> BackgroundWorker:
        http = http_client()
        worker = OutboxWorker(
            db,
            build_handlers(settings, http),
            name=name or worker_name(),
            concurrency=concurrency,
            lease=timedelta(seconds=settings.outbox_lease_s),
        )
        background = cls(worker, http)
        background.imap = ImapPolling.start(db, settings, name=worker.name)
        background.dispatcher = DispatcherTask.start(db, name=worker.name)
        background.early_statuses = EarlyStatusSweep(db)
        return background

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Let the batch in hand finish (up to `grace_s`), then close the HTTP client."""
        if self.imap is not None:
            await self.imap.stop(grace_s)
        if self.dispatcher is not None:
            await self.dispatcher.stop(grace_s)
        if self.early_statuses is not None:
            await self.early_statuses.stop(grace_s)
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning(
                "outbox worker %s: batch cut short at shutdown; its items run again after "
                "their lease",
                self.worker.name,
            )
        finally:
            await self._http.aclose()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
