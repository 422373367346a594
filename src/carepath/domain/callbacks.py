"""Callbacks: a request to phone the customer, now or at a time, from the widget, the IVR or an
agent; routed as voice work."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carepath.domain.clock import ensure_aware, utcnow
from carepath.domain.identities import IdentityKind, normalize_identity
from carepath.errors import IllegalTransition, InvalidInput
from carepath.ids import CaseId, CustomerId, TenantId, new_id

# A time a moment in the past is "now" (clocks differ); further back is a mistake.
PAST_TOLERANCE = timedelta(minutes=5)
MAX_AHEAD = timedelta(days=30)


class CallbackStatus(enum.StrEnum):
    """`requested`: asked for, nobody has acted on it; `scheduled`: routing or an agent planned
    it; `done`: the call happened; `cancelled`: it will not."""

    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class CallbackSource(enum.StrEnum):
    WIDGET = "widget"
    IVR = "ivr"
    AGENT = "agent"


TRANSITIONS: Mapping[CallbackStatus, frozenset[CallbackStatus]] = {
    CallbackStatus.REQUESTED: frozenset(
        {CallbackStatus.SCHEDULED, CallbackStatus.DONE, CallbackStatus.CANCELLED}
    ),
    CallbackStatus.SCHEDULED: frozenset({CallbackStatus.DONE, CallbackStatus.CANCELLED}),
    CallbackStatus.DONE: frozenset(),
    CallbackStatus.CANCELLED: frozenset(),
}


@dataclass(eq=False)
class Callback:
    """One request to call `phone` (E.164) about a case, due at `requested_for`."""

    tenant_id: TenantId
    case_id: CaseId
    customer_id: CustomerId
    phone: str
    requested_for: datetime
    source: CallbackSource
    status: CallbackStatus = CallbackStatus.REQUESTED
    id: str = field(default_factory=lambda: new_id("callback"))
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def request(
        cls,
        *,
        tenant_id: TenantId,
        case_id: CaseId,
        customer_id: CustomerId,
        phone: str,
        requested_for: datetime | None,
        source: CallbackSource,
        now: datetime,
    ) -> Callback:
        """`requested_for` None means as soon as possible."""
        when = now if requested_for is None else ensure_aware(requested_for, field="when")
        if when < now - PAST_TOLERANCE:
            raise InvalidInput(
                "the time for the call is in the past; choose a later one", field="when"
            )
        if when > now + MAX_AHEAD:
            raise InvalidInput(
                f"a call can be booked at most {MAX_AHEAD.days} days ahead", field="when"
            )
        return cls(
            tenant_id=tenant_id,
            case_id=case_id,
            customer_id=customer_id,
            phone=normalize_phone(phone),
            requested_for=max(when, now),
            source=CallbackSource(source),
            created_at=now,
        )

    def transition(self, to: CallbackStatus) -> None:
        if to not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"a callback cannot go from {self.status} to {to}",
                callback_id=self.id,
                from_status=self.status.value,
                to_status=to.value,
            )
        self.status = to


def normalize_phone(phone: str) -> str:
    """E.164, with an error that says how to write the number."""
    try:
        return normalize_identity(IdentityKind.PHONE, phone)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc.message}: write the number in international form, e.g. +44 20 7946 0958",
            field="phone",
        ) from exc
