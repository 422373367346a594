"""The transactional outbox: work to do after a commit (deliveries, webhooks), at least once."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from carepath.domain.clock import utcnow
from carepath.ids import TenantId, new_id

MAX_ATTEMPTS = 12
BASE_BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(hours=1)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # gave up after MAX_ATTEMPTS; kept for inspection and manual retry


@dataclass(eq=False)
class OutboxItem:
    tenant_id: TenantId
    kind: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("outbox"))
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    available_at: datetime = field(default_factory=utcnow)
    locked_until: datetime | None = None
    locked_by: str | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    done_at: datetime | None = None

    def claim(self, worker: str, now: datetime, lease: timedelta) -> None:
        self.locked_by = worker
        self.locked_until = now + lease
        self.attempts += 1

    def succeed(self, now: datetime) -> None:
        self.status = OutboxStatus.DONE
        self.done_at = now
        self.locked_until = None
        self.last_error = None

    def fail(self, error: str, now: datetime, *, retryable: bool = True) -> None:
        """Schedule a retry with exponential backoff and jitter, or give up."""
        self.last_error = error[:2000]
        self.locked_until = None
        if not retryable or self.attempts >= MAX_ATTEMPTS:
            self.status = OutboxStatus.DEAD
            return
        backoff = min(MAX_BACKOFF, BASE_BACKOFF * 2 ** (self.attempts - 1))
        # Jitter spreads retries of many items that failed together (a provider outage).
        self.available_at = now + backoff * (0.5 + random.random() / 2)  # noqa: S311
