"""The SQLite driver (storage/sqlite_driver.py): one hand-off to the connection's thread per
statement, with what SQLAlchemy's stock aiosqlite adapter gave kept: rows, rowcount, lastrowid,
DBAPI errors, transactions, executemany, streaming, close on dispose, and a usable database
after a cancelled statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncConnection

from carepath.storage import Database

SLOW_COUNT = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*) FROM c"
)


@pytest.fixture(params=["file", "memory"])
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "driver.db" if request.param == "file" else ":memory:"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT UNIQUE)"))
    yield db
    await db.dispose()


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    return raw.driver_connection


@contextmanager
def hand_offs(driver: Any) -> Iterator[list[object]]:
    """Every call queued to the aiosqlite connection's thread while inside."""
    calls: list[object] = []
    queue = driver._execute

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(fn)
        return await queue(fn, *args, **kwargs)

    driver._execute = counted
    try:
        yield calls
    finally:
        del driver._execute


async def test_a_statement_is_one_hand_off_to_the_thread(sqlite_db: Database) -> None:
    async with sqlite_db.engine.begin() as conn:
        driver = await _driver(conn)
        await conn.execute(text("SELECT 1"))  # the transaction's BEGIN is behind us
        # when a read, an insert and an executemany run
        with hand_offs(driver) as read:
            rows = (await conn.execute(text("SELECT 1, 'a'"))).all()
        with hand_offs(driver) as insert:
            await conn.execute(text("INSERT INTO items (key) VALUES ('k')"))
        with hand_offs(driver) as many:
            await conn.execute(
                text("INSERT INTO items (key) VALUES (:key)"), [{"key": "x"}, {"key": "y"}]
            )
    # then each went to the thread once (the stock adapter: cursor, execute, fetch, close)
    assert rows == [(1, "a")]
    assert len(read) == 1
    assert len(insert) == 1
    assert len(many) == 1


async def test_rows_rowcount_lastrowid_and_executemany(sqlite_db: Database) -> None:
    async with sqlite_db.engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO items (key) VALUES ('a')"))
        second = await conn.execute(text("INSERT INTO items (key) VALUES ('b')"))
        many = await conn.execute(
            text("INSERT INTO items (key) VALUES (:key)"), [{"key": "c"}, {"key": "d"}]
        )
        updated = await conn.execute(text("UPDATE items SET key = key || '!' WHERE id > 2"))
        result = await conn.execute(text("SELECT id, key FROM items ORDER BY id"))
        keys = list(result.keys())
        rows = result.all()
        none = (await conn.execute(text("SELECT id FROM items WHERE id < 0"))).all()
    assert (first.rowcount, first.lastrowid) == (1, 1)
    assert (second.rowcount, second.lastrowid) == (1, 2)
    assert many.rowcount == 2
    assert updated.rowcount == 2
    assert keys == ["id", "key"]
    assert rows == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]
    assert none == []


async def test_fetching_in_parts_and_a_second_statement_on_one_cursor(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO items (key) VALUES (:key)"), [{"key": str(n)} for n in range(5)]
        )
        result = await conn.execute(text("SELECT key FROM items ORDER BY id"))
        assert result.fetchone() == ("0",)
        assert result.fetchmany(2) == [("1",), ("2",)]
        assert result.fetchall() == [("3",), ("4",)]
        assert await conn.run_sync(_two_statements_on_one_cursor) == [(5,)]


def _two_statements_on_one_cursor(conn: Any) -> Any:
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("SELECT key FROM items WHERE id = ?", (1,))
    cursor.execute("SELECT count(*) FROM items")  # the first one's rows are gone
    rows = cursor.fetchall()
    cursor.close()
    return rows


async def test_a_unique_key_violation_is_sqlalchemys_integrity_error(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO items (key) VALUES ('same')"))
    with pytest.raises(exc.IntegrityError) as raised:
        async with sqlite_db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO items (key) VALUES ('same')"))
    assert "UNIQUE constraint failed" in str(raised.value.orig)
    # and the connection that raised it goes on working
    async with sqlite_db.engine.begin() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM items"))).scalar() == 1


async def test_a_rollback_undoes_and_a_commit_keeps(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        await conn.execute(text("INSERT INTO items (key) VALUES ('gone')"))
        await conn.rollback()
        await conn.execute(text("INSERT INTO items (key) VALUES ('kept')"))
        await conn.commit()
    async with sqlite_db.uow(write=False) as uow:
        keys = (await uow.session.execute(text("SELECT key FROM items"))).scalars().all()
    assert keys == ["kept"]


async def test_writers_begin_immediate_and_the_pragmas_are_set(sqlite_db: Database) -> None:
    async with sqlite_db.uow() as uow:
        driver = await _driver(await uow.session.connection())
        in_transaction = driver.in_transaction
        foreign_keys = (await uow.session.execute(text("PRAGMA foreign_keys"))).scalar()
        timeout = (await uow.session.execute(text("PRAGMA busy_timeout"))).scalar()
    assert in_transaction  # BEGIN IMMEDIATE before the first statement
    assert foreign_keys == 1
    assert timeout == 10_000


async def test_streamed_results_still_come_in_parts(sqlite_db: Database) -> None:
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO items (key) VALUES (:key)"), [{"key": str(n)} for n in range(10)]
        )
        result = await conn.stream(text("SELECT key FROM items ORDER BY id"))
        parts = [[row[0] for row in part] async for part in result.partitions(4)]
    assert parts == [["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8", "9"]]


async def test_dispose_closes_the_connections_and_their_threads(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'closed.db'}")
    async with db.engine.connect() as conn:
        driver = await _driver(conn)
        await conn.execute(text("SELECT 1"))
    await db.dispose()
    driver._thread.join(timeout=5)
    assert not driver._thread.is_alive()
    assert driver._connection is None


async def test_a_cancelled_statement_leaves_the_database_usable(tmp_path: Path) -> None:
    # (A file: SQLAlchemy replaces a connection cancelled mid-statement, and a new connection
    # to :memory: is a new, empty database.)
    sqlite_db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cancelled.db'}")
    try:
        await _cancel_a_writer_then_write(sqlite_db)
    finally:
        await sqlite_db.dispose()


async def _cancel_a_writer_then_write(sqlite_db: Database) -> None:
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT UNIQUE)"))
    # given a writer cancelled in the middle of a long statement, holding the write lock
    started = asyncio.Event()

    async def long_write() -> None:
        async with sqlite_db.uow() as uow:
            await uow.session.execute(text("INSERT INTO items (key) VALUES ('cancelled')"))
            started.set()
            await uow.session.execute(text(SLOW_COUNT))

    task = asyncio.create_task(long_write())
    await started.wait()
    await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # when another writer comes
    async with asyncio.timeout(30):
        async with sqlite_db.uow() as uow:
            await uow.session.execute(text("INSERT INTO items (key) VALUES ('next')"))
        async with sqlite_db.uow(write=False) as uow:
            keys = (await uow.session.execute(text("SELECT key FROM items"))).scalars().all()
    # then it wrote, and the cancelled one's insert was undone
    assert keys == ["next"]
