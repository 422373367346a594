"""The hand-off packet: everything the assistant learned, for the agent who takes over, so the
customer is never asked again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.assistant import HandoffReason
from carepath.domain.identities import Identity, IdentityKind
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import Message
from carepath.tenant_config import Treatment

JOURNEY_EVENTS = 10
TRANSCRIPT_MESSAGES = 50
# The strongest proof of who the customer is first: a signed-in app or site user.
AUTH_METHODS: tuple[tuple[IdentityKind, str], ...] = (
    (IdentityKind.APP_USER, "verified_app_user"),
    (IdentityKind.EXTERNAL, "verified_external_id"),
    (IdentityKind.WEB_VISITOR, "verified_web_session"),
)
_REASON_TEXT = {
    HandoffReason.CUSTOMER_REQUEST: "asked for a person",
    HandoffReason.FRUSTRATION: "sounded frustrated",
    HandoffReason.NOT_HELPFUL: "said the answer did not help",
    HandoffReason.LOW_CONFIDENCE: "was not understood twice in a row",
    HandoffReason.SALES_OPPORTUNITY: "is a sales opportunity",
    HandoffReason.LIVE_TREATMENT: "is served live on this channel",
    HandoffReason.NO_ANSWER: "had no answer in the knowledge base",
    HandoffReason.FLOW_FAILED: "could not be completed by the assistant",
    HandoffReason.NO_MODEL: "reached an assistant that is not trained yet",
}
_CHANNEL_WORDS = {"app": "in the app", "web": "on the website", "chat": "in chat"}


@dataclass(frozen=True)
class Conversation:
    """What the bot stage gathered, from the turns' state."""

    intent: str | None = None
    confidence: float | None = None
    slots: Mapping[str, str] = field(default_factory=dict)
    articles: Sequence[Mapping[str, str]] = ()
    said_not_helpful: bool = False
    detail: str | None = None  # why a flow failed, for the agent


def authentication(identities: Sequence[Identity]) -> dict[str, Any]:
    for kind, method in AUTH_METHODS:
        for identity in identities:
            if identity.kind is kind and identity.verified:
                return {"authenticated": True, "method": method, "identity": identity.value}
    return {"authenticated": False, "method": None, "identity": None}


def age(then: datetime, now: datetime) -> str:
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{round(seconds / 60)} min ago"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _did(event: JourneyEvent, now: datetime) -> str:
    """ "started a return in the app 2 h ago" from `return_started` on channel app."""
    words = event.name.replace("_", " ").replace("-", " ").split()
    # Apps name steps object_verb (return_started): say it verb-first.
    if len(words) == 2 and words[1].endswith("ed"):
        text = f"{words[1]} a {words[0]}"
    else:
        text = f"{event.type.value.replace('_', ' ')}: {' '.join(words)}"
    where = _CHANNEL_WORDS.get(event.channel.value, f"on {event.channel.value}")
    return f"{text} {where} {age(event.occurred_at, now)}"


def summary(
    conversation: Conversation,
    reason: HandoffReason,
    journey: Sequence[JourneyEvent],
    now: datetime,
) -> str:
    parts = [
        f"Customer asks about {conversation.intent}"
        if conversation.intent
        else "Customer's request was not classified"
    ]
    own = [e for e in journey if e.type.is_trackable and e.type is not JourneyEventType.PAGE_VIEW]
    parts += [_did(event, now) for event in own[-2:]]
    parts += [f"tried article '{a['title']}'" for a in conversation.articles]
    if conversation.slots:
        parts.append(
            "gave " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in conversation.slots.items())
        )
    if conversation.said_not_helpful and reason is not HandoffReason.NOT_HELPFUL:
        parts.append("said it did not help")
    parts.append(_REASON_TEXT[reason])
    return "; ".join(parts)


def transcript(messages: Sequence[Message]) -> list[dict[str, Any]]:
    shown = [m for m in messages if not m.is_internal_note][-TRANSCRIPT_MESSAGES:]
    return [
        {
            "at": m.created_at.isoformat(),
            "author": m.author_kind.value,
            "channel": m.channel.value,
            "text": m.text,
        }
        for m in shown
    ]


def journey_items(journey: Sequence[JourneyEvent]) -> list[dict[str, Any]]:
    return [
        {
            "type": e.type.value,
            "name": e.name,
            "channel": e.channel.value,
            "occurred_at": e.occurred_at.isoformat(),
            "properties": e.properties,
        }
        for e in journey[-JOURNEY_EVENTS:]
    ]


def build_packet(
    *,
    conversation: Conversation,
    reason: HandoffReason,
    treatment: Treatment,
    identities: Sequence[Identity],
    journey: Sequence[JourneyEvent],
    messages: Sequence[Message],
    now: datetime,
) -> dict[str, Any]:
    """The packet as stored on the case (JSON), passed to routing and shown to the agent."""
    return {
        "intent": conversation.intent,
        "confidence": conversation.confidence,
        "slots": dict(conversation.slots),
        "authentication": authentication(identities),
        "summary": summary(conversation, reason, journey, now),
        "journey": journey_items(journey),
        "transcript": transcript(messages),
        "reason": reason.value,
        "detail": conversation.detail,
        "articles": [dict(a) for a in conversation.articles],
        "skill": treatment.skill,
        "priority": treatment.priority.value,
        "created_at": now.isoformat(),
    }
