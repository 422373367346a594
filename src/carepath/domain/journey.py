"""Journey events: what a customer did at a touchpoint, the raw material of context hand-off and
of journey analytics."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import ensure_aware, utcnow
from carepath.domain.contacts import Channel
from carepath.domain.masking import mask_card_numbers
from carepath.domain.properties import clean_properties
from carepath.errors import InvalidInput
from carepath.ids import CaseId, ContactId, CustomerId, JourneyEventId, TenantId, new_id

MAX_NAME_LENGTH = 100
MAX_PROPERTIES_BYTES = 8 * 1024


class JourneyEventType(enum.StrEnum):
    # Sent by the company's site and apps through the track API.
    PAGE_VIEW = "page_view"
    ARTICLE_VIEW = "article_view"
    SEARCH = "search"
    APP_STEP = "app_step"
    FORM_STARTED = "form_started"
    FORM_COMPLETED = "form_completed"
    FORM_ABANDONED = "form_abandoned"
    CUSTOM = "custom"
    # Recorded by carepath itself.
    MESSAGE = "message"
    CALL = "call"
    CALLBACK = "callback"
    HANDOFF = "handoff"
    RESOLUTION = "resolution"
    SURVEY = "survey"

    @property
    def is_trackable(self) -> bool:
        """May the track API accept it? carepath's own events must not be forged by clients."""
        return self in _TRACKABLE


_TRACKABLE = frozenset(
    {
        JourneyEventType.PAGE_VIEW,
        JourneyEventType.ARTICLE_VIEW,
        JourneyEventType.SEARCH,
        JourneyEventType.APP_STEP,
        JourneyEventType.FORM_STARTED,
        JourneyEventType.FORM_COMPLETED,
        JourneyEventType.FORM_ABANDONED,
        JourneyEventType.CUSTOM,
    }
)


def validate_event_name(name: str) -> str:
    value = " ".join(mask_card_numbers(name).split())
    if not 1 <= len(value) <= MAX_NAME_LENGTH or not value.isprintable():
        raise InvalidInput(
            f"an event name is 1-{MAX_NAME_LENGTH} printable characters (e.g. return_started)",
            field="name",
        )
    return value


@dataclass(eq=False)
class JourneyEvent:
    """One thing a customer did, when (`occurred_at`, as reported) and where.

    `recorded_at` is when carepath learnt of it; apps may send events late.
    """

    tenant_id: TenantId
    customer_id: CustomerId
    type: JourneyEventType
    name: str
    channel: Channel
    occurred_at: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    case_id: CaseId | None = None
    contact_id: ContactId | None = None
    id: JourneyEventId = field(default_factory=lambda: JourneyEventId(new_id("journey_event")))
    recorded_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        # Here rather than in record(): whichever way an event is built, it is masked and bounded.
        self.type = JourneyEventType(self.type)
        self.channel = Channel(self.channel)
        self.name = validate_event_name(self.name)
        self.occurred_at = ensure_aware(self.occurred_at, field="occurred_at")
        self.properties = clean_properties(
            self.properties, field="properties", max_bytes=MAX_PROPERTIES_BYTES
        )

    @classmethod
    def record(
        cls,
        *,
        tenant_id: TenantId,
        customer_id: CustomerId,
        type: JourneyEventType,
        name: str,
        channel: Channel,
        occurred_at: datetime | None = None,
        properties: Mapping[str, Any] | None = None,
        case_id: CaseId | None = None,
        contact_id: ContactId | None = None,
        now: datetime | None = None,
    ) -> JourneyEvent:
        now = now or utcnow()
        return cls(
            tenant_id=tenant_id,
            customer_id=customer_id,
            type=type,
            name=name,
            channel=channel,
            occurred_at=occurred_at or now,
            properties=dict(properties or {}),
            case_id=case_id,
            contact_id=contact_id,
            recorded_at=now,
        )
