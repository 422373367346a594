"""Realtime doorbell: tells listeners that a tenant's event log grew; the DB stays the record."""

from __future__ import annotations

from carepath.realtime.feed import EventFeed, Frame
from carepath.realtime.hub import Doorbell, Listener
from carepath.realtime.local import LocalDoorbell
from carepath.realtime.redis import RedisDoorbell

__all__ = [
    "Doorbell",
    "EventFeed",
    "Frame",
    "Listener",
    "LocalDoorbell",
    "RedisDoorbell",
    "make_doorbell",
]


def make_doorbell(redis_url: str | None) -> Doorbell:
    """Redis pub/sub when a URL is set (several workers), else in-process fan-out."""
    if redis_url:
        return RedisDoorbell(redis_url)
    return LocalDoorbell()
