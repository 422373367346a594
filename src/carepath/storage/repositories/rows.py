"""Domain objects inserted with one Core statement each, outside the ORM's unit of work.

For rows that are written once and not changed again in the transaction that creates them (an
inbound message, its journey event): the ORM flush's per-object bookkeeping (identity map,
dependency sort, attribute history) costs more CPU than the insert itself on the ingest path.
What was added to the session is flushed first, so the rows they refer to exist (the foreign
key order holds). The objects are not in the session: callers read them as plain values, and a
change made to one afterwards would not be saved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

_layouts: dict[type, tuple[Insert, tuple[str, ...]]] = {}


async def insert_now(session: AsyncSession, *objects: object) -> None:
    """Flush the session, then insert `objects` in the order given (parents first)."""
    await session.flush()
    for obj in objects:
        await session.execute(_layout(type(obj))[0], [_row_of(obj)])


def _layout(cls: type) -> tuple[Insert, tuple[str, ...]]:
    """The mapped class's INSERT and its column attributes (keyed as the columns are)."""
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
    _layouts[cls] = insert(table), tuple(keys)
    return _layouts[cls]


def _row_of(obj: Any) -> dict[str, Any]:
    """Every mapped column's value, None as NULL (no column has a default: see _layout)."""
    return {key: getattr(obj, key) for key in _layout(type(obj))[1]}
