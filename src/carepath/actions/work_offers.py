"""An agent answers an offer of work: accepting takes the work (and its case), declining sends it
back to the queue for someone else. Unanswered offers expire in the dispatcher."""

from __future__ import annotations

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions.work import on_assigned, work_payload
from carepath.domain.clock import utcnow
from carepath.domain.events import EventType
from carepath.errors import NotFound, PermissionDenied
from carepath.ids import UserId
from carepath.routing.records import WorkRecord
from carepath.storage import Database, UnitOfWork


async def do_accept_work(db: Database, actor: Principal, work_id: str) -> WorkRecord:
    """Refused (409) when the offer is not to the caller or has expired."""
    authorize(actor, Permission.WORK_CASES)
    now = utcnow()
    async with db.uow() as uow:
        work, agent = await _offered(uow, actor, work_id)
        work.accept(agent, now)
        case = await uow.cases.get(actor.tenant_id, work.case_id)
        if case is None:
            raise NotFound("case not found", kind="case")
        await uow.work.lock_tenant_events(actor.tenant_id)
        profile = await uow.agents.get(actor.tenant_id, agent, lock=True)
        await on_assigned(uow, work, case, profile, now)
    return work


async def do_decline_work(db: Database, actor: Principal, work_id: str) -> WorkRecord:
    """Back to the queue, never to be offered to the caller again."""
    authorize(actor, Permission.WORK_CASES)
    async with db.uow() as uow:
        work, agent = await _offered(uow, actor, work_id)
        work.decline(agent)
        payload = {**work_payload(work), "reason": "declined", "agent_id": agent}
        await uow.events.append(actor.tenant_id, EventType.WORK_QUEUED, payload)
    return work


async def _offered(uow: UnitOfWork, actor: Principal, work_id: str) -> tuple[WorkRecord, UserId]:
    # The item (and its case, which accepting changes) first: the lock order of
    # storage/repositories/routing.py.
    found = await uow.work.claim_offer(actor.tenant_id, work_id)
    work = scoped(actor, found, "work")
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in agent answers offers, not an API token")
    return work, actor.user_id
