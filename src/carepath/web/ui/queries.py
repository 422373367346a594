"""The UI's read model: inbox rows with their badges and the supervisor's board, tenant-scoped."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from carepath.actions.agents import AgentView, agent_views
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.domain.messages import Direction
from carepath.ids import TenantId, UserId
from carepath.routing.model import Presence
from carepath.routing.records import OPEN, WorkStatus
from carepath.storage import UnitOfWork
from carepath.storage.tables import cases, customers, messages, work_items

INBOX_LIMIT = 100
# "At risk": the SLA target falls due within this window; one fixed window for every case,
# since a case stores when its target is due, not how long the target was.
SLA_AT_RISK = timedelta(minutes=15)
OPEN_STATUSES = (
    CaseStatus.BOT,
    CaseStatus.QUEUED,
    CaseStatus.ASSIGNED,
    CaseStatus.PENDING_CUSTOMER,
)


class InboxView(enum.StrEnum):
    MINE = "mine"
    QUEUE = "queue"  # my team's queue: waiting work in my skills
    OPEN = "open"


class SlaState(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def sla_state(due: datetime | None, now: datetime) -> SlaState:
    if due is None or due >= now + SLA_AT_RISK:
        return SlaState.OK
    return SlaState.BREACHED if due < now else SlaState.AT_RISK


@dataclass(frozen=True)
class InboxFilter:
    view: InboxView = InboxView.MINE
    channel: Channel | None = None
    status: CaseStatus | None = None
    intent: str | None = None
    sla: SlaState | None = None
    assignee_id: str | None = None
    # The queue view's team: there are no team records; an agent's team is everyone sharing a
    # skill, so their queue leaves out work needing only skills they lack. None: no filter.
    skills: tuple[str, ...] | None = None


@dataclass(frozen=True)
class InboxRow:
    case: Case
    customer_name: str | None
    last_text: str
    last_at: datetime | None
    unread: bool  # the customer spoke last
    sla: SlaState

    @property
    def sla_breached(self) -> bool:
        return self.sla is SlaState.BREACHED


async def inbox(
    uow: UnitOfWork, tenant_id: TenantId, user_id: UserId | None, where: InboxFilter, now: datetime
) -> list[InboxRow]:
    """Open cases of one view, most urgent SLA first, with their last message."""
    query = select(Case).where(cases.c.tenant_id == tenant_id)
    statuses = [where.status] if where.status else list(OPEN_STATUSES)
    if where.view is InboxView.QUEUE:
        statuses = [s for s in statuses if s in (CaseStatus.QUEUED, CaseStatus.BOT)]
    query = query.where(cases.c.status.in_(statuses))
    if where.view is InboxView.MINE:
        query = query.where(cases.c.assignee_id == (user_id or ""))
    if where.assignee_id is not None:
        query = query.where(cases.c.assignee_id == where.assignee_id)
    if where.channel is not None:
        query = query.where(cases.c.channel == where.channel)
    if where.intent:
        query = query.where(cases.c.intent == where.intent)
    if where.sla is not None:
        query = query.where(_sla_condition(where.sla, now))
    if where.view is InboxView.QUEUE and where.skills is not None:
        query = query.where(~_needs_other_skills(where.skills))
    query = query.order_by(
        cases.c.sla_due_at.is_(None), cases.c.sla_due_at, cases.c.updated_at.desc()
    ).limit(INBOX_LIMIT)
    found = list((await uow.session.scalars(query)).all())
    last = await last_messages(uow, tenant_id, [c.id for c in found])
    names = await customer_names(uow, tenant_id, [c.customer_id for c in found])
    rows = []
    for c in found:
        text, at, direction = last.get(c.id, ("", None, None))
        rows.append(
            InboxRow(
                case=c,
                customer_name=names.get(c.customer_id),
                last_text=text,
                last_at=at,
                unread=direction is Direction.INBOUND,
                sla=sla_state(c.sla_due_at, now) if c.is_open else SlaState.OK,
            )
        )
    return rows


def _sla_condition(state: SlaState, now: datetime) -> ColumnElement[bool]:
    due = cases.c.sla_due_at
    if state is SlaState.BREACHED:
        return due < now
    if state is SlaState.AT_RISK:
        return and_(due >= now, due < now + SLA_AT_RISK)
    return or_(due.is_(None), due >= now + SLA_AT_RISK)


def _needs_other_skills(skills: Sequence[str]) -> ColumnElement[bool]:
    """The case has open work that neither its skill nor its fallback lets these skills take."""
    names = sorted(set(skills))
    return exists().where(
        work_items.c.case_id == cases.c.id,
        work_items.c.tenant_id == cases.c.tenant_id,
        work_items.c.status.in_(sorted(OPEN)),
        work_items.c.skill.not_in(names),
        or_(work_items.c.fallback_skill.is_(None), work_items.c.fallback_skill.not_in(names)),
    )


async def last_messages(
    uow: UnitOfWork, tenant_id: TenantId, case_ids: Sequence[str]
) -> dict[str, tuple[str, datetime, Direction]]:
    if not case_ids:
        return {}
    newest = (
        select(messages.c.case_id, func.max(messages.c.created_at).label("at"))
        .where(
            messages.c.tenant_id == tenant_id,
            messages.c.case_id.in_(case_ids),
            messages.c.is_internal_note.is_(False),
        )
        .group_by(messages.c.case_id)
        .subquery()
    )
    query = select(
        messages.c.case_id, messages.c.text, messages.c.created_at, messages.c.direction
    ).join(
        newest,
        and_(messages.c.case_id == newest.c.case_id, messages.c.created_at == newest.c.at),
    )
    query = query.where(messages.c.tenant_id == tenant_id, messages.c.is_internal_note.is_(False))
    rows = (await uow.session.execute(query)).all()
    return {row[0]: (row[1], row[2], Direction(row[3])) for row in rows}


async def customer_names(
    uow: UnitOfWork, tenant_id: TenantId, customer_ids: Sequence[str]
) -> dict[str, str | None]:
    if not customer_ids:
        return {}
    query = select(Customer).where(
        customers.c.tenant_id == tenant_id, customers.c.id.in_(sorted(set(customer_ids)))
    )
    return {c.id: c.name for c in (await uow.session.scalars(query)).all()}


@dataclass(frozen=True)
class QueueStats:
    name: str
    waiting: int
    oldest_enqueued_at: datetime | None
    answered_today: int
    within_sla_today: int

    @property
    def service_level(self) -> float | None:
        """Share of today's answered work that was answered within its SLA target."""
        if not self.answered_today:
            return None
        return self.within_sla_today / self.answered_today


@dataclass(frozen=True)
class Board:
    queues: list[QueueStats]
    agents: list[AgentView]

    def presence_count(self, presence: Presence) -> int:
        return sum(1 for a in self.agents if a.profile.presence is presence)


async def board(uow: UnitOfWork, tenant_id: TenantId, now: datetime) -> Board:
    queue = func.coalesce(work_items.c.queue, work_items.c.skill)
    waiting_query = (
        select(queue, func.count(), func.min(work_items.c.enqueued_at))
        .where(
            work_items.c.tenant_id == tenant_id,
            work_items.c.status.in_([WorkStatus.WAITING, WorkStatus.OFFERED]),
        )
        .group_by(queue)
    )
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    within = or_(
        work_items.c.sla_due_at.is_(None), work_items.c.assigned_at <= work_items.c.sla_due_at
    )
    answered_query = (
        select(queue, func.count(), func.sum(case((within, 1), else_=0)))
        .where(work_items.c.tenant_id == tenant_id, work_items.c.assigned_at >= midnight)
        .group_by(queue)
    )
    waiting = {
        row[0]: (int(row[1]), row[2]) for row in (await uow.session.execute(waiting_query)).all()
    }
    answered = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in (await uow.session.execute(answered_query)).all()
    }
    stats = [
        QueueStats(
            name=name,
            waiting=waiting.get(name, (0, None))[0],
            oldest_enqueued_at=waiting.get(name, (0, None))[1],
            answered_today=answered.get(name, (0, 0))[0],
            within_sla_today=answered.get(name, (0, 0))[1],
        )
        for name in sorted(set(waiting) | set(answered))
    ]
    agents = sorted(await agent_views(uow, tenant_id), key=lambda a: a.user.display_name)
    return Board(queues=stats, agents=agents)
