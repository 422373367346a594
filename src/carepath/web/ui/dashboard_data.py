"""What the dashboard reads: a tenant's contacts and journey events from the operational database
(as `carepath metrics` does without --input), the plan its strategy map makes, and the filters
of a request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import TYPE_CHECKING, Any

from carepath.errors import InvalidInput
from carepath.ids import TenantId

if TYPE_CHECKING:
    import pyarrow as pa

    from carepath.storage import Database

MAX_HOURS = 24 * 30
# The interchange channels and handlers (analytics/schema.py), kept here so that parsing a
# request does not import the analytics stack.
CHANNELS = ("web", "app", "chat", "email", "sms", "whatsapp", "social", "voice")
HANDLERS = ("self_service", "assistant", "agent")


@dataclass(frozen=True)
class TenantData:
    """One read of a tenant's tables, and the choices its filters offer."""

    contacts: pa.Table
    events: pa.Table
    plan: Mapping[tuple[str, str], str] | None
    intents: tuple[str, ...]
    segments: tuple[str, ...]
    # Tells cached figures of an earlier read from those of this one.
    version: float = field(default_factory=time.monotonic)

    @property
    def empty(self) -> bool:
        return bool(self.contacts.num_rows == 0)


async def load_tenant_data(db: Database, tenant_id: TenantId) -> TenantData:
    from carepath.analytics.export import read_all
    from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
    from carepath.analytics.strategy import plan_from_config
    from carepath.tenant_config import TenantConfig

    contacts = await read_all(db, CONTACTS, tenant_id)
    events = await read_all(db, JOURNEY_EVENTS, tenant_id)
    async with db.uow(write=False) as uow:
        current = await uow.tenant_configs.current(tenant_id)
    plan = None
    if current is not None:
        plan = plan_from_config(TenantConfig.model_validate(current.document))
    return TenantData(
        contacts=contacts,
        events=events,
        plan=plan,
        intents=_distinct(contacts, "intent"),
        segments=_distinct(contacts, "segment"),
    )


def _distinct(table: pa.Table, column: str) -> tuple[str, ...]:
    values = table.column(column).unique().to_pylist()
    return tuple(sorted(str(v) for v in values if v is not None))


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters: contacts that started from `start` to `end` (days, both
    included), on a channel, of an intent and segment; movement adds the handler and hours."""

    start: date | None = None
    end: date | None = None
    channel: str | None = None
    intent: str | None = None
    segment: str | None = None
    handled_by: str | None = None
    hours: float = 24

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        start, end = _day(query, "from"), _day(query, "to")
        if start and end and end < start:
            raise InvalidInput("the period ends before it starts", field="to")
        channel = _choice(query, "channel", CHANNELS)
        handled_by = _choice(query, "handled_by", HANDLERS)
        hours = _hours(query)
        return cls(
            start,
            end,
            channel,
            _text(query, "intent"),
            _text(query, "segment"),
            handled_by,
            hours,
        )

    @property
    def since(self) -> datetime | None:
        return None if self.start is None else datetime.combine(self.start, day_time(), UTC)

    @property
    def until(self) -> datetime | None:
        """The end as an exclusive instant: the day after the last day."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), day_time(), UTC)

    @property
    def where(self) -> dict[str, str]:
        """The contact filters, as `Metrics(where=...)` takes them."""
        found = {"channel": self.channel, "intent": self.intent, "segment": self.segment}
        return {name: value for name, value in found.items() if value is not None}

    @property
    def journey_where(self) -> dict[str, str]:
        """For journeys, the channel is the one the journey started on."""
        found = {"first_channel": self.channel, "intent": self.intent, "segment": self.segment}
        return {name: value for name, value in found.items() if value is not None}

    def query(self) -> dict[str, str]:
        """The filters as query parameters, for links that keep them."""
        found: dict[str, Any] = {
            "from": self.start,
            "to": self.end,
            "channel": self.channel,
            "intent": self.intent,
            "segment": self.segment,
        }
        return {name: str(value) for name, value in found.items() if value is not None}


def _day(query: Mapping[str, str], name: str) -> date | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: expected a date as YYYY-MM-DD", field=name) from None


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    if text not in allowed:
        raise InvalidInput(f"{name}: use one of {', '.join(allowed)}", field=name)
    return text


def _text(query: Mapping[str, str], name: str) -> str | None:
    text = query.get(name, "").strip()
    if len(text) > 80:
        raise InvalidInput(f"{name}: at most 80 characters", field=name)
    return text or None


def _hours(query: Mapping[str, str]) -> float:
    text = query.get("hours", "").strip()
    if not text:
        return 24
    try:
        hours = float(text)
    except ValueError:
        raise InvalidInput("hours: expected a number", field="hours") from None
    if not 0 < hours <= MAX_HOURS:
        raise InvalidInput(f"hours: more than 0 and at most {MAX_HOURS}", field="hours")
    return hours
