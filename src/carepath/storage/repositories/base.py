"""What every repository shares: the session, and keyset (cursor) pagination."""

from __future__ import annotations

import base64
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Select
from sqlalchemy.ext.asyncio import AsyncSession

from carepath.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode()
        value = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not one this API returned", field="cursor") from exc
    if not value:
        raise InvalidInput("the cursor is not one this API returned", field="cursor")
    return value


# What a preload found nothing for is remembered too (None); this marks "never preloaded".
NOT_PRELOADED: Any = object()


def in_list(values: Iterable[T]) -> list[T]:
    """Values for an IN list, repeated up to a power of two in length: the statement's text
    varies with the length, and PostgreSQL connections keep a bounded cache of prepared
    statements, so a few lengths (1, 2, 4, ... 64) serve every batch size."""
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return distinct
    size = 1 << (len(distinct) - 1).bit_length()
    return distinct + [distinct[-1]] * (size - len(distinct))


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Answers read ahead for a whole write batch (storage/write_batches.py), per read and key.
        self._preloaded: dict[Hashable, Any] = {}

    def _preloaded_answer(self, key: Hashable) -> Any:
        """The preloaded answer to this read, once: it serves the first read only, so a second
        read (after writes of this transaction) asks the database."""
        return self._preloaded.pop(key, NOT_PRELOADED)

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def page(
        self, query: Select[Any], id_column: Column[str], *, limit: int, cursor: str | None
    ) -> Page[Any]:
        """Keyset pagination on the (time-ordered) id: stable under inserts, no OFFSET scans."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
        if cursor:
            query = query.where(id_column > decode_cursor(cursor))
        rows = (await self.session.scalars(query.order_by(id_column).limit(limit + 1))).all()
        more = len(rows) > limit
        items = rows[:limit]
        last_id: str | None = getattr(items[-1], "id", None) if items else None
        return Page(items=items, next_cursor=encode_cursor(last_id) if more and last_id else None)
