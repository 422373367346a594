"""Routed work: the queue (what waits, what is offered, who holds what) and an agent's answer to
an offer."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from carepath.access import Permission, authorize
from carepath.actions.work_offers import do_accept_work, do_decline_work
from carepath.ids import CaseId
from carepath.routing.model import ChannelKind
from carepath.routing.records import OPEN, WorkKind, WorkRecord, WorkStatus
from carepath.web.deps import DB, CurrentPrincipal, Limit

router = APIRouter(prefix="/v1/work", tags=["work"])


class WorkOut(BaseModel):
    id: str
    kind: WorkKind
    subject_id: str
    case_id: str
    status: WorkStatus
    skill: str
    fallback_skill: str | None
    queue: str
    channel_kind: ChannelKind
    priority: int
    enqueued_at: datetime
    sla_due_at: datetime | None
    sla_breached: bool
    preferred_agent_id: str | None
    declined_by: list[str]
    offered_to: str | None
    offer_expires_at: datetime | None
    assigned_to: str | None
    assigned_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, work: WorkRecord) -> WorkOut:
        return cls(
            id=work.id,
            kind=work.kind,
            subject_id=work.subject_id,
            case_id=work.case_id,
            status=work.status,
            skill=work.skill,
            fallback_skill=work.fallback_skill,
            queue=work.queue or work.skill,
            channel_kind=work.channel_kind,
            priority=work.priority,
            enqueued_at=work.enqueued_at,
            sla_due_at=work.sla_due_at,
            sla_breached=work.sla_breached,
            preferred_agent_id=work.preferred_agent_id,
            declined_by=list(work.declined_by),
            offered_to=work.offered_to,
            offer_expires_at=work.offer_expires_at,
            assigned_to=work.assigned_to,
            assigned_at=work.assigned_at,
            finished_at=work.finished_at,
        )


@router.get("", summary="Work in queue order: open by default; `agent_id=me` for your own")
async def list_work(
    principal: CurrentPrincipal,
    db: DB,
    status: list[WorkStatus] = Query(default=sorted(OPEN)),
    agent_id: str | None = Query(default=None, description="Offered to or held by; `me`."),
    case_id: str | None = None,
    limit: Limit = 100,
) -> list[WorkOut]:
    authorize(principal, Permission.READ_CASES)
    if agent_id == "me":
        agent_id = principal.user_id or ""
    async with db.uow(write=False) as uow:
        found = await uow.work.list(
            principal.tenant_id,
            statuses=status,
            agent_id=agent_id,
            case_id=CaseId(case_id) if case_id else None,
            limit=limit,
        )
    return [WorkOut.of(w) for w in found]


@router.post("/{work_id}/accept", summary="Take work offered to you")
async def accept(work_id: str, principal: CurrentPrincipal, db: DB) -> WorkOut:
    return WorkOut.of(await do_accept_work(db, principal, work_id))


@router.post("/{work_id}/decline", summary="Decline work offered to you: it goes to someone else")
async def decline(work_id: str, principal: CurrentPrincipal, db: DB) -> WorkOut:
    return WorkOut.of(await do_decline_work(db, principal, work_id))
