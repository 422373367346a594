"""SQLAlchemy's aiosqlite adapter with one hand-off to the database thread per statement.

aiosqlite runs every call in the connection's own thread and wakes the event loop for each
result. SQLAlchemy's adapter makes four such calls per statement (make the cursor, execute,
fetch all rows, close the cursor): measured on ingest, about 50 hand-offs per message for 12.5
statements, with their queue puts, thread switches and loop wake-ups a large part of SQLite's
CPU per message (twice PostgreSQL's). Here a buffered cursor does all four in one call and
keeps the rows, description, rowcount and lastrowid it brought back (about 17.5 hand-offs per
message, BEGIN, commit and rollback included).

The sqlite3 cursor never leaves the thread and is finished there: a caller cancelled while
waiting leaves no half-read statement behind. With the stock adapter one did, and kept the
connection's transaction, and SQLite's write lock, alive after SQLAlchemy had closed it.

Everything else is the stock dialect's: connection arguments from the URL, the error classes,
commit/rollback/close, terminate, and server-side cursors (`stream`, `yield_per`), which keep
aiosqlite's own cursor and fetch as they go.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT, await_

# What one call into the thread brings back: description, rows, rowcount, lastrowid.
_Outcome = tuple[Any, list[Any], int, int | None]


def _execute(conn: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    # Runs in the connection's thread. All rows are fetched here: the statement is then reset
    # and the cursor closed, whether or not anyone still awaits the outcome.
    cursor = conn.cursor()
    try:
        cursor.execute(sql, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, seq_of_parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(sql, seq_of_parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class BufferedCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose execute is one call into the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    # No aiosqlite cursor to close, in a greenlet or not.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # Not the base's: that asks the thread for a sqlite3 cursor, a hand-off of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(_execute, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(_executemany, operation, seq_of_parameters)

    def _run(self, function: Any, operation: Any, parameters: Any) -> None:
        # A new statement forgets the last one's rows, as a DBAPI cursor does. (The stock
        # adapter's execute mutex kept its execute and fetch together; one call needs none.)
        self._rows.clear()
        self._description = None
        self._rowcount = -1
        try:
            # `_conn` raises ValueError on a closed connection, which _handle_exception turns
            # into the OperationalError the dialect recognises as a disconnect.
            connection = self._connection
            outcome: _Outcome = await_(
                connection._execute(function, connection._conn, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows.extend(rows)

    def close(self) -> None:
        self._rows.clear()


class OneHandOffConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = BufferedCursor


class OneHandOffDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module the engine is given (`module=`): the stock one, whose connections make
    buffered cursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneHandOffConnection:
        stock = super().connect(*arg, **kw)
        return OneHandOffConnection(self, stock._connection)


def dbapi() -> OneHandOffDBAPI:
    return OneHandOffDBAPI(aiosqlite, sqlite3)
