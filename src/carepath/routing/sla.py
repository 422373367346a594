"""SLA breaches of waiting work, as values: which items came due, detected when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from carepath.routing.model import WorkItem


@dataclass(frozen=True, slots=True)
class SlaBreach:
    item_id: str
    queue: str
    due_at: float
    detected_at: float


def sla_breaches(items: Iterable[WorkItem], now: float) -> list[SlaBreach]:
    """Items due by `now` whose breach has not been reported yet (see `mark_breached`)."""
    return [
        SlaBreach(item.item_id, item.queue_name, item.sla_due_at, now)
        for item in items
        if item.sla_due_at is not None and not item.sla_breached and now >= item.sla_due_at
    ]


def mark_breached(item: WorkItem) -> WorkItem:
    """The item after its breach was reported, so that it is reported once."""
    return replace(item, sla_breached=True)
