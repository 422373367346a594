"""The UI's read model of routed work: offers awaiting an agent's answer, callbacks to make."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select

from carepath.domain.callbacks import Callback, CallbackStatus
from carepath.domain.cases import Case
from carepath.ids import TenantId, UserId
from carepath.routing.records import WorkRecord, WorkStatus
from carepath.storage import UnitOfWork
from carepath.storage.tables import callbacks, cases, work_items
from carepath.web.ui.queries import customer_names, last_messages

CALLBACKS_LIMIT = 100
OPEN_CALLBACKS = (CallbackStatus.REQUESTED, CallbackStatus.SCHEDULED)


@dataclass(frozen=True)
class OfferRow:
    work: WorkRecord
    case: Case
    customer_name: str | None
    last_text: str

    def seconds_left(self, now: datetime) -> int:
        expires = self.work.offer_expires_at
        return 0 if expires is None else max(0, int((expires - now).total_seconds()))


async def offers(uow: UnitOfWork, tenant_id: TenantId, user_id: UserId) -> list[OfferRow]:
    """Work offered to this agent now, most urgent first, with its case and last message."""
    found = await uow.work.list(tenant_id, statuses=[WorkStatus.OFFERED], agent_id=user_id)
    mine = [w for w in found if w.offered_to == user_id]
    if not mine:
        return []
    query = select(Case).where(
        cases.c.tenant_id == tenant_id, cases.c.id.in_(sorted({w.case_id for w in mine}))
    )
    by_id = {c.id: c for c in (await uow.session.scalars(query)).all()}
    names = await customer_names(uow, tenant_id, [c.customer_id for c in by_id.values()])
    last = await last_messages(uow, tenant_id, list(by_id))
    return [
        OfferRow(
            work=w,
            case=by_id[w.case_id],
            customer_name=names.get(by_id[w.case_id].customer_id),
            last_text=last.get(w.case_id, ("", None, None))[0],
        )
        for w in mine
        if w.case_id in by_id
    ]


class CallbackView(enum.StrEnum):
    MINE = "mine"  # about my cases, or routed to me
    QUEUE = "queue"  # every callback still to make


@dataclass(frozen=True)
class CallbackRow:
    callback: Callback
    case: Case
    customer_name: str | None

    def due(self, now: datetime) -> bool:
        return self.callback.requested_for <= now


async def open_callbacks(
    uow: UnitOfWork, tenant_id: TenantId, user_id: UserId, view: CallbackView
) -> list[CallbackRow]:
    """Callbacks not yet made nor cancelled, the earliest due first."""
    query = (
        select(Callback, Case)
        .join(cases, and_(cases.c.id == callbacks.c.case_id, cases.c.tenant_id == tenant_id))
        .where(callbacks.c.tenant_id == tenant_id, callbacks.c.status.in_(OPEN_CALLBACKS))
    )
    if view is CallbackView.MINE:
        routed_to_me = exists().where(
            work_items.c.tenant_id == tenant_id,
            work_items.c.subject_id == callbacks.c.id,
            or_(
                and_(
                    work_items.c.status == WorkStatus.ASSIGNED,
                    work_items.c.assigned_to == user_id,
                ),
                and_(work_items.c.status == WorkStatus.OFFERED, work_items.c.offered_to == user_id),
            ),
        )
        query = query.where(or_(cases.c.assignee_id == user_id, routed_to_me))
    query = query.order_by(callbacks.c.requested_for, callbacks.c.id).limit(CALLBACKS_LIMIT)
    rows = [(row[0], row[1]) for row in (await uow.session.execute(query)).all()]
    names = await customer_names(uow, tenant_id, [c.customer_id for _, c in rows])
    return [CallbackRow(cb, c, names.get(c.customer_id)) for cb, c in rows]
