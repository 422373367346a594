"""do_assistant_turn: the bot stage. A customer message on a `bot` case is classified, the
strategy map decides, and the assistant answers (an article, a flow), asks, resolves the case
(contained) or hands it off with the packet; every turn is recorded for analytics."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from carepath.access import Permission, Principal, authorize
from carepath.actions.assistant_writes import Decision, write_turn
from carepath.actions.tenant_config import current_config
from carepath.assistant import conversation as words
from carepath.assistant import flows
from carepath.assistant.model_store import Manifest
from carepath.assistant.serving import TenantModels, train_from_config
from carepath.domain.assistant import AssistantTurn, HandoffReason, TurnOutcome
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.messages import Message
from carepath.domain.tenants import Tenant
from carepath.knowledge.gaps import SearchOutcome, SearchRecord, SearchSource
from carepath.knowledge.search import Hit, dialect_of, is_good, search
from carepath.storage import Database, UnitOfWork
from carepath.tenant_config import TenantConfig, TreatmentKind, treatment_for
from carepath.tenant_config.flows import Flow

LOW_CONFIDENCE_TURNS = 2
EXTRACT_CHARS = 240
OFFER_PERSON = "Reply 'agent' to talk to a person."
ASK_AGAIN = "Sorry, I did not get that. Could you say it in other words?"
DID_IT_HELP = "Did that answer your question?"
GLAD = "Glad I could help! Write again any time."
TALK_TO_PERSON = "Talk to a person"


@dataclass
class Turn:
    """Everything one turn reads, gathered in one short read transaction."""

    tenant: Tenant
    config: TenantConfig
    case: Case
    message: Message
    state: dict[str, Any]
    public_url: str
    searched: list[SearchRecord] = field(default_factory=list)


async def do_assistant_turn(
    db: Database,
    models: TenantModels,
    http: httpx.AsyncClient,
    tenant_id: str,
    message_id: str,
    *,
    public_url: str,
) -> AssistantTurn | None:
    """Handle one customer message in the bot stage; None when there is nothing to do (the
    case left the bot stage, or the turn was already taken: outbox items run at least once).
    The classifier, the knowledge base and a flow's HTTP call run outside any write
    transaction; the outcome is written in one."""
    async with db.uow(write=False) as uow:
        turn = await _read(uow, tenant_id, message_id, public_url)
        if turn is None:
            return None
        decision = await _decide(uow, turn, models, http)
    async with db.uow() as uow:
        return await write_turn(uow, turn.tenant.id, turn.message.id, decision, turn.searched)


async def _read(uow: UnitOfWork, tenant_id: str, message_id: str, public_url: str) -> Turn | None:
    tenant = await uow.tenants.get(tenant_id)  # type: ignore[arg-type]
    message = await uow.messages.get(tenant_id, message_id)  # type: ignore[arg-type]
    if tenant is None or message is None:
        return None
    if await uow.assistant_turns.for_message(tenant.id, message.id) is not None:
        return None
    case = await uow.cases.get(tenant.id, message.case_id)
    if case is None or case.status is not CaseStatus.BOT:
        return None
    last = await uow.assistant_turns.latest(tenant.id, case.id)
    state: dict[str, Any] = dict(last.state) if last else {}
    # What an earlier hand-off packet holds is never asked again.
    known = dict((case.handoff or {}).get("slots") or {})
    state["slots"] = {**known, **state.get("slots", {})}
    config = await current_config(uow, tenant.id)
    return Turn(tenant, config, case, message, state, public_url.rstrip("/"))


async def _decide(
    uow: UnitOfWork, turn: Turn, models: TenantModels, http: httpx.AsyncClient
) -> Decision:
    text, state = turn.message.text, turn.state
    answered = bool(state.get("answered"))
    if words.said_not_helpful(text) and answered:
        state["said_not_helpful"] = True
    if words.wants_person(text):
        return _hand_off(turn, HandoffReason.CUSTOMER_REQUEST)
    if words.is_frustrated(text):
        return _hand_off(turn, HandoffReason.FRUSTRATION)
    if answered and words.said_not_helpful(text):
        return _hand_off(turn, HandoffReason.NOT_HELPFUL)
    if state.get("flow"):
        return await _continue_flow(turn, http)
    if answered and words.said_helpful(text):
        return Decision(TurnOutcome.CONTAINED, state, reply=GLAD, intent=state.get("intent"))
    prediction = await models.predict(turn.tenant.id, text)
    if prediction is None:
        return _hand_off(turn, HandoffReason.NO_MODEL)
    if prediction.intent is None:
        streak = int(state.get("low_confidence", 0)) + 1
        state["low_confidence"] = streak
        if streak >= LOW_CONFIDENCE_TURNS:
            return _hand_off(turn, HandoffReason.LOW_CONFIDENCE, confidence=prediction.confidence)
        return Decision(
            TurnOutcome.ASKED,
            state,
            reply=f"{ASK_AGAIN} {OFFER_PERSON}",
            quick_replies=[TALK_TO_PERSON],
            confidence=prediction.confidence,
        )
    state.update(low_confidence=0, intent=prediction.intent, confidence=prediction.confidence)
    treatment = treatment_for(turn.config, prediction.intent, turn.message.channel)
    if treatment.sales_opportunity:
        return _hand_off(turn, HandoffReason.SALES_OPPORTUNITY)
    if treatment.kind is TreatmentKind.LIVE:
        return _hand_off(turn, HandoffReason.LIVE_TREATMENT)
    flow = _flow_for(turn.config, prediction.intent)
    if flow is not None:
        state["flow"] = {"intent": flow.intent, "attempts": 0}
        return await _advance_flow(turn, flow, http)
    return await _answer_from_articles(uow, turn, treatment.kind)


def _flow_for(config: TenantConfig, intent: str | None) -> Flow | None:
    return next((f for f in config.flows if f.intent == intent), None)


def _hand_off(turn: Turn, reason: HandoffReason, *, confidence: float | None = None) -> Decision:
    state = turn.state
    state.pop("flow", None)
    return Decision(
        TurnOutcome.HANDED_OFF,
        state,
        reason=reason,
        intent=state.get("intent"),
        confidence=confidence if confidence is not None else state.get("confidence"),
        treatment=treatment_for(turn.config, state.get("intent"), turn.message.channel),
    )


async def _continue_flow(turn: Turn, http: httpx.AsyncClient) -> Decision:
    state = turn.state
    progress = dict(state["flow"])
    flow = _flow_for(turn.config, progress.get("intent"))
    slot = flows.next_slot(flow, state["slots"]) if flow else None
    if flow is None or slot is None:  # the flow was removed from the config meanwhile
        state.pop("flow", None)
        return _hand_off(turn, HandoffReason.FLOW_FAILED)
    value = flows.accept(slot, turn.message.text)
    if value is None:
        progress["attempts"] = int(progress.get("attempts", 0)) + 1
        state["flow"] = progress
        if progress["attempts"] >= slot.max_attempts:
            state["detail"] = f"no valid {slot.name} after {slot.max_attempts} tries"
            return _hand_off(turn, HandoffReason.FLOW_FAILED)
        reply = f"{slot.invalid} {slot.ask}"
        return Decision(TurnOutcome.ASKED, state, reply=reply, intent=flow.intent, flow=flow.intent)
    state["slots"] = {**state["slots"], slot.name: value}
    state["flow"] = {"intent": flow.intent, "attempts": 0}
    return await _advance_flow(turn, flow, http)


async def _advance_flow(turn: Turn, flow: Flow, http: httpx.AsyncClient) -> Decision:
    """Ask the next missing slot, or call the endpoint and reply."""
    state = turn.state
    slot = flows.next_slot(flow, state["slots"])
    if slot is not None:
        return Decision(
            TurnOutcome.ASKED, state, reply=slot.ask, intent=flow.intent, flow=flow.intent
        )
    try:
        response = await flows.call(http, flow, state["slots"])
    except flows.FlowFailed as exc:
        state["detail"] = str(exc)
        decision = _hand_off(turn, HandoffReason.FLOW_FAILED)
        return dataclasses.replace(decision, flow=flow.intent)
    state.pop("flow", None)
    state["answered"] = True
    reply = flows.reply(flow, state["slots"], response)
    return Decision(
        TurnOutcome.ANSWERED,
        state,
        reply=f"{reply}\n\n{DID_IT_HELP}",
        quick_replies=["Yes, thanks", TALK_TO_PERSON],
        intent=flow.intent,
        flow=flow.intent,
    )


async def _answer_from_articles(uow: UnitOfWork, turn: Turn, kind: TreatmentKind) -> Decision:
    state, channel = turn.state, turn.message.channel
    tried = {a["id"] for a in state.get("articles", [])}
    hit = None
    for query in (turn.message.text, str(state.get("intent", "")).replace("_", " ")):
        if not query.strip():
            continue
        hits = await search(uow, turn.tenant.id, query, channel=channel, limit=5)
        good = is_good(hits, dialect=dialect_of(uow))
        best = next((h for h in hits if h.article_id not in tried), None) if good else None
        turn.searched.append(_search_record(turn, query, hits, best))
        if best is not None:
            hit = best
            break
    if hit is None:
        return _hand_off(turn, HandoffReason.NO_ANSWER)
    state["answered"] = True
    state["articles"] = [*state.get("articles", []), {"id": hit.article_id, "title": hit.title}]
    state["search_record_id"] = turn.searched[-1].id
    link = f"{turn.public_url}/help/{turn.tenant.slug}/articles/{hit.slug}"
    extract = hit.snippet_text.strip()
    if len(extract) > EXTRACT_CHARS:
        extract = extract[: EXTRACT_CHARS - 1].rstrip() + "…"
    follow_up = OFFER_PERSON if kind is TreatmentKind.ASSISTED else DID_IT_HELP
    quick = [TALK_TO_PERSON] if kind is TreatmentKind.ASSISTED else ["Yes, thanks", "No"]
    return Decision(
        TurnOutcome.ANSWERED,
        state,
        reply=f"{hit.title}\n{extract}\nRead more: {link}\n\n{follow_up}",
        quick_replies=quick,
        intent=state.get("intent"),
        confidence=state.get("confidence"),
        article_id=hit.article_id,
        treatment_kind=kind,
    )


def _search_record(turn: Turn, query: str, hits: list[Hit], best: Hit | None) -> SearchRecord:
    if best is not None:
        outcome = SearchOutcome.ANSWERED
    else:
        outcome = SearchOutcome.WEAK if hits else SearchOutcome.NO_HIT
    return SearchRecord.of(
        tenant_id=turn.tenant.id,
        source=SearchSource.ASSISTANT,
        text=query,
        outcome=outcome,
        hits=len(hits),
        best_score=hits[0].score if hits else None,
        article_id=best.article_id if best else None,
        intent=turn.state.get("intent"),
    )


async def do_train_tenant_model(db: Database, actor: Principal, data_dir: Path) -> Manifest:
    """Train the tenant's model from its configuration's intent examples; the worker's
    classifier picks the new version up without a restart."""
    authorize(actor, Permission.MANAGE_TENANT_CONFIG)
    async with db.uow(write=False) as uow:
        config = await current_config(uow, actor.tenant_id)
    # Training takes seconds of CPU: keep the event loop free.
    return await asyncio.to_thread(train_from_config, data_dir, actor.tenant_id, config)
