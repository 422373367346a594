"""Work items: what the dispatcher reads, claims and locks; the load of agents.

Lock order, so that concurrent writers never deadlock: agent profiles are locked only while
holding the tenant's event counter row (which every event append takes anyway). Actions lock work
items and cases (waiting for them), then the counter, then profiles. The dispatcher takes the
counter first, then claims items, cases and profiles with SKIP LOCKED: it never waits while
holding anything, so it cannot be part of a deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, case, func, or_, select

from carepath.domain.cases import Case
from carepath.ids import CaseId, CustomerId, TenantId, UserId
from carepath.routing.model import ChannelKind
from carepath.routing.records import OPEN, WorkRecord, WorkStatus
from carepath.storage.repositories.base import NOT_PRELOADED, Repository, in_list
from carepath.storage.tables import cases, event_counters, work_items

Loads = dict[UserId, dict[ChannelKind, int]]


@dataclass(frozen=True)
class TenantWork:
    """One tenant's open work at a glance: what the dispatcher has to do there now."""

    tenant_id: TenantId
    waiting: int
    offered: int
    next_offer_expiry: datetime | None
    next_sla_due: datetime | None


class WorkRepository(Repository):
    async def get(
        self, tenant_id: TenantId, work_id: str, *, lock: bool = False
    ) -> WorkRecord | None:
        query = select(WorkRecord).where(
            work_items.c.tenant_id == tenant_id, work_items.c.id == work_id
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def open_for_case(self, tenant_id: TenantId, case_id: str) -> list[WorkRecord]:
        preloaded = self._preloaded_answer(("open_for_case", tenant_id, case_id))
        if preloaded is not NOT_PRELOADED:
            return cast(list[WorkRecord], preloaded)
        params = {"tenant_id": tenant_id, "case_id": case_id}
        return list((await self.session.scalars(_open_for_case_query(), params)).all())

    async def preload_open_for_cases(self, keys: Iterable[tuple[TenantId, CaseId]]) -> None:
        """`open_for_case` for many cases in one query, answered from here once each."""
        wanted = set(keys)
        if not wanted:
            return
        query = (
            select(WorkRecord)
            .where(
                work_items.c.tenant_id.in_(in_list(tenant_id for tenant_id, _ in wanted)),
                work_items.c.case_id.in_(in_list(case_id for _, case_id in wanted)),
                work_items.c.status.in_(sorted(OPEN)),
            )
            .order_by(work_items.c.id)
        )
        open_work: dict[tuple[TenantId, CaseId], list[WorkRecord]] = {key: [] for key in wanted}
        for record in (await self.session.scalars(query)).all():
            if (key := (record.tenant_id, record.case_id)) in open_work:
                open_work[key].append(record)
        for key, records in open_work.items():
            self._preloaded[("open_for_case", *key)] = records

    async def open_for_subject(self, tenant_id: TenantId, subject_id: str) -> list[WorkRecord]:
        query = select(WorkRecord).where(
            work_items.c.tenant_id == tenant_id,
            work_items.c.subject_id == subject_id,
            work_items.c.status.in_(OPEN),
        )
        return list((await self.session.scalars(query)).all())

    async def loads(self, tenant_id: TenantId, agent_ids: Iterable[str] | None = None) -> Loads:
        """Open work held per agent and channel kind (offers count: they hold a slot)."""
        ids = None if agent_ids is None else sorted(set(agent_ids))
        loads: Loads = defaultdict(dict)
        for status, holder in (
            (WorkStatus.ASSIGNED, work_items.c.assigned_to),
            (WorkStatus.OFFERED, work_items.c.offered_to),
        ):
            query = (
                select(holder, work_items.c.channel_kind, func.count())
                .where(work_items.c.tenant_id == tenant_id, work_items.c.status == status)
                .group_by(holder, work_items.c.channel_kind)
            )
            if ids is not None:
                query = query.where(holder.in_(ids))
            for agent_id, kind, count in (await self.session.execute(query)).all():
                if agent_id is not None:
                    per_kind = loads[UserId(agent_id)]
                    per_kind[kind] = per_kind.get(kind, 0) + int(count)
        return dict(loads)

    async def overview(self, now: datetime) -> list[TenantWork]:
        """Tenants with work waiting (and due) or offered."""
        query = (
            select(
                work_items.c.tenant_id,
                work_items.c.status,
                func.count(),
                func.min(work_items.c.offer_expires_at),
                func.min(case((work_items.c.sla_breached.is_(False), work_items.c.sla_due_at))),
            )
            .where(
                work_items.c.status.in_((WorkStatus.WAITING, WorkStatus.OFFERED)),
                work_items.c.enqueued_at <= now,
            )
            .group_by(work_items.c.tenant_id, work_items.c.status)
        )
        found: dict[TenantId, TenantWork] = {}
        for tenant_id, status, count, expiry, due in (await self.session.execute(query)).all():
            tenant = TenantId(tenant_id)
            seen = found.get(tenant, TenantWork(tenant, 0, 0, None, None))
            waiting = seen.waiting + (count if status == WorkStatus.WAITING else 0)
            offered = seen.offered + (count if status == WorkStatus.OFFERED else 0)
            found[tenant] = TenantWork(
                tenant,
                waiting,
                offered,
                _earliest(seen.next_offer_expiry, expiry),
                _earliest(seen.next_sla_due, due),
            )
        return list(found.values())

    async def waiting(
        self,
        tenant_id: TenantId,
        now: datetime,
        *,
        skills: Iterable[str],
        kinds: Iterable[ChannelKind],
        limit: int,
        offset: int = 0,
    ) -> list[WorkRecord]:
        """Waiting work due by `now`, in work order (priority, SLA due time, age), that someone
        with one of `skills` and room on one of `kinds` could take (by skill or fallback)."""
        names = sorted(set(skills))
        query = (
            select(WorkRecord)
            .where(
                work_items.c.status == WorkStatus.WAITING,
                work_items.c.tenant_id == tenant_id,
                work_items.c.enqueued_at <= now,
                work_items.c.channel_kind.in_(sorted(set(kinds))),
                or_(work_items.c.skill.in_(names), work_items.c.fallback_skill.in_(names)),
            )
            .order_by(
                work_items.c.priority.desc(),
                work_items.c.sla_due_at.asc().nulls_last(),
                work_items.c.enqueued_at,
                work_items.c.id,
            )
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.scalars(query)).all())

    async def claim_waiting(
        self, tenant_id: TenantId, work_ids: Iterable[str], *, skip_locked: bool
    ) -> list[tuple[WorkRecord, Case]]:
        """Lock these items, still waiting, with their cases; those another transaction holds
        (item or case) are left out."""
        query = (
            select(WorkRecord, Case)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(
                work_items.c.tenant_id == tenant_id,
                work_items.c.id.in_(sorted(set(work_ids))),
                work_items.c.status == WorkStatus.WAITING,
            )
            .with_for_update(skip_locked=skip_locked)
            .execution_options(populate_existing=True)
        )
        rows = (await self.session.execute(query)).all()
        return [(row[0], row[1]) for row in rows]

    async def claim_offer(self, tenant_id: TenantId, work_id: str) -> WorkRecord | None:
        """Lock one item with its case, waiting for them (an agent answering an offer)."""
        query = (
            select(WorkRecord)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(work_items.c.tenant_id == tenant_id, work_items.c.id == work_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).first()

    async def claim_expired_offers(
        self, tenant_id: TenantId, now: datetime, *, limit: int, skip_locked: bool
    ) -> list[WorkRecord]:
        query = (
            select(WorkRecord)
            .where(
                work_items.c.status == WorkStatus.OFFERED,
                work_items.c.tenant_id == tenant_id,
                work_items.c.offer_expires_at <= now,
            )
            .order_by(work_items.c.offer_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=skip_locked)
        )
        return list((await self.session.scalars(query)).all())

    async def claim_breaches(
        self, tenant_id: TenantId, now: datetime, *, limit: int, skip_locked: bool
    ) -> list[WorkRecord]:
        """Waiting or offered work past its SLA due time whose breach is not yet reported."""
        query = (
            select(WorkRecord)
            .where(
                work_items.c.status.in_((WorkStatus.WAITING, WorkStatus.OFFERED)),
                work_items.c.tenant_id == tenant_id,
                work_items.c.enqueued_at <= now,
                work_items.c.sla_breached.is_(False),
                work_items.c.sla_due_at <= now,
            )
            .order_by(work_items.c.sla_due_at)
            .limit(limit)
            .with_for_update(skip_locked=skip_locked)
        )
        return list((await self.session.scalars(query)).all())

    async def lock_tenant_events(self, tenant_id: TenantId) -> None:
        """Take the tenant's event counter now (see the lock order above)."""
        query = (
            select(event_counters.c.last_seq)
            .where(event_counters.c.tenant_id == tenant_id)
            .with_for_update()
        )
        await self.session.execute(query)

    async def previous_agent(
        self, tenant_id: TenantId, customer_ids: Sequence[CustomerId]
    ) -> UserId | None:
        """The agent who last had work of this customer (sticky routing)."""
        query = (
            select(work_items.c.assigned_to)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(
                work_items.c.tenant_id == tenant_id,
                cases.c.customer_id.in_(customer_ids),
                work_items.c.assigned_to.is_not(None),
            )
            .order_by(work_items.c.assigned_at.desc())
            .limit(1)
        )
        found = (await self.session.execute(query)).scalar_one_or_none()
        return None if found is None else UserId(found)

    async def list(
        self,
        tenant_id: TenantId,
        *,
        statuses: Iterable[WorkStatus],
        agent_id: str | None = None,
        case_id: CaseId | None = None,
        limit: int = 200,
    ) -> list[WorkRecord]:
        query = select(WorkRecord).where(
            work_items.c.tenant_id == tenant_id, work_items.c.status.in_(sorted(set(statuses)))
        )
        if agent_id is not None:
            query = query.where(
                or_(
                    and_(
                        work_items.c.status == WorkStatus.OFFERED,
                        work_items.c.offered_to == agent_id,
                    ),
                    work_items.c.assigned_to == agent_id,
                )
            )
        if case_id is not None:
            query = query.where(work_items.c.case_id == case_id)
        query = query.order_by(
            work_items.c.priority.desc(),
            work_items.c.sla_due_at,
            work_items.c.enqueued_at,
            work_items.c.id,
        ).limit(limit)
        return list((await self.session.scalars(query)).all())


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


@cache
def _open_for_case_query() -> Select[Any]:
    """Built once (ingest reads it for every message of a known case; docs/performance.md)."""
    return (
        select(WorkRecord)
        .where(
            work_items.c.tenant_id == bindparam("tenant_id"),
            work_items.c.case_id == bindparam("case_id"),
            work_items.c.status.in_(sorted(OPEN)),
        )
        .order_by(work_items.c.id)
    )
