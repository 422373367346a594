"""Routed work: a case or callback is queued for an agent in the same transaction that makes it
need one, and its work item follows the case from then on (assigned, transferred, given back,
resolved). The dispatcher (routing/dispatcher.py) decides who gets waiting work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from carepath.actions.payloads import case_payload
from carepath.actions.tenant_config import current_config
from carepath.domain.callbacks import Callback, CallbackStatus
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.errors import IllegalTransition
from carepath.ids import TenantId, UserId
from carepath.routing.model import ChannelKind
from carepath.routing.records import AgentProfile, WorkKind, WorkRecord, WorkStatus
from carepath.routing.tenant_rules import TenantRouting, tenant_routing
from carepath.storage import UnitOfWork
from carepath.tenant_config import Treatment, TreatmentKind, treatment_for

WAITING = (WorkStatus.WAITING, WorkStatus.OFFERED)


def work_payload(work: WorkRecord) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "work_id": work.id,
        "kind": work.kind.value,
        "subject_id": work.subject_id,
        "case_id": work.case_id,
        "status": work.status.value,
        "skill": work.skill,
        "fallback_skill": work.fallback_skill,
        "queue": work.queue or work.skill,
        "channel_kind": work.channel_kind.value,
        "priority": work.priority,
        "enqueued_at": iso(work.enqueued_at),
        "sla_due_at": iso(work.sla_due_at),
        "sla_breached": work.sla_breached,
        "preferred_agent_id": work.preferred_agent_id,
        "declined_by": list(work.declined_by),
        "offered_to": work.offered_to,
        "offer_expires_at": iso(work.offer_expires_at),
        "assigned_to": work.assigned_to,
        "assigned_at": iso(work.assigned_at),
    }


async def routing_of(uow: UnitOfWork, tenant_id: TenantId) -> TenantRouting:
    return tenant_routing(await current_config(uow, tenant_id))


async def route_new_message(
    uow: UnitOfWork, case: Case, *, new_case: bool, now: datetime, new_customer: bool = False
) -> None:
    """After a customer message was threaded: a new case whose treatment is `live` goes straight
    to the queue; a case the message put back in the queue (a reopen, an answer to a case
    nobody holds) gets its work item. `new_customer`: the customer was created in this
    transaction (no agent has served them)."""
    if new_case and case.status is CaseStatus.BOT:
        config = await current_config(uow, case.tenant_id)
        treatment = treatment_for(config, case.intent, case.channel)
        if treatment.kind is TreatmentKind.LIVE:
            await enqueue_case(
                uow, case, treatment, now=now, new_case=True, new_customer=new_customer
            )
        return
    await sync_case_work(uow, case, now)


async def enqueue_case(
    uow: UnitOfWork,
    case: Case,
    treatment: Treatment | None = None,
    *,
    now: datetime | None = None,
    exclude: Iterable[str] = (),
    new_case: bool = False,
    new_customer: bool = False,
) -> WorkRecord:
    """Queue `case` for an agent in the caller's transaction; the one call for the assistant's
    hand-off (a `bot` case is handed off here), a live treatment and a reopen.

    The treatment (skill, priority, SLA) defaults to the strategy map's for the case's intent
    and channel; the SLA is counted in business hours; the customer's previous agent is
    preferred (sticky) unless excluded. Queuing a case that already has open work returns that.
    `new_case` / `new_customer`: opened / created in this transaction, so there is no work of
    the case and no previous agent to look up (two reads fewer on the ingest path).
    """
    now = now or utcnow()
    if case.status is CaseStatus.BOT:
        case.hand_off(now)
        await uow.events.append(case.tenant_id, EventType.CASE_UPDATED, case_payload(case))
    if case.status is not CaseStatus.QUEUED:
        raise IllegalTransition(
            f"only a bot or queued case can be queued for an agent; this one is {case.status}",
            case_id=case.id,
        )
    if not new_case:
        for work in await uow.work.open_for_case(case.tenant_id, case.id):
            if work.status in WAITING:
                return work
    record = await _case_record(uow, case, treatment, now, exclude, new_customer=new_customer)
    uow.work.add(record)
    await uow.events.append(case.tenant_id, EventType.WORK_QUEUED, work_payload(record))
    return record


async def enqueue_callback(
    uow: UnitOfWork, callback: Callback, case: Case, *, now: datetime | None = None
) -> WorkRecord:
    """Queue a requested callback as voice work, routable from the time it was asked for."""
    now = now or utcnow()
    config = await current_config(uow, case.tenant_id)
    routing = tenant_routing(config)
    treatment = treatment_for(config, case.intent, Channel.VOICE)
    start = max(callback.requested_for, now)
    record = WorkRecord(
        tenant_id=case.tenant_id,
        kind=WorkKind.CALLBACK,
        subject_id=callback.id,
        case_id=case.id,
        skill=treatment.skill,
        channel_kind=ChannelKind.VOICE,
        enqueued_at=start,
        priority=max(case.priority.rank, treatment.priority.rank),
        sla_due_at=routing.sla_due(start, treatment.sla_seconds),
        fallback_skill=routing.fallback_for(treatment.skill),
        queue=routing.queue_for(treatment.skill),
        preferred_agent_id=await _previous_agent(uow, case, ()),
        created_at=now,
    )
    uow.work.add(record)
    await uow.flush()
    await uow.events.append(case.tenant_id, EventType.WORK_QUEUED, work_payload(record))
    return record


async def sync_case_work(uow: UnitOfWork, case: Case, now: datetime) -> None:
    """Bring the case's work in line with its status, in the caller's transaction (call it after
    any change of status or assignee): queued needs waiting work; assigned means its agent holds
    it (a transfer moves it, an agent taking waiting work takes it); resolved ends it all."""
    items = await uow.work.open_for_case(case.tenant_id, case.id)
    if case.status is CaseStatus.QUEUED:
        exclude = set()
        for work in items:
            if work.kind is WorkKind.CASE and work.status is WorkStatus.ASSIGNED:
                # Given back to the queue: someone else should take it.
                exclude.add(str(work.assigned_to))
                await release(uow, work, now)
        if not any(w.status in WAITING for w in items):
            await enqueue_case(uow, case, now=now, exclude=exclude)
    elif case.assignee_id is not None and case.status in (
        CaseStatus.ASSIGNED,
        CaseStatus.PENDING_CUSTOMER,
    ):
        await _hold(uow, case, case.assignee_id, items, now)
    else:
        for work in items:
            if work.kind is WorkKind.CASE or not case.is_open:
                await release(uow, work, now)


async def retarget_case_work(uow: UnitOfWork, case: Case) -> None:
    """After a queued case's intent or priority changed: its waiting work asks for the skill and
    priority of the treatment now in force (an offer already out runs its course)."""
    if case.status is not CaseStatus.QUEUED:
        return
    waiting = [
        work
        for work in await uow.work.open_for_case(case.tenant_id, case.id)
        if work.kind is WorkKind.CASE and work.status is WorkStatus.WAITING
    ]
    if not waiting:
        return
    config = await current_config(uow, case.tenant_id)
    routing = tenant_routing(config)
    treatment = treatment_for(config, case.intent, case.channel)
    for work in waiting:
        work.retarget(
            skill=treatment.skill,
            fallback_skill=routing.fallback_for(treatment.skill),
            queue=routing.queue_for(treatment.skill),
            priority=max(case.priority.rank, treatment.priority.rank),
        )
        await uow.events.append(case.tenant_id, EventType.WORK_QUEUED, work_payload(work))


async def finish_work_of(uow: UnitOfWork, tenant_id: TenantId, subject_id: str) -> None:
    """The case or callback needs nobody any more (e.g. the call was made)."""
    now = utcnow()
    for work in await uow.work.open_for_subject(tenant_id, subject_id):
        await release(uow, work, now)


async def release(uow: UnitOfWork, work: WorkRecord, now: datetime) -> None:
    """Done (or cancelled, if nobody had it); an agent left with no work starts idling."""
    holder = work.holder
    work.finish(now)
    if holder is not None:
        await _idle_if_free(uow, work.tenant_id, holder, now)


async def on_assigned(
    uow: UnitOfWork, work: WorkRecord, case: Case, profile: AgentProfile | None, now: datetime
) -> None:
    """After `work` went to its agent: their clocks, the case (a waiting case goes with the
    work), a callback becomes scheduled, and the events."""
    agent = work.assigned_to
    assert agent is not None
    if profile is not None:
        profile.took_work(now)
    case_taken = case.status in (CaseStatus.BOT, CaseStatus.QUEUED)
    if case_taken:
        case.assign(agent, now)
    if work.kind is WorkKind.CALLBACK:
        callback = await uow.callbacks.get(work.tenant_id, work.subject_id)
        if callback is not None and callback.status is CallbackStatus.REQUESTED:
            callback.transition(CallbackStatus.SCHEDULED)
        if case_taken:
            # The agent who calls owns the case: its chat no longer waits for someone else.
            for other in await uow.work.open_for_case(work.tenant_id, work.case_id):
                if other.kind is WorkKind.CASE and other.status in WAITING:
                    await release(uow, other, now)
    await uow.events.append(work.tenant_id, EventType.WORK_ASSIGNED, work_payload(work))
    if case_taken:
        await uow.events.append(work.tenant_id, EventType.CASE_ASSIGNED, case_payload(case))


async def _hold(
    uow: UnitOfWork, case: Case, agent: UserId, items: list[WorkRecord], now: datetime
) -> None:
    """The case's agent holds exactly one of its open case work items."""
    held = any(w.status is WorkStatus.ASSIGNED and w.assigned_to == agent for w in items)
    for work in items:
        if work.kind is not WorkKind.CASE or (
            work.status is WorkStatus.ASSIGNED and work.assigned_to == agent
        ):
            continue
        if held:
            await release(uow, work, now)
            continue
        if work.status is WorkStatus.ASSIGNED:
            previous = work.assigned_to
            work.transfer(agent)
            if previous is not None:
                await _idle_if_free(uow, case.tenant_id, previous, now)
        else:
            work.assign(agent, now)
        await _took(uow, case.tenant_id, agent, now)
        await uow.events.append(case.tenant_id, EventType.WORK_ASSIGNED, work_payload(work))
        held = True
    if not held:
        record = await _case_record(uow, case, None, now, ())
        record.assign(agent, now)
        uow.work.add(record)
        await uow.flush()
        await _took(uow, case.tenant_id, agent, now)
        await uow.events.append(case.tenant_id, EventType.WORK_ASSIGNED, work_payload(record))


async def _took(uow: UnitOfWork, tenant_id: TenantId, agent: UserId, now: datetime) -> None:
    profile = await _profile(uow, tenant_id, agent)
    if profile is not None:
        profile.took_work(now)


async def _idle_if_free(uow: UnitOfWork, tenant_id: TenantId, agent: UserId, now: datetime) -> None:
    await uow.flush()  # loads() is a Core query: it does not flush by itself
    if not (await uow.work.loads(tenant_id, [agent])).get(agent):
        profile = await _profile(uow, tenant_id, agent)
        if profile is not None:
            profile.idle_since = now


async def _profile(uow: UnitOfWork, tenant_id: TenantId, agent: UserId) -> AgentProfile | None:
    # Profiles change only under the tenant's event counter (storage/repositories/routing.py).
    await uow.work.lock_tenant_events(tenant_id)
    return await uow.agents.get(tenant_id, agent, lock=True)


async def _case_record(
    uow: UnitOfWork,
    case: Case,
    treatment: Treatment | None,
    now: datetime,
    exclude: Iterable[str],
    *,
    new_customer: bool = False,
) -> WorkRecord:
    config = await current_config(uow, case.tenant_id)
    routing = tenant_routing(config)
    treatment = treatment or treatment_for(config, case.intent, case.channel)
    due = routing.sla_due(now, treatment.sla_seconds)
    case.set_sla_due(due, now)
    return WorkRecord(
        tenant_id=case.tenant_id,
        kind=WorkKind.CASE,
        subject_id=case.id,
        case_id=case.id,
        skill=treatment.skill,
        channel_kind=ChannelKind.of(case.channel),
        enqueued_at=now,
        priority=max(case.priority.rank, treatment.priority.rank),
        sla_due_at=due,
        fallback_skill=routing.fallback_for(treatment.skill),
        queue=routing.queue_for(treatment.skill),
        preferred_agent_id=None if new_customer else await _previous_agent(uow, case, exclude),
        declined_by=sorted(set(exclude)),
        created_at=now,
    )


async def _previous_agent(uow: UnitOfWork, case: Case, exclude: Iterable[str]) -> UserId | None:
    cluster = await uow.customers.cluster_ids(case.tenant_id, case.customer_id)
    previous = await uow.work.previous_agent(case.tenant_id, cluster)
    return None if previous is None or previous in set(exclude) else previous
