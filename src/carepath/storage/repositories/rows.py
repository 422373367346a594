"""Domain objects inserted with Core, outside the ORM's unit of work: one statement per table.

For rows that a transaction creates and does not change after they are written (ingest's new
customer, identities, case, contact, message and journey event): the ORM flush's per-object
bookkeeping (identity map, dependency sort, attribute history) costs more CPU than the insert
itself, and it sends one statement per object. Here the rows of a table go in ONE `executemany`
(asyncpg pipelines it: one round trip for a whole batch of messages), the tables parents first.
The objects are not in the session: callers read them as plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

_layouts: dict[type, tuple[Insert, tuple[str, ...], int]] = {}


async def insert_rows(session: AsyncSession, objects: Iterable[object]) -> None:
    """Insert `objects`: one executemany per table, in the metadata's foreign-key order (parents
    first), their values read now. On the session's connection, so the ORM does not autoflush
    first: what it holds may refer to these rows (a work item to its case) and goes after."""
    by_class: dict[type, list[dict[str, Any]]] = {}
    for obj in objects:
        by_class.setdefault(type(obj), []).append(_row_of(obj))
    connection = await session.connection()
    for cls in sorted(by_class, key=lambda cls: _layout(cls)[2]):
        await connection.execute(_layout(cls)[0], by_class[cls])


def _layout(cls: type) -> tuple[Insert, tuple[str, ...], int]:
    """The mapped class's INSERT, its column attributes (keyed as the columns are) and its
    table's place in the foreign-key order."""
    if cls in _layouts:
        return _layouts[cls]
    mapper: Mapper[Any] = inspect(cls)
    table = mapper.local_table
    if not isinstance(table, Table):
        raise TypeError(f"{cls.__name__} is not mapped onto one table")
    if any(c.default is not None or c.server_default is not None for c in table.columns):
        # The ORM leaves a None out so that a default applies; these rows write every column.
        raise TypeError(f"{table.name} has column defaults: insert it through the ORM")
    keys = []
    for prop in mapper.column_attrs:
        if prop.key != prop.columns[0].key:
            raise TypeError(f"{cls.__name__}.{prop.key} is mapped onto another column name")
        keys.append(prop.key)
    # sorted_tables: every table after the tables its foreign keys point at.
    rank = table.metadata.sorted_tables.index(table)
    _layouts[cls] = insert(table), tuple(keys), rank
    return _layouts[cls]


def _row_of(obj: Any) -> dict[str, Any]:
    """Every mapped column's value, None as NULL (no column has a default: see _layout)."""
    return {key: getattr(obj, key) for key in _layout(type(obj))[1]}
