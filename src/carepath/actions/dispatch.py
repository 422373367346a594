"""The dispatcher's writes, each one short transaction: commit a round's decisions (assign, or
offer), put expired offers back in the queue, report SLA breaches.

Each takes the tenant's event counter first and then claims rows with SKIP LOCKED, so a
dispatcher waits for nothing while holding anything and never deadlocks with another process;
every decision is checked again against the locked rows, so a stale plan costs a skipped item,
never a double assignment or an agent above capacity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from carepath.actions.work import on_assigned, release, work_payload
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.events import EventType
from carepath.ids import TenantId, UserId
from carepath.routing.model import ChannelKind
from carepath.routing.policy import eligible
from carepath.routing.records import AgentProfile, WorkKind, WorkRecord, WorkStatus, seconds
from carepath.routing.sla import sla_breaches
from carepath.routing.tenant_rules import TenantRouting
from carepath.storage import Database, UnitOfWork


@dataclass(frozen=True)
class Decision:
    work_id: str
    agent_id: UserId


@dataclass
class Committed:
    assigned: int = 0
    offered: int = 0
    skipped: int = 0  # taken by someone else meanwhile, or no longer eligible

    @property
    def changed(self) -> int:
        return self.assigned + self.offered


async def commit_decisions(
    db: Database,
    tenant_id: TenantId,
    routing: TenantRouting,
    decisions: Sequence[Decision],
    clock: Callable[[], datetime],
) -> Committed:
    """Assign (auto-accept) or offer each decided item, if it is still waiting and its agent is
    still eligible, in one transaction."""
    result = Committed()
    async with db.uow() as uow:
        skip = not uow.is_sqlite
        await uow.work.lock_tenant_events(tenant_id)
        ids = [d.work_id for d in decisions]
        claimed = {
            w.id: (w, c) for w, c in await uow.work.claim_waiting(tenant_id, ids, skip_locked=skip)
        }
        wanted = {d.agent_id for d in decisions if d.work_id in claimed}
        profiles = await uow.agents.claim(tenant_id, wanted, skip_locked=skip)
        loads = await uow.work.loads(tenant_id, profiles)
        # Read after the locks: an assignment is then later than any release it relied on.
        now = clock()
        # One flush at commit: the batch's rows and events go out together, not one by one.
        with uow.session.no_autoflush:
            for decision in decisions:
                found = claimed.get(decision.work_id)
                profile = profiles.get(decision.agent_id)
                if found is None or profile is None:
                    result.skipped += 1
                    continue
                load = loads.setdefault(decision.agent_id, {})
                await _commit(uow, routing, found[0], found[1], profile, load, now, result)
    return result


async def _commit(
    uow: UnitOfWork,
    routing: TenantRouting,
    work: WorkRecord,
    case: Case,
    profile: AgentProfile,
    load: dict[ChannelKind, int],
    now: datetime,
    result: Committed,
) -> None:
    """One decision against the locked rows: skipped unless the item still waits for its case
    and the agent may still take it."""
    if work.status is not WorkStatus.WAITING:  # decided twice in one plan
        result.skipped += 1
        return
    if work.kind is WorkKind.CASE and case.status not in (CaseStatus.BOT, CaseStatus.QUEUED):
        await release(uow, work, now)  # the case moved on without its work item
        result.skipped += 1
        return
    if not eligible(profile.state(load), work.item(), seconds(now), routing.rules):
        result.skipped += 1
        return
    load[work.channel_kind] = load.get(work.channel_kind, 0) + 1
    if routing.auto_accept:
        work.assign(profile.user_id, now)
        await on_assigned(uow, work, case, profile, now)
        result.assigned += 1
    else:
        work.offer(profile.user_id, now, routing.rules.offer_timeout_s)
        await uow.events.append(work.tenant_id, EventType.WORK_OFFERED, work_payload(work))
        result.offered += 1


async def expire_offers(db: Database, tenant_id: TenantId, now: datetime, *, limit: int) -> int:
    """Offers left unanswered past their expiry go back to the queue, counted as declined."""
    async with db.uow() as uow:
        await uow.work.lock_tenant_events(tenant_id)
        expired = await uow.work.claim_expired_offers(
            tenant_id, now, limit=limit, skip_locked=not uow.is_sqlite
        )
        for work in expired:
            agent = work.offered_to
            work.time_out(now)
            payload = {**work_payload(work), "reason": "offer_timed_out", "agent_id": agent}
            await uow.events.append(tenant_id, EventType.WORK_QUEUED, payload)
    return len(expired)


async def report_breaches(db: Database, tenant_id: TenantId, now: datetime, *, limit: int) -> int:
    """Each unanswered item past its SLA due time is reported once."""
    async with db.uow() as uow:
        await uow.work.lock_tenant_events(tenant_id)
        due = await uow.work.claim_breaches(
            tenant_id, now, limit=limit, skip_locked=not uow.is_sqlite
        )
        by_id = {work.id: work for work in due}
        breaches = sla_breaches([work.item() for work in due], seconds(now))
        for breach in breaches:
            work = by_id[breach.item_id]
            work.breach()
            payload = {**work_payload(work), "detected_at": now.isoformat()}
            await uow.events.append(tenant_id, EventType.WORK_SLA_BREACHED, payload)
    return len(breaches)
