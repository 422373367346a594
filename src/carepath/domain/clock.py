"""The one way the model reads the time: always timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from carepath.errors import InvalidInput

_replayed: ContextVar[datetime | None] = ContextVar("carepath_replayed_now", default=None)


def utcnow() -> datetime:
    replayed = _replayed.get()
    return replayed if replayed is not None else datetime.now(UTC)


@contextmanager
def replay_at(at: datetime) -> Iterator[None]:
    """Within this block (this task and what it starts) `utcnow()` is `at`: the demo replays
    history through the real actions at the times it happened."""
    token = _replayed.set(ensure_aware(at, field="at"))
    try:
        yield
    finally:
        _replayed.reset(token)


def ensure_aware(value: datetime, *, field: str) -> datetime:
    """`value` in UTC; a naive time is refused because its zone can only be guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} needs a time zone (e.g. 2024-05-01T09:30:00Z)", field=field)
    return value.astimezone(UTC)
