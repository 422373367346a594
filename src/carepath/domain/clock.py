"""The one way the model reads the time: always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from carepath.errors import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_aware(value: datetime, *, field: str) -> datetime:
    """`value` in UTC; a naive time is refused because its zone can only be guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} needs a time zone (e.g. 2024-05-01T09:30:00Z)", field=field)
    return value.astimezone(UTC)
