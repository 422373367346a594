"""The one write transaction of an assistant turn: the turn record, the reply, and either a
hand-off (packet, contact to an agent, queued for routing) or a contained resolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from carepath.actions.delivery import DELIVER_MESSAGE, reachable_address
from carepath.actions.payloads import case_payload, message_payload
from carepath.actions.work import enqueue_case, sync_case_work
from carepath.assistant.handoff import Conversation, build_packet
from carepath.domain.assistant import AssistantTurn, HandoffReason, TurnOutcome
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Contact, Handler
from carepath.domain.events import EventType
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, Direction, Message
from carepath.domain.outbox import OutboxItem
from carepath.errors import CarepathError
from carepath.knowledge.gaps import SearchRecord
from carepath.storage import UnitOfWork
from carepath.tenant_config import Treatment, TreatmentKind

JOURNEY_WINDOW = timedelta(days=7)
HANDING_OFF = (
    "I'm passing you to a colleague{skill}. They can see our conversation, so you won't need "
    "to repeat anything."
)


@dataclass(frozen=True)
class Decision:
    outcome: TurnOutcome
    state: dict[str, Any]
    reply: str | None = None
    quick_replies: list[str] = field(default_factory=list)
    reason: HandoffReason | None = None
    intent: str | None = None
    confidence: float | None = None
    treatment: Treatment | None = None  # for a hand-off: skill and priority
    treatment_kind: TreatmentKind | None = None
    article_id: str | None = None
    flow: str | None = None


async def write_turn(
    uow: UnitOfWork,
    tenant_id: str,
    message_id: str,
    decision: Decision,
    searched: list[SearchRecord],
) -> AssistantTurn | None:
    """Record the turn and carry out its decision, unless another run got there first or the
    case left the bot stage meanwhile (an agent took it)."""
    now = utcnow()
    message = await uow.messages.get(tenant_id, message_id)  # type: ignore[arg-type]
    if message is None or await uow.assistant_turns.for_message(message.tenant_id, message.id):
        return None
    case = await uow.cases.get(message.tenant_id, message.case_id)
    if case is None or case.status is not CaseStatus.BOT:
        return None
    contact = (
        await uow.contacts.get(case.tenant_id, message.contact_id) if message.contact_id else None
    )
    for record in searched:
        record.customer_id = case.customer_id  # the customer's words: erasure must find them
        uow.kb_searches.add(record)
    if decision.intent and decision.intent != case.intent:
        case.set_intent(decision.intent, now)
        await uow.events.append(case.tenant_id, EventType.CASE_UPDATED, case_payload(case))
    if decision.reason is HandoffReason.NOT_HELPFUL or decision.state.get("said_not_helpful"):
        await _mark_not_helpful(uow, case, decision.state)
    turn = AssistantTurn(
        tenant_id=case.tenant_id,
        case_id=case.id,
        message_id=message.id,
        channel=message.channel,
        outcome=decision.outcome,
        contact_id=message.contact_id,
        intent=decision.intent,
        confidence=decision.confidence,
        treatment=(decision.treatment.kind.value if decision.treatment else None)
        or (decision.treatment_kind.value if decision.treatment_kind else None),
        reason=decision.reason,
        article_id=decision.article_id,
        flow=decision.flow,
        state=decision.state,
        created_at=now,
    )
    uow.assistant_turns.add(turn)
    if decision.outcome is TurnOutcome.HANDED_OFF:
        await _hand_off(uow, case, contact, message, decision, now)
    elif decision.reply:
        await post_assistant_message(
            uow, case, message, decision.reply, decision.quick_replies, now
        )
    if decision.outcome is TurnOutcome.CONTAINED:
        await _resolve_contained(uow, case, now)
    await uow.flush()
    await uow.events.append(case.tenant_id, EventType.ASSISTANT_TURN, turn_payload(turn))
    return turn


def turn_payload(turn: AssistantTurn) -> dict[str, Any]:
    return {
        "turn_id": turn.id,
        "case_id": turn.case_id,
        "contact_id": turn.contact_id,
        "message_id": turn.message_id,
        "channel": turn.channel.value,
        "outcome": turn.outcome.value,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "treatment": turn.treatment,
        "reason": turn.reason.value if turn.reason else None,
        "article_id": turn.article_id,
        "flow": turn.flow,
        "at": turn.created_at.isoformat(),
    }


async def post_assistant_message(
    uow: UnitOfWork,
    case: Case,
    inbound: Message,
    text: str,
    quick_replies: list[str],
    now: datetime,
) -> Message:
    """The assistant's reply, on the channel the customer wrote on, queued like any reply."""
    try:
        to = await reachable_address(uow, case, inbound.channel)
    except CarepathError:
        to = ""  # the widget and apps read replies from the stream: no address needed
    properties: dict[str, Any] = {"to": to}
    if quick_replies:
        properties["quick_replies"] = quick_replies
    message = Message.create(
        tenant_id=case.tenant_id,
        case_id=case.id,
        customer_id=case.customer_id,
        contact_id=inbound.contact_id,
        channel=inbound.channel,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.ASSISTANT,
        text=text,
        properties=properties,
        now=max(now, inbound.created_at + timedelta(microseconds=1)),
    )
    uow.messages.add(message)
    await uow.flush()
    uow.outbox.add(
        OutboxItem(
            tenant_id=case.tenant_id, kind=DELIVER_MESSAGE, payload={"message_id": message.id}
        )
    )
    await uow.events.append(case.tenant_id, EventType.MESSAGE_CREATED, message_payload(message))
    return message


async def _hand_off(
    uow: UnitOfWork,
    case: Case,
    contact: Contact | None,
    inbound: Message,
    decision: Decision,
    now: datetime,
) -> None:
    assert decision.reason is not None
    assert decision.treatment is not None
    cluster = await uow.customers.cluster_ids(case.tenant_id, case.customer_id)
    identities = await uow.identities.of_customers(case.tenant_id, cluster)
    journey = await uow.journey.of_customers(case.tenant_id, cluster, since=now - JOURNEY_WINDOW)
    messages = [
        m
        for m in await uow.messages.of_case(case.tenant_id, case.id, include_notes=False)
        if contact is None or m.contact_id in (None, contact.id)
    ]
    state = decision.state
    conversation = Conversation(
        intent=decision.intent,
        confidence=decision.confidence,
        slots=dict(state.get("slots", {})),
        articles=list(state.get("articles", [])),
        said_not_helpful=bool(state.get("said_not_helpful")),
        detail=state.get("detail"),
    )
    case.handoff = build_packet(
        conversation=conversation,
        reason=decision.reason,
        treatment=decision.treatment,
        identities=identities,
        journey=journey,
        messages=messages,
        now=now,
    )
    if contact is not None and not contact.is_ended:
        contact.hand_to(Handler.AGENT, now)
    uow.journey.add(
        JourneyEvent.record(
            tenant_id=case.tenant_id,
            customer_id=case.customer_id,
            type=JourneyEventType.HANDOFF,
            name="assistant_handoff",
            channel=inbound.channel,
            properties={
                "reason": decision.reason.value,
                "intent": decision.intent,
                "skill": decision.treatment.skill,
            },
            case_id=case.id,
            contact_id=contact.id if contact else None,
            now=now,
        )
    )
    if decision.reason is not HandoffReason.NO_MODEL:
        # A tenant with no model has no assistant to speak of: its cases just go to the queue.
        skill = f" from our {decision.treatment.skill} team"
        await post_assistant_message(uow, case, inbound, HANDING_OFF.format(skill=skill), [], now)
    await queue_for_agent(uow, case, decision.treatment, now)


async def queue_for_agent(uow: UnitOfWork, case: Case, treatment: Treatment, now: datetime) -> None:
    """The one place the assistant passes a case to routing (the packet is on the case)."""
    await enqueue_case(uow, case, treatment, now=now)


async def _resolve_contained(uow: UnitOfWork, case: Case, now: datetime) -> None:
    """Solved in the bot stage: the contacts stay handled by the assistant (contained)."""
    case.resolve(now)
    await sync_case_work(uow, case, now)
    for contact in await uow.contacts.of_case(case.tenant_id, case.id):
        if contact.ended_at is None:
            if contact.handled_by is not Handler.AGENT:
                contact.hand_to(Handler.ASSISTANT, now)
            contact.resolved = True
            contact.close(now)
    uow.journey.add(
        JourneyEvent.record(
            tenant_id=case.tenant_id,
            customer_id=case.customer_id,
            type=JourneyEventType.RESOLUTION,
            name="resolved_by_assistant",
            channel=case.channel,
            case_id=case.id,
            now=now,
        )
    )
    await uow.events.append(case.tenant_id, EventType.CASE_RESOLVED, case_payload(case))


async def _mark_not_helpful(uow: UnitOfWork, case: Case, state: dict[str, Any]) -> None:
    record_id = state.pop("search_record_id", None)
    if record_id:
        record = await uow.kb_searches.get(case.tenant_id, str(record_id))
        if record is not None:
            record.mark_not_helpful()
