"""The event stream: every change as a typed event with a per-tenant, gap-free, increasing seq."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.ids import TenantId


class EventType(enum.StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"  # delivery status, provider id
    CASE_CREATED = "case.created"
    CASE_UPDATED = "case.updated"
    CASE_ASSIGNED = "case.assigned"
    CASE_RESOLVED = "case.resolved"
    CASE_REOPENED = "case.reopened"
    CONTACT_STARTED = "contact.started"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMER_ERASED = "customer.erased"  # right to erasure: counts only, no personal data
    JOURNEY_EVENT = "journey.event"
    SURVEY_SENT = "survey.sent"
    SURVEY_ANSWERED = "survey.answered"
    NOTE_ADDED = "note.added"
    CALLBACK_REQUESTED = "callback.requested"
    CALLBACK_UPDATED = "callback.updated"  # scheduled, done or cancelled
    CALL_INCOMING = "call.incoming"  # the screen pop: who is calling, their case and journey
    CALL_UPDATED = "call.updated"  # placed, answered, queued, ended; wait and talk time
    TYPING = "typing"  # someone is writing on a case now; throttled, shown for a few seconds
    WORK_QUEUED = "work.queued"  # a case or callback waits for an agent (again, after a decline)
    WORK_OFFERED = "work.offered"
    WORK_ASSIGNED = "work.assigned"
    WORK_SLA_BREACHED = "work.sla_breached"
    AGENT_PRESENCE = "agent.presence"
    ARTICLE_CREATED = "article.created"
    ARTICLE_UPDATED = "article.updated"  # edits, publish and unpublish
    ARTICLE_DELETED = "article.deleted"
    ASSISTANT_TURN = "assistant.turn"  # a bot turn and its outcome (answered, handed off…)


@dataclass(eq=False)
class Event:
    """Written by actions in the same transaction as the change it describes; never edited."""

    tenant_id: TenantId
    seq: int
    type: str
    payload: dict[str, Any]
    created_at: datetime = field(default_factory=utcnow)
    customer_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.seq,
            "type": self.type,
            "at": self.created_at.isoformat(),
            "data": self.payload,
        }
