"""The database handle: one async engine per process, SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from carepath.storage import sqlite_driver
from carepath.storage.tables import map_domain
from carepath.storage.unit_of_work import CommitHook, UnitOfWork
from carepath.storage.write_batches import BatchObserver, BatchTiming, Preload, WriteBatcher

SQLITE_BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")
# Batched write transactions open at once on PostgreSQL (SQLite has one writer). One: since a
# batch reads ahead for all its members, its round trips no longer grow with its size, and on
# the 2-CPU VM one lane (bigger batches) gave 190-265 msgs/s end to end against 172-206 with two
# and 115-204 with four (docs/performance.md, seventh round). Processes add transactions.
BATCH_CONCURRENCY = 1


class Database:
    """Owns the engine and hands out units of work; create one per process and `dispose` it."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        map_domain()
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # One hand-off to the connection's thread per statement (storage/sqlite_driver.py).
            kwargs["module"] = sqlite_driver.dbapi()
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
                # The default pool (5) was smaller than a busy server's reads in flight: every
                # connection over it was closed on return and opened again (a thread and four
                # PRAGMAs each time), for about every second webhook under load.
                kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _ping_on_checkout(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # Set by the app to ring the realtime doorbell once events are committed.
        self.on_commit: CommitHook | None = None
        # Set by the app to measure batched writes (web/metrics.py).
        self.on_batch: BatchObserver | None = None
        # SQLite has one writer at a time. Writers of this process queue here, in FIFO order,
        # instead of in SQLite's busy handler, which sleeps and retries (up to 100 ms a time):
        # under concurrent ingest that sleeping, not work, set throughput and tail latency.
        self._write_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriteBatcher] = (
            weakref.WeakKeyDictionary()
        )

    async def batched(
        self,
        work: Callable[[UnitOfWork], Awaitable[T]],
        key: Hashable | None = None,
        preload: tuple[Preload, Any] | None = None,
    ) -> T:
        """`work` in a write transaction shared with other batched work submitted meanwhile
        (storage/write_batches.py); returns once that transaction has committed. For hot,
        small writes that are safe to run again (a batch whose writes fail runs once more, then
        member by member) and that queue their new rows with `UnitOfWork.insert_later` (ingest).
        Work with equal `key`s never shares a transaction, nor runs in two at once. `preload`
        reads ahead for a whole batch (`WriteBatcher.run`)."""
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            concurrency = 1 if self.is_sqlite else BATCH_CONCURRENCY
            batcher = self._batchers[loop] = WriteBatcher(
                self.uow, concurrency=concurrency, observe=self._observe_batch
            )
        return await batcher.run(work, key, preload)

    def _observe_batch(self, timing: BatchTiming) -> None:
        # Looked up per batch: the app sets on_batch after the batcher may exist.
        if self.on_batch is not None:
            self.on_batch(timing)

    def uow(self, *, write: bool = True) -> UnitOfWork:
        """One transaction. `write=False` for reads, so SQLite does not take the write lock."""
        return UnitOfWork(
            self._session,
            write=write,
            is_sqlite=self.is_sqlite,
            on_commit=self.on_commit,
            write_gate=self._write_gate() if write and self.is_sqlite else None,
        )

    def lone_read(self) -> UnitOfWork:
        """For ONE read statement, outside any transaction (autocommit): no BEGIN and no
        ROLLBACK around it, one round trip on PostgreSQL instead of three. Two statements in it
        may see different commits; use `uow(write=False)` for those."""
        return UnitOfWork(self._session, write=False, is_sqlite=self.is_sqlite, autocommit=True)

    def _write_gate(self) -> asyncio.Lock:
        # One per event loop: a lock is bound to the loop it first waited in.
        loop = asyncio.get_running_loop()
        gate = self._write_gates.get(loop)
        if gate is None:
            gate = self._write_gates[loop] = asyncio.Lock()
        return gate

    def _session(self) -> AsyncSession:
        return self._sessions()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        # Batched writes already submitted commit (and are answered) before the engine goes.
        batcher = self._batchers.pop(asyncio.get_running_loop(), None)
        if batcher is not None:
            await batcher.close()
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the lock up front: a deferred transaction that later writes can fail with
        # "database is locked" instead of waiting its turn.
        write = conn.get_execution_options().get("carepath_write", True)
        if write is None:  # a lone read (Database.lone_read): each statement its own transaction
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _ping_on_checkout(engine: AsyncEngine) -> None:
    """A pooled PostgreSQL connection is checked before use, so that one the server dropped (a
    restart) is replaced instead of failing a request. SQLAlchemy's own pre-ping does it with
    BEGIN, a statement and ROLLBACK on asyncpg (for pgbouncer's transaction mode): three round
    trips per checkout, two per webhook. One empty statement outside a transaction is enough."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            await_only(dbapi_connection.driver_connection.fetchrow(";"))
        except Exception as exc:
            # The pool discards this connection alone and checks out another.
            raise DisconnectionError(f"pooled connection unusable: {exc}") from exc
