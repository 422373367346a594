"""What an outbox handler is: an idempotent coroutine that does one item's work or raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from carepath.domain.outbox import OutboxItem
from carepath.storage import Database


@dataclass(frozen=True)
class HandlerContext:
    """What the worker lends a handler: the database (for short reads) and its clock."""

    db: Database
    worker: str
    clock: Callable[[], datetime]


class Handler(Protocol):
    """Does the work of one outbox item, outside any transaction.

    Returns when the work is done; raises `carepath.errors.DeliveryFailed` when it is not (with
    `retryable` saying whether to try again). Delivery is at least once: a worker that dies after
    the work but before recording it leaves the item to be run again when its lease expires, so
    a handler must be idempotent or its receiver must deduplicate (webhook receivers do it on the
    event id header).
    """

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None: ...
