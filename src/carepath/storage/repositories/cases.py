"""Cases, contacts, messages, journey events and surveys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased

from carepath.domain.cases import Case, CaseStatus
from carepath.domain.contacts import Channel, Contact
from carepath.domain.journey import JourneyEvent
from carepath.domain.messages import Direction, Message
from carepath.domain.surveys import Survey
from carepath.ids import CaseId, CustomerId, TenantId
from carepath.storage.repositories.base import NOT_PRELOADED, Page, Repository, in_list
from carepath.storage.tables import cases, contacts, journey_events, messages, surveys


@dataclass(frozen=True)
class CaseFilter:
    status: CaseStatus | None = None
    channel: Channel | None = None
    intent: str | None = None
    assignee_id: str | None = None
    customer_ids: Sequence[str] | None = None


class CaseRepository(Repository):
    async def get(self, tenant_id: TenantId, case_id: str) -> Case | None:
        query = select(Case).where(cases.c.tenant_id == tenant_id, cases.c.id == case_id)
        return (await self.session.scalars(query)).first()

    async def latest_for_customers(
        self, tenant_id: TenantId, customer_ids: Sequence[CustomerId]
    ) -> Case | None:
        """The customer's most recently active case that is not closed (threading candidate)."""
        preloaded = self._preloaded_answer(("latest", tenant_id, frozenset(customer_ids)))
        if preloaded is not NOT_PRELOADED:
            return cast(Case | None, preloaded)
        params = {"tenant_id": tenant_id, "customer_ids": list(customer_ids)}
        return (await self.session.scalars(_latest_case_query(), params)).first()

    async def preload_latest(
        self, clusters: Iterable[tuple[TenantId, Sequence[CustomerId]]]
    ) -> dict[tuple[TenantId, frozenset[CustomerId]], Case | None]:
        """`latest_for_customers` of many clusters in one query (the latest case of each
        customer, the latest of those per cluster), answered from here once each."""
        wanted = {(tenant_id, frozenset(ids)) for tenant_id, ids in clusters if ids}
        if not wanted:
            return {}
        rank = (
            func.row_number()
            .over(
                partition_by=cases.c.customer_id,
                order_by=(cases.c.updated_at.desc(), cases.c.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(cases, rank)
            .where(
                cases.c.tenant_id.in_(in_list(tenant_id for tenant_id, _ in wanted)),
                cases.c.customer_id.in_(in_list(i for _, ids in wanted for i in ids)),
                cases.c.status != CaseStatus.CLOSED,
            )
            .subquery()
        )
        latest_of_customer = aliased(Case, ranked)
        query = select(latest_of_customer).where(ranked.c.rank == 1)
        by_customer = {
            (case.tenant_id, case.customer_id): case
            for case in (await self.session.scalars(query)).all()
        }
        found: dict[tuple[TenantId, frozenset[CustomerId]], Case | None] = {}
        for tenant_id, ids in wanted:
            candidates = [c for i in ids if (c := by_customer.get((tenant_id, i))) is not None]
            latest = max(candidates, key=lambda c: (c.updated_at, c.id), default=None)
            found[(tenant_id, ids)] = self._preloaded[("latest", tenant_id, ids)] = latest
        return found

    async def of_customers(
        self, tenant_id: TenantId, customer_ids: Sequence[str]
    ) -> Sequence[Case]:
        query = (
            select(Case)
            .where(cases.c.tenant_id == tenant_id, cases.c.customer_id.in_(customer_ids))
            .order_by(cases.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def list(
        self, tenant_id: TenantId, where: CaseFilter, *, limit: int, cursor: str | None
    ) -> Page[Case]:
        query = select(Case).where(cases.c.tenant_id == tenant_id)
        if where.status is not None:
            query = query.where(cases.c.status == where.status)
        if where.channel is not None:
            query = query.where(cases.c.channel == where.channel)
        if where.intent is not None:
            query = query.where(cases.c.intent == where.intent)
        if where.assignee_id is not None:
            query = query.where(cases.c.assignee_id == where.assignee_id)
        if where.customer_ids is not None:
            query = query.where(cases.c.customer_id.in_(where.customer_ids))
        return await self.page(query, cases.c.id, limit=limit, cursor=cursor)


class ContactRepository(Repository):
    async def latest_open(
        self, tenant_id: TenantId, case_id: CaseId, channel: Channel
    ) -> Contact | None:
        preloaded = self._preloaded_answer(("latest_open", tenant_id, case_id, channel))
        if preloaded is not NOT_PRELOADED:
            return cast(Contact | None, preloaded)
        params = {"tenant_id": tenant_id, "case_id": case_id, "channel": channel}
        return (await self.session.scalars(_latest_open_contact_query(), params)).first()

    async def preload_latest_open(self, keys: Iterable[tuple[TenantId, CaseId, Channel]]) -> None:
        """`latest_open` for many cases and channels in one query, answered from here once each."""
        wanted = set(keys)
        if not wanted:
            return
        query = select(Contact).where(
            contacts.c.tenant_id.in_(in_list(tenant_id for tenant_id, _, _ in wanted)),
            contacts.c.case_id.in_(in_list(case_id for _, case_id, _ in wanted)),
            contacts.c.ended_at.is_(None),
        )
        latest: dict[tuple[TenantId, CaseId, Channel], Contact] = {}
        for contact in (await self.session.scalars(query)).all():
            key = (contact.tenant_id, contact.case_id, contact.channel)
            known = latest.get(key)
            if known is None or contact.last_activity_at > known.last_activity_at:
                latest[key] = contact
        for key in wanted:
            self._preloaded[("latest_open", *key)] = latest.get(key)

    async def of_case(self, tenant_id: TenantId, case_id: str) -> Sequence[Contact]:
        query = (
            select(Contact)
            .where(contacts.c.tenant_id == tenant_id, contacts.c.case_id == case_id)
            .order_by(contacts.c.started_at, contacts.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def get(self, tenant_id: TenantId, contact_id: str) -> Contact | None:
        query = select(Contact).where(
            contacts.c.tenant_id == tenant_id, contacts.c.id == contact_id
        )
        return (await self.session.scalars(query)).first()


class MessageRepository(Repository):
    async def get(
        self, tenant_id: TenantId, message_id: str, *, lock: bool = False
    ) -> Message | None:
        """`lock` holds the row until commit (PostgreSQL), so a read-then-write cannot race."""
        query = select(Message).where(
            messages.c.tenant_id == tenant_id, messages.c.id == message_id
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def by_external_id(
        self, tenant_id: TenantId, channel: Channel, external_id: str
    ) -> Message | None:
        query = select(Message).where(
            messages.c.tenant_id == tenant_id,
            messages.c.channel == channel,
            messages.c.external_id == external_id,
        )
        return (await self.session.scalars(query)).first()

    async def referenced(self, tenant_id: TenantId, external_ids: Sequence[str]) -> Message | None:
        """The newest message carrying one of these provider ids (email References, replies)."""
        query = (
            select(Message)
            .where(messages.c.tenant_id == tenant_id, messages.c.external_id.in_(external_ids))
            .order_by(messages.c.created_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(query)).first()

    async def last_inbound_at(
        self, tenant_id: TenantId, customer_ids: Sequence[str], channel: Channel
    ) -> datetime | None:
        """When these customers last wrote on `channel` (WhatsApp's service window)."""
        query = select(func.max(messages.c.created_at)).where(
            messages.c.tenant_id == tenant_id,
            messages.c.customer_id.in_(customer_ids),
            messages.c.channel == channel,
            messages.c.direction == Direction.INBOUND,
        )
        value: datetime | None = (await self.session.execute(query)).scalar_one_or_none()
        return value

    async def of_case(
        self, tenant_id: TenantId, case_id: str, *, include_notes: bool = True
    ) -> Sequence[Message]:
        query = select(Message).where(
            messages.c.tenant_id == tenant_id, messages.c.case_id == case_id
        )
        if not include_notes:
            query = query.where(messages.c.is_internal_note.is_(False))
        return (
            await self.session.scalars(query.order_by(messages.c.created_at, messages.c.id))
        ).all()


class JourneyRepository(Repository):
    async def of_customers(
        self,
        tenant_id: TenantId,
        customer_ids: Sequence[str],
        *,
        since: datetime | None = None,
        limit: int = 200,
    ) -> Sequence[JourneyEvent]:
        """The most recent `limit` events, returned oldest first."""
        query = select(JourneyEvent).where(
            journey_events.c.tenant_id == tenant_id, journey_events.c.customer_id.in_(customer_ids)
        )
        if since is not None:
            query = query.where(journey_events.c.occurred_at >= since)
        query = query.order_by(journey_events.c.occurred_at.desc(), journey_events.c.id.desc())
        newest_first = (await self.session.scalars(query.limit(limit))).all()
        return list(reversed(newest_first))


class SurveyRepository(Repository):
    async def get(self, tenant_id: TenantId, survey_id: str) -> Survey | None:
        query = select(Survey).where(surveys.c.tenant_id == tenant_id, surveys.c.id == survey_id)
        return (await self.session.scalars(query)).first()

    async def get_unscoped(self, survey_id: str) -> Survey | None:
        """Only for signed survey links, whose signature already names the survey."""
        return await self.session.get(Survey, survey_id)

    async def latest_open(
        self, tenant_id: TenantId, case_id: CaseId, now: datetime
    ) -> Survey | None:
        query = (
            select(Survey)
            .where(
                surveys.c.tenant_id == tenant_id,
                surveys.c.case_id == case_id,
                surveys.c.answered_at.is_(None),
                surveys.c.expires_at > now,
            )
            .order_by(surveys.c.sent_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(query)).first()


# The ingest path's reads, built once with bind parameters: building a statement costs more CPU
# than running its cached compiled form (about 0.1 ms each; docs/performance.md, fifth round).


@cache
def _latest_case_query() -> Select[Any]:
    return (
        select(Case)
        .where(
            cases.c.tenant_id == bindparam("tenant_id"),
            cases.c.customer_id.in_(bindparam("customer_ids", expanding=True)),
            cases.c.status != CaseStatus.CLOSED,
        )
        .order_by(cases.c.updated_at.desc(), cases.c.id.desc())
        .limit(1)
    )


@cache
def _latest_open_contact_query() -> Select[Any]:
    return (
        select(Contact)
        .where(
            contacts.c.tenant_id == bindparam("tenant_id"),
            contacts.c.case_id == bindparam("case_id"),
            contacts.c.channel == bindparam("channel"),
            contacts.c.ended_at.is_(None),
        )
        .order_by(contacts.c.last_activity_at.desc())
        .limit(1)
    )
