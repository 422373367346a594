"""The assistant's record of each bot turn: what it understood, what it did, and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.ids import CaseId, ContactId, TenantId, new_id

# The outbox kind ingest writes for a customer message on a case in the bot stage.
ASSISTANT_TURN = "assistant_turn"


class TurnOutcome(enum.StrEnum):
    ANSWERED = "answered"  # an article or a flow's reply
    ASKED = "asked"  # a question back: a slot, or "could you say that another way?"
    HANDED_OFF = "handed_off"
    CONTAINED = "contained"  # the customer confirmed it was solved; the case is resolved


class HandoffReason(enum.StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    FRUSTRATION = "frustration"
    NOT_HELPFUL = "not_helpful"
    LOW_CONFIDENCE = "low_confidence"
    SALES_OPPORTUNITY = "sales_opportunity"
    LIVE_TREATMENT = "live_treatment"
    NO_ANSWER = "no_answer"
    FLOW_FAILED = "flow_failed"
    NO_MODEL = "no_model"


@dataclass(eq=False)
class AssistantTurn:
    """One customer message handled by the assistant. `state` is the conversation as it stands
    after this turn (slots, flow step, articles tried), read back by the next turn."""

    tenant_id: TenantId
    case_id: CaseId
    message_id: str
    channel: Channel
    outcome: TurnOutcome
    contact_id: ContactId | None = None
    intent: str | None = None
    confidence: float | None = None
    treatment: str | None = None
    reason: HandoffReason | None = None
    article_id: str | None = None
    flow: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_id("assistant_turn"))
    created_at: datetime = field(default_factory=utcnow)
