"""Customers, their identities and merges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import BindParameter, Select, and_, bindparam, or_, select

from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer, CustomerMerge
from carepath.domain.identities import Identity, IdentityKind
from carepath.domain.tenants import Tenant
from carepath.ids import CustomerId, TenantId
from carepath.storage.repositories.base import NOT_PRELOADED, Page, Repository, in_list
from carepath.storage.tables import (
    channel_accounts,
    customer_merges,
    customers,
    identities,
    tenants,
)


class CustomerRepository(Repository):
    async def get(self, tenant_id: TenantId, customer_id: str) -> Customer | None:
        query = select(Customer).where(
            customers.c.tenant_id == tenant_id, customers.c.id == customer_id
        )
        return (await self.session.scalars(query)).first()

    async def get_for_update(self, tenant_id: TenantId, customer_id: str) -> Customer | None:
        query = (
            select(Customer)
            .where(customers.c.tenant_id == tenant_id, customers.c.id == customer_id)
            .with_for_update()
        )
        return (await self.session.scalars(query)).first()

    async def live(self, tenant_id: TenantId, customer_id: str) -> Customer | None:
        """The customer, or the one it was merged into: where new activity belongs."""
        customer = await self.get(tenant_id, customer_id)
        return None if customer is None else await self.live_of(customer)

    async def live_of(self, customer: Customer) -> Customer | None:
        """`customer` itself, or (one more read) the customer it was merged into."""
        if customer.merged_into is not None:
            return await self.get(customer.tenant_id, customer.merged_into)
        return customer

    async def cluster_ids(self, tenant_id: TenantId, customer_id: CustomerId) -> list[CustomerId]:
        """The customer and every customer merged into it: whose history it shows."""
        preloaded = self._preloaded_answer(("cluster", tenant_id, customer_id))
        if preloaded is not NOT_PRELOADED:
            return cast(list[CustomerId], preloaded)
        params = {"tenant_id": tenant_id, "customer_id": customer_id}
        rows = (await self.session.scalars(_cluster_query(), params)).all()
        return [CustomerId(row) for row in rows]

    async def preload_clusters(
        self, customer_ids: Iterable[tuple[TenantId, CustomerId]]
    ) -> dict[tuple[TenantId, CustomerId], list[CustomerId]]:
        """`cluster_ids` of many (live) customers in one query, answered from here once each."""
        wanted = set(customer_ids)
        if not wanted:
            return {}
        ids = in_list(customer_id for _, customer_id in wanted)
        query = select(customers.c.tenant_id, customers.c.id, customers.c.merged_into).where(
            customers.c.tenant_id.in_(in_list(tenant_id for tenant_id, _ in wanted)),
            or_(customers.c.id.in_(ids), customers.c.merged_into.in_(ids)),
        )
        clusters: dict[tuple[TenantId, CustomerId], list[CustomerId]] = {}
        for tenant_id, customer_id, merged_into in (await self.session.execute(query)).all():
            # As in `cluster_ids`: the customer itself, and those merged into it.
            for owner in (customer_id, merged_into):
                key = (TenantId(tenant_id), CustomerId(owner or ""))
                if key in wanted:
                    clusters.setdefault(key, []).append(CustomerId(customer_id))
        for key in wanted:
            self._preloaded[("cluster", *key)] = clusters.setdefault(key, [])
        return clusters

    async def list(
        self, tenant_id: TenantId, *, limit: int, cursor: str | None, segment: str | None = None
    ) -> Page[Customer]:
        query = select(Customer).where(
            customers.c.tenant_id == tenant_id, customers.c.merged_into.is_(None)
        )
        if segment is not None:
            query = query.where(customers.c.segment == segment)
        return await self.page(query, customers.c.id, limit=limit, cursor=cursor)


class IdentityRepository(Repository):
    async def find(self, tenant_id: TenantId, kind: IdentityKind, value: str) -> Identity | None:
        query = select(Identity).where(
            identities.c.tenant_id == tenant_id,
            identities.c.kind == kind,
            identities.c.value == value,
        )
        return (await self.session.scalars(query)).first()

    async def find_with_owner(
        self, tenant_id: TenantId, kind: IdentityKind, value: str
    ) -> tuple[Identity, Customer] | None:
        """The identity and the customer it belongs to, in one query (ingest's first read)."""
        preloaded = self._preloaded_answer(("with_owner", tenant_id, kind, value))
        if preloaded is not NOT_PRELOADED:
            return cast(tuple[Identity, Customer] | None, preloaded)
        params = {"tenant_id": tenant_id, "kind": kind, "value": value}
        row = (await self.session.execute(_identity_with_owner_query(), params)).first()
        return None if row is None else (row[0], row[1])

    async def preload_with_owners(
        self, refs: Iterable[tuple[TenantId, IdentityKind, str]]
    ) -> dict[tuple[TenantId, IdentityKind, str], tuple[Identity, Customer]]:
        """`find_with_owner` for many identities in one query; each later call for one of them
        is answered from here once (None where there is no such identity)."""
        wanted = set(refs)
        if not wanted:
            return {}
        query = (
            select(Identity, Customer)
            .select_from(identities)
            .join(
                customers,
                and_(
                    customers.c.tenant_id == identities.c.tenant_id,
                    customers.c.id == identities.c.customer_id,
                ),
            )
            .where(
                # Two IN lists rather than a tuple IN (portable); the exact match is below.
                identities.c.tenant_id.in_(in_list(tenant_id for tenant_id, _, _ in wanted)),
                identities.c.value.in_(in_list(value for _, _, value in wanted)),
            )
        )
        found: dict[tuple[TenantId, IdentityKind, str], tuple[Identity, Customer]] = {}
        for identity, owner in (await self.session.execute(query)).all():
            key = (identity.tenant_id, identity.kind, identity.value)
            if key in wanted:
                found[key] = (identity, owner)
        for tenant_id, kind, value in wanted:
            self._preloaded[("with_owner", tenant_id, kind, value)] = found.get(
                (tenant_id, kind, value)
            )
        return found

    async def of_customers(
        self, tenant_id: TenantId, customer_ids: Sequence[str]
    ) -> Sequence[Identity]:
        query = (
            select(Identity)
            .where(identities.c.tenant_id == tenant_id, identities.c.customer_id.in_(customer_ids))
            .order_by(identities.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def search(self, tenant_id: TenantId, value: str, *, limit: int) -> Sequence[Identity]:
        """Exact match on any kind (values are stored normalized; the caller normalizes too)."""
        query = (
            select(Identity)
            .where(identities.c.tenant_id == tenant_id, identities.c.value == value)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()


class MergeRepository(Repository):
    async def get(self, tenant_id: TenantId, merge_id: str) -> CustomerMerge | None:
        query = select(CustomerMerge).where(
            customer_merges.c.tenant_id == tenant_id, customer_merges.c.id == merge_id
        )
        return (await self.session.scalars(query)).first()

    async def active_for_merged(self, tenant_id: TenantId, merged_id: str) -> CustomerMerge | None:
        query = select(CustomerMerge).where(
            customer_merges.c.tenant_id == tenant_id,
            customer_merges.c.merged_id == merged_id,
            customer_merges.c.undone_at.is_(None),
        )
        return (await self.session.scalars(query)).first()


class ChannelAccountRepository(Repository):
    async def get(self, tenant_id: TenantId, account_id: str) -> ChannelAccount | None:
        query = select(ChannelAccount).where(
            channel_accounts.c.tenant_id == tenant_id, channel_accounts.c.id == account_id
        )
        return (await self.session.scalars(query)).first()

    async def by_address(self, channel: Channel, address: str) -> ChannelAccount | None:
        """Unscoped on purpose: inbound mail and provider callbacks name an address, and the
        address says which tenant they are for."""
        query = select(ChannelAccount).where(
            channel_accounts.c.channel == channel,
            channel_accounts.c.address == address,
            channel_accounts.c.active.is_(True),
        )
        return (await self.session.scalars(query)).first()

    async def with_tenant(
        self, tenant_ref: str, channel: Channel, address: str
    ) -> tuple[Tenant | None, ChannelAccount | None]:
        """The tenant named by `tenant_ref` (its id if it starts with `ten_`, else its slug) and
        its active account for `address`, in one query: what a provider webhook checks first."""
        query = _tenant_with_account_query(by_id=tenant_ref.startswith("ten_"))
        params = {"tenant_ref": tenant_ref, "channel": channel, "address": address}
        row = (await self.session.execute(query, params)).first()
        return (None, None) if row is None else (row[0], row[1])

    async def active(self, tenant_id: TenantId, channel: Channel) -> Sequence[ChannelAccount]:
        query = (
            select(ChannelAccount)
            .where(
                channel_accounts.c.tenant_id == tenant_id,
                channel_accounts.c.channel == channel,
                channel_accounts.c.active.is_(True),
            )
            .order_by(channel_accounts.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def all_active(self, channel: Channel) -> Sequence[ChannelAccount]:
        """Every tenant's active accounts on a channel (the IMAP poller's list of mailboxes)."""
        query = (
            select(ChannelAccount)
            .where(channel_accounts.c.channel == channel, channel_accounts.c.active.is_(True))
            .order_by(channel_accounts.c.id)
        )
        return (await self.session.scalars(query)).all()

    async def list(
        self, tenant_id: TenantId, *, limit: int, cursor: str | None
    ) -> Page[ChannelAccount]:
        query = select(ChannelAccount).where(channel_accounts.c.tenant_id == tenant_id)
        return await self.page(query, channel_accounts.c.id, limit=limit, cursor=cursor)


# The ingest path's reads, built once with bind parameters: building a statement costs more CPU
# than running its cached compiled form (about 0.1 ms each; docs/performance.md, fifth round).


@cache
def _cluster_query() -> Select[Any]:
    customer_id: BindParameter[str] = bindparam("customer_id")
    return select(customers.c.id).where(
        customers.c.tenant_id == bindparam("tenant_id"),
        or_(customers.c.id == customer_id, customers.c.merged_into == customer_id),
    )


@cache
def _identity_with_owner_query() -> Select[Identity, Customer]:
    tenant_id: BindParameter[str] = bindparam("tenant_id")
    owner = and_(customers.c.tenant_id == tenant_id, customers.c.id == identities.c.customer_id)
    return (
        select(Identity, Customer)
        .select_from(identities)
        .join(customers, owner)
        .where(
            identities.c.tenant_id == tenant_id,
            identities.c.kind == bindparam("kind"),
            identities.c.value == bindparam("value"),
        )
        .limit(1)
    )


@cache
def _tenant_with_account_query(*, by_id: bool) -> Select[Tenant, ChannelAccount]:
    account_of_tenant = and_(
        channel_accounts.c.tenant_id == tenants.c.id,
        channel_accounts.c.channel == bindparam("channel"),
        channel_accounts.c.address == bindparam("address"),
        channel_accounts.c.active.is_(True),
    )
    named = tenants.c.id if by_id else tenants.c.slug
    return (
        select(Tenant, ChannelAccount)
        .select_from(tenants)
        .outerjoin(channel_accounts, account_of_tenant)
        .where(named == bindparam("tenant_ref"))
        .limit(1)
    )
