"""Cases: one customer issue from first touch to resolution, across channels, with its status
machine, intent, priority, owner and SLA due time.

Status transitions (anything else raises IllegalTransition)::

    bot              -> queued | assigned | resolved
    queued           -> assigned | resolved
    assigned         -> pending_customer | queued | resolved
    pending_customer -> assigned | queued | resolved
    resolved         -> closed | queued | assigned        (the last two are a reopen)
    closed           -> (final: a message after closing opens a new case)

`bot` includes the assistant waiting for the customer's answer; `pending_customer` is an agent
waiting for the customer, so there is no bot -> pending_customer. A customer message on a
pending_customer case returns it to its assignee (assigned) or, if it has none, to the queue.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.customers import validate_segment
from carepath.domain.masking import mask_card_numbers
from carepath.errors import IllegalTransition, InvalidInput
from carepath.ids import CaseId, CustomerId, TenantId, UserId, new_id

MAX_SUBJECT_LENGTH = 300
_INTENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


class CaseStatus(enum.StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)


TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.BOT: frozenset({CaseStatus.QUEUED, CaseStatus.ASSIGNED, CaseStatus.RESOLVED}),
    CaseStatus.QUEUED: frozenset({CaseStatus.ASSIGNED, CaseStatus.RESOLVED}),
    CaseStatus.ASSIGNED: frozenset(
        {CaseStatus.PENDING_CUSTOMER, CaseStatus.QUEUED, CaseStatus.RESOLVED}
    ),
    CaseStatus.PENDING_CUSTOMER: frozenset(
        {CaseStatus.ASSIGNED, CaseStatus.QUEUED, CaseStatus.RESOLVED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.QUEUED, CaseStatus.ASSIGNED}),
    CaseStatus.CLOSED: frozenset(),
}
OPENING_STATUSES = frozenset({CaseStatus.BOT, CaseStatus.QUEUED, CaseStatus.ASSIGNED})


def can_transition(from_status: CaseStatus, to_status: CaseStatus) -> bool:
    return to_status in TRANSITIONS[from_status]


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Higher is more urgent; sort work by this, not by the name."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def validate_intent(intent: str) -> str:
    """The shape of an intent name; whether the tenant's taxonomy has it is checked elsewhere."""
    value = intent.strip()
    if not _INTENT.fullmatch(value):
        raise InvalidInput(
            "an intent is 1-80 letters, digits, '_', '.' or '-' (e.g. refund_not_received)",
            field="intent",
        )
    return value


@dataclass(eq=False)
class Case:
    """One customer issue. `channel` is the channel of its latest contact.

    `assignee_id` is always set when assigned, never when bot or queued; a pending_customer
    case may lose its assignee; resolved and closed cases keep the agent who had them.
    """

    tenant_id: TenantId
    customer_id: CustomerId
    channel: Channel
    status: CaseStatus = CaseStatus.BOT
    intent: str | None = None
    priority: Priority = Priority.NORMAL
    segment: str | None = None
    assignee_id: UserId | None = None
    subject: str | None = None
    sla_due_at: datetime | None = None
    reopen_count: int = 0
    id: CaseId = field(default_factory=lambda: CaseId(new_id("case")))
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    # The assistant's hand-off packet (assistant/handoff.py), shown first to the agent.
    handoff: dict[str, Any] | None = None

    @classmethod
    def open(
        cls,
        tenant_id: TenantId,
        customer_id: CustomerId,
        channel: Channel,
        *,
        status: CaseStatus = CaseStatus.BOT,
        assignee_id: UserId | None = None,
        intent: str | None = None,
        priority: Priority = Priority.NORMAL,
        segment: str | None = None,
        subject: str | None = None,
        sla_due_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Case:
        if status not in OPENING_STATUSES:
            raise InvalidInput("a case opens as bot, queued or assigned", field="status")
        if (status is CaseStatus.ASSIGNED) != (assignee_id is not None):
            raise InvalidInput(
                "a case opens with an assignee exactly when it opens as assigned",
                field="assignee_id",
            )
        now = now or utcnow()
        return cls(
            tenant_id=tenant_id,
            customer_id=customer_id,
            channel=channel,
            status=status,
            assignee_id=assignee_id,
            intent=None if intent is None else validate_intent(intent),
            priority=priority,
            segment=None if segment is None else validate_segment(segment),
            subject=_clean_subject(subject),
            sla_due_at=sla_due_at,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def may_continue(self, now: datetime, reopen_window: timedelta) -> bool:
        """May a new inbound message thread into this case (reopening it if resolved)?

        Yes while it is open, or resolved less than `reopen_window` ago; never once closed.
        """
        if self.is_open:
            return True
        if self.status is CaseStatus.RESOLVED and self.resolved_at is not None:
            return now - self.resolved_at < reopen_window
        return False

    def transition(self, to: CaseStatus, now: datetime) -> None:
        """Move to `to` if the status machine allows it, keeping the dates and owner consistent."""
        if not can_transition(self.status, to):
            raise IllegalTransition(
                f"a case cannot go from {self.status} to {to}",
                case_id=self.id,
                from_status=self.status.value,
                to_status=to.value,
            )
        if to is CaseStatus.ASSIGNED and self.assignee_id is None:
            raise IllegalTransition(
                "a case needs an assignee to be assigned; use assign()", case_id=self.id
            )
        if self.status is CaseStatus.RESOLVED and to.is_open:
            self.reopen_count += 1
            self.resolved_at = None
        if to in (CaseStatus.BOT, CaseStatus.QUEUED):
            self.assignee_id = None
        if to is CaseStatus.RESOLVED:
            self.resolved_at = now
        elif to is CaseStatus.CLOSED:
            self.closed_at = now
        self.status = to
        self.updated_at = now

    def hand_off(self, now: datetime) -> None:
        """The assistant passes the case to the queue."""
        self._require(CaseStatus.BOT, "hand off")
        self.transition(CaseStatus.QUEUED, now)

    def assign(self, user_id: UserId, now: datetime) -> None:
        """Give the case to `user_id`; on an assigned or pending case this is a transfer."""
        if self.status in (CaseStatus.ASSIGNED, CaseStatus.PENDING_CUSTOMER):
            self.assignee_id = user_id
            self.updated_at = now
            return
        if not self.is_open:
            raise IllegalTransition(
                f"a {self.status} case cannot be assigned; reopen it first", case_id=self.id
            )
        self.assignee_id = user_id
        self.transition(CaseStatus.ASSIGNED, now)

    def unassign(self, now: datetime) -> None:
        """Take the case from its agent: back to the queue, or, when waiting for the
        customer, keep waiting with nobody (the customer's answer then goes to the queue)."""
        if self.status is CaseStatus.ASSIGNED:
            self.transition(CaseStatus.QUEUED, now)
        elif self.status is CaseStatus.PENDING_CUSTOMER:
            self.assignee_id = None
            self.updated_at = now
        else:
            raise IllegalTransition(
                f"a {self.status} case has no agent to take it from", case_id=self.id
            )

    def wait_for_customer(self, now: datetime) -> None:
        self.transition(CaseStatus.PENDING_CUSTOMER, now)

    def resolve(self, now: datetime) -> None:
        self.transition(CaseStatus.RESOLVED, now)

    def close(self, now: datetime) -> None:
        self.transition(CaseStatus.CLOSED, now)

    def reopen(self, now: datetime, *, assignee_id: UserId | None = None) -> None:
        """Reopen a resolved case: to `assignee_id` if given, else to the queue."""
        self._require(CaseStatus.RESOLVED, "reopen")
        if assignee_id is None:
            self.transition(CaseStatus.QUEUED, now)
        else:
            self.assignee_id = assignee_id
            self.transition(CaseStatus.ASSIGNED, now)

    def on_customer_message(self, now: datetime) -> bool:
        """Apply a new customer message to the status; True if the status changed.

        pending_customer goes back to its assignee (or the queue); resolved is reopened to the
        queue (check `may_continue` first); closed refuses, since the message needs a new case.
        """
        if self.status is CaseStatus.PENDING_CUSTOMER:
            back = CaseStatus.QUEUED if self.assignee_id is None else CaseStatus.ASSIGNED
            self.transition(back, now)
            return True
        if self.status is CaseStatus.RESOLVED:
            self.reopen(now)
            return True
        if self.status is CaseStatus.CLOSED:
            raise IllegalTransition(
                "a closed case takes no more messages; open a new case", case_id=self.id
            )
        self.updated_at = now
        return False

    def set_intent(self, intent: str | None, now: datetime) -> None:
        self.intent = None if intent is None else validate_intent(intent)
        self.updated_at = now

    def set_priority(self, priority: Priority, now: datetime) -> None:
        self.priority = Priority(priority)
        self.updated_at = now

    def set_segment(self, segment: str | None, now: datetime) -> None:
        self.segment = None if segment is None else validate_segment(segment)
        self.updated_at = now

    def set_subject(self, subject: str | None, now: datetime) -> None:
        self.subject = _clean_subject(subject)
        self.updated_at = now

    def set_sla_due(self, due_at: datetime | None, now: datetime) -> None:
        self.sla_due_at = due_at
        self.updated_at = now

    def move_to_channel(self, channel: Channel, now: datetime) -> None:
        """The customer continued the case on another channel."""
        self.channel = Channel(channel)
        self.updated_at = now

    def _require(self, status: CaseStatus, verb: str) -> None:
        if self.status is not status:
            raise IllegalTransition(
                f"only a {status} case can {verb}; this one is {self.status}", case_id=self.id
            )


def _clean_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    text = " ".join(mask_card_numbers(subject).split())
    # Subjects come from providers (email) and cannot be sent back for fixing: cut, not refuse.
    if len(text) > MAX_SUBJECT_LENGTH:
        text = text[: MAX_SUBJECT_LENGTH - 1] + "…"
    return text or None
