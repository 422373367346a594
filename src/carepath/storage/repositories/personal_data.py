"""Everything stored about one person (a merge cluster of customers), for export and erasure,
and the case access trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from carepath.domain.assistant import AssistantTurn
from carepath.domain.callbacks import Callback
from carepath.domain.calls import Call
from carepath.domain.cases import Case
from carepath.domain.contacts import Contact
from carepath.domain.customers import Customer, CustomerMerge
from carepath.domain.identities import Identity, mentions_phone, phone_digits_kept_together
from carepath.domain.journey import JourneyEvent
from carepath.domain.messages import Message
from carepath.domain.surveys import Survey
from carepath.ids import TenantId, new_id
from carepath.knowledge.gaps import SearchRecord
from carepath.storage.repositories.base import Repository, decode_cursor, encode_cursor
from carepath.storage.tables import (
    assistant_turns,
    audit_log,
    callbacks,
    calls,
    case_audit,
    cases,
    contacts,
    customer_merges,
    customers,
    events,
    identities,
    journey_events,
    kb_searches,
    messages,
    surveys,
)

# What an erased person's search keeps of its text: nothing (the content-gap report skips it).
ERASED_SEARCH = ""

T = TypeVar("T")


class PersonalDataRepository(Repository):
    """Queries by customer ids (a person's whole cluster), always scoped by tenant."""

    async def customers(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Customer]:
        return await self._of(Customer, customers, tenant_id, ids, column="id")

    async def identities(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Identity]:
        return await self._of(Identity, identities, tenant_id, ids)

    async def cases(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Case]:
        return await self._of(Case, cases, tenant_id, ids)

    async def contacts(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Contact]:
        return await self._of(Contact, contacts, tenant_id, ids)

    async def messages(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Message]:
        return await self._of(Message, messages, tenant_id, ids)

    async def calls(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Call]:
        return await self._of(Call, calls, tenant_id, ids)

    async def callbacks(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Callback]:
        return await self._of(Callback, callbacks, tenant_id, ids)

    async def surveys(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[Survey]:
        return await self._of(Survey, surveys, tenant_id, ids)

    async def journey(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[JourneyEvent]:
        return await self._of(JourneyEvent, journey_events, tenant_id, ids)

    async def searches(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[SearchRecord]:
        return await self._of(SearchRecord, kb_searches, tenant_id, ids)

    async def merges(self, tenant_id: TenantId, ids: Sequence[str]) -> Sequence[CustomerMerge]:
        query = (
            select(CustomerMerge)
            .where(
                customer_merges.c.tenant_id == tenant_id,
                or_(
                    customer_merges.c.survivor_id.in_(ids),
                    customer_merges.c.merged_id.in_(ids),
                ),
            )
            .order_by(customer_merges.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def assistant_turns(
        self, tenant_id: TenantId, case_ids: Sequence[str]
    ) -> Sequence[AssistantTurn]:
        query = select(AssistantTurn).where(
            assistant_turns.c.tenant_id == tenant_id, assistant_turns.c.case_id.in_(case_ids)
        )
        return (await self.session.scalars(query)).all()

    # Erasure: bulk statements, one per table, so a long history is not loaded row by row.

    async def delete_messages(
        self, tenant_id: TenantId, case_ids: Sequence[str], customer_ids: Sequence[str]
    ) -> None:
        # Turns point at messages (and hold the conversation's slots): they go first.
        await self.session.execute(
            delete(assistant_turns).where(
                assistant_turns.c.tenant_id == tenant_id, assistant_turns.c.case_id.in_(case_ids)
            )
        )
        await self.session.execute(
            delete(messages).where(
                messages.c.tenant_id == tenant_id, messages.c.customer_id.in_(customer_ids)
            )
        )

    async def delete_identities(self, tenant_id: TenantId, ids: Sequence[str]) -> None:
        await self.session.execute(
            delete(identities).where(
                identities.c.tenant_id == tenant_id, identities.c.customer_id.in_(ids)
            )
        )

    async def redact_events(self, tenant_id: TenantId, ids: Sequence[str]) -> int:
        """Stream events about the person keep their seq and type (resuming clients skip
        nothing) but lose their payload."""
        payload = events.c.payload
        about = or_(
            events.c.customer_id.in_(ids),
            # Merge events name two customers, so they carry neither in the customer column.
            payload["survivor_id"].as_string().in_(ids),
            payload["merged_id"].as_string().in_(ids),
        )
        result = await self.session.execute(
            update(events)
            .where(events.c.tenant_id == tenant_id, about)
            .values(payload={"erased": True})
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def redact_searches(
        self,
        tenant_id: TenantId,
        ids: Sequence[str],
        addresses: Sequence[str],
        search_ids: Sequence[str] = (),
    ) -> int:
        """Knowledge-base searches keep their outcome, scores and time (content-gap analytics)
        but lose the words: the person's own searches (by customer, or by `search_ids`), and any
        whose text holds one of their addresses (an anonymous search where they typed their
        email, in any letter case, or their phone number, in any written form)."""
        mine: list[ColumnElement[bool]] = [kb_searches.c.customer_id.in_(ids)]
        if search_ids:
            mine.append(kb_searches.c.id.in_(search_ids))
        # lower() on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is not.
        text = func.lower(kb_searches.c.query)
        mine += [text.contains(a.lower(), autoescape=True) for a in addresses]
        phones = [a for a in addresses if a.startswith("+")]
        if phones:
            mine.append(kb_searches.c.id.in_(await self._searches_naming(tenant_id, phones)))
        result = await self.session.execute(
            update(kb_searches)
            .where(
                kb_searches.c.tenant_id == tenant_id,
                kb_searches.c.query != ERASED_SEARCH,
                or_(*mine),
            )
            .values(query=ERASED_SEARCH, words=ERASED_SEARCH)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _searches_naming(self, tenant_id: TenantId, phones: Sequence[str]) -> list[str]:
        """Ids of searches that hold one of `phones` written in any form ("650-555-0101" for
        +16505550101): narrowed in SQL by the digits every form keeps together, then read by
        the phone-number library (domain.identities.mentions_phone)."""
        query = select(kb_searches.c.id, kb_searches.c.query).where(
            kb_searches.c.tenant_id == tenant_id,
            kb_searches.c.query != ERASED_SEARCH,
            or_(*(kb_searches.c.query.contains(phone_digits_kept_together(p)) for p in phones)),
        )
        rows = (await self.session.execute(query)).all()
        return [row.id for row in rows if any(mentions_phone(row.query, p) for p in phones)]

    async def redact_audit(self, tenant_id: TenantId, ids: Sequence[str]) -> None:
        """Merge audit entries carried the merge reason, written by an agent about the person."""
        query = select(audit_log.c.id, audit_log.c.data).where(
            audit_log.c.tenant_id == tenant_id,
            audit_log.c.subject.in_(ids),
            audit_log.c.action.in_(("customer.merged", "customer.unmerged")),
        )
        for row in (await self.session.execute(query)).all():
            data = dict(row.data or {})
            if data.get("reason") is not None:
                data["reason"] = None
                await self.session.execute(
                    update(audit_log).where(audit_log.c.id == row.id).values(data=data)
                )

    async def still_referenced(self, sha256: str) -> bool:
        """Does any message of any tenant still point at this stored file? The store is
        content-addressed, so two people sending the same file share one copy."""
        pattern = f"%{sha256}%"
        query = (
            select(messages.c.id)
            .where(
                or_(
                    cast(messages.c.attachments, Text).like(pattern),
                    cast(messages.c.properties, Text).like(pattern),
                )
            )
            .limit(1)
        )
        return (await self.session.execute(query)).first() is not None

    # The case access trail.

    async def record_case_access(
        self,
        tenant_id: TenantId,
        case_id: str,
        *,
        actor: str,
        action: str,
        detail: str | None,
        at: datetime,
    ) -> None:
        """One INSERT, no read before it: this runs on every case view."""
        await self.session.execute(
            insert(case_audit).values(
                id=new_id("audit"),
                tenant_id=tenant_id,
                case_id=case_id,
                actor=actor,
                action=action,
                detail=detail[:200] if detail else None,
                at=at,
            )
        )

    async def case_trail(
        self, tenant_id: TenantId, case_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first: the question is usually "who looked at this lately"."""
        query = select(case_audit).where(
            case_audit.c.tenant_id == tenant_id, case_audit.c.case_id == case_id
        )
        if cursor:
            query = query.where(case_audit.c.id < decode_cursor(cursor))
        rows = (
            await self.session.execute(query.order_by(case_audit.c.id.desc()).limit(limit + 1))
        ).all()
        items = [dict(row._mapping) for row in rows[:limit]]
        more = len(rows) > limit
        return items, encode_cursor(items[-1]["id"]) if more and items else None

    async def _of(
        self,
        entity: type[T],
        table: Table,
        tenant_id: TenantId,
        ids: Sequence[str],
        *,
        column: str = "customer_id",
    ) -> Sequence[T]:
        query = (
            select(entity)
            .where(table.c.tenant_id == tenant_id, table.c[column].in_(ids))
            .order_by(table.c.id)
        )
        return (await self.session.scalars(query)).all()
