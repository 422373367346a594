"""What every repository shares: the session, and keyset (cursor) pagination."""

from __future__ import annotations

import base64
from collections.abc import Sequence
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


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
