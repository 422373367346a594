"""Channels, and contacts: one customer-initiated session on one channel, the unit of per-channel
metrics, first-contact resolution and repeat contact."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carepath.domain.clock import utcnow
from carepath.errors import IllegalTransition, InvalidInput
from carepath.ids import CaseId, ContactId, CustomerId, TenantId, new_id


class Channel(enum.StrEnum):
    """Where a customer meets the company.

    `chat` is the web chat widget and `app` in-app messaging (and the app's own touchpoints);
    `web` is the website and help centre as touchpoints (page and article views), where no
    conversation happens, so it never carries messages.
    """

    WEB = "web"
    CHAT = "chat"
    APP = "app"
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    VOICE = "voice"

    @property
    def is_conversational(self) -> bool:
        return self is not Channel.WEB

    @property
    def is_digital(self) -> bool:
        return self is not Channel.VOICE


class Handler(enum.StrEnum):
    """Who handled a contact in the end: self-service (articles, app flows), the assistant, or
    an agent."""

    SELF_SERVICE = "self_service"
    ASSISTANT = "assistant"
    AGENT = "agent"


CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)
CES_RANGE = range(1, 6)


@dataclass(eq=False)
class Contact:
    """One session on one channel, part of one case."""

    tenant_id: TenantId
    customer_id: CustomerId
    case_id: CaseId
    channel: Channel
    handled_by: Handler
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None = None
    assistant_involved: bool = False
    # None until known: set at wrap-up, or when the case is resolved or reopened.
    resolved: bool | None = None
    abandoned: bool = False
    wait_s: float | None = None
    handle_s: float | None = None
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    id: ContactId = field(default_factory=lambda: ContactId(new_id("contact")))

    @classmethod
    def start(
        cls,
        tenant_id: TenantId,
        customer_id: CustomerId,
        case_id: CaseId,
        channel: Channel,
        *,
        handled_by: Handler,
        now: datetime | None = None,
    ) -> Contact:
        now = now or utcnow()
        return cls(
            tenant_id=tenant_id,
            customer_id=customer_id,
            case_id=case_id,
            channel=channel,
            handled_by=handled_by,
            started_at=now,
            last_activity_at=now,
            assistant_involved=handled_by is Handler.ASSISTANT,
        )

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None

    def is_active(self, now: datetime, inactivity_gap: timedelta) -> bool:
        """Not ended, and something happened less than `inactivity_gap` before `now`."""
        return self.ended_at is None and now - self.last_activity_at < inactivity_gap

    def touch(self, now: datetime) -> None:
        if self.ended_at is not None:
            raise IllegalTransition(
                f"contact {self.id} has ended; start a new contact", contact_id=self.id
            )
        # Provider callbacks arrive out of order; activity time only moves forward.
        self.last_activity_at = max(self.last_activity_at, now)

    def hand_to(self, handler: Handler, now: datetime) -> None:
        """Record who handles the contact from now on (assistant to agent on a hand-off)."""
        self.touch(now)
        self.handled_by = handler
        if handler is Handler.ASSISTANT:
            self.assistant_involved = True

    def close(self, now: datetime) -> None:
        """End the contact; closing an ended contact keeps its first end time."""
        if self.ended_at is None:
            self.ended_at = max(now, self.started_at)

    def abandon(self, now: datetime) -> None:
        """The customer left before anyone answered."""
        self.abandoned = True
        self.close(now)

    def rate(
        self, *, csat: int | None = None, nps: int | None = None, ces: int | None = None
    ) -> None:
        """Record survey answers: CSAT 1-5, NPS 0-10, CES 1-5. All or nothing."""
        for name, score, allowed in (
            ("csat", csat, CSAT_RANGE),
            ("nps", nps, NPS_RANGE),
            ("ces", ces, CES_RANGE),
        ):
            if score is not None and not _is_score(score, allowed):
                raise InvalidInput(
                    f"{name} must be a whole number from {allowed.start} to {allowed.stop - 1}",
                    field=name,
                )
        if csat is not None:
            self.csat = csat
        if nps is not None:
            self.nps = nps
        if ces is not None:
            self.ces = ces


def _is_score(score: object, allowed: range) -> bool:
    # bool is an int in Python; True must not pass as a score of 1.
    return isinstance(score, int) and not isinstance(score, bool) and score in allowed
