"""Customers of the caller's tenant: search by any identity, the profile with its cases and
journey, trait changes, merge and un-merge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from carepath.access import Permission, authorize, scoped
from carepath.actions import do_merge_customers, do_unmerge_customers, do_update_customer
from carepath.domain.customers import Customer
from carepath.domain.identities import Identity, IdentityKind, normalize_identity
from carepath.errors import InvalidInput
from carepath.ids import TenantId
from carepath.storage import UnitOfWork
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut
from carepath.web.schemas_cases import CaseOut, JourneyEventOut
from carepath.web.schemas_customers import (
    CustomerDetailOut,
    CustomerOut,
    CustomerUpdateIn,
    MergeIn,
    MergeOut,
)

router = APIRouter(prefix="/v1/customers", tags=["customers"])

JOURNEY_ON_PROFILE = 100
IdentityQuery = Annotated[
    str | None,
    Query(
        max_length=320,
        description="Find the customer owning this identity: an email, a phone number, or a "
        "visitor, app, WhatsApp or external id.",
    ),
]
KindQuery = Annotated[
    IdentityKind | None,
    Query(description="The identity's kind; without it email, then phone, then as sent."),
]
SegmentQuery = Annotated[str | None, Query(max_length=64)]


@router.get(
    "", summary="List customers, or find them by an identity", response_model=PageOut[CustomerOut]
)
async def list_customers(
    principal: CurrentPrincipal,
    db: DB,
    identity: IdentityQuery = None,
    kind: KindQuery = None,
    segment: SegmentQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[CustomerOut]:
    authorize(principal, Permission.READ_CUSTOMERS)
    tenant_id = principal.tenant_id
    async with db.uow(write=False) as uow:
        if identity is None:
            if kind is not None:
                raise InvalidInput("kind needs identity, the value to look for", field="kind")
            page = await uow.customers.list(tenant_id, limit=limit, cursor=cursor, segment=segment)
            customers, next_cursor = list(page.items), page.next_cursor
        else:
            found = await _find(uow, tenant_id, identity, kind, limit=limit)
            customers = [c for c in found if segment is None or c.segment == segment]
            next_cursor = None
        owned = await uow.identities.of_customers(tenant_id, [c.id for c in customers])
    return PageOut[CustomerOut](
        items=[CustomerOut.of(c, list(owned)) for c in customers], next_cursor=next_cursor
    )


@router.get(
    "/{customer_id}",
    summary="A customer's profile, cases and journey",
    response_model=CustomerDetailOut,
)
async def get_customer(customer_id: str, principal: CurrentPrincipal, db: DB) -> CustomerDetailOut:
    authorize(principal, Permission.READ_CUSTOMERS)
    tenant_id = principal.tenant_id
    async with db.uow(write=False) as uow:
        customer = scoped(principal, await uow.customers.get(tenant_id, customer_id), "customer")
        cluster = await uow.customers.cluster_ids(tenant_id, customer.id)
        identities = await uow.identities.of_customers(tenant_id, [customer.id])
        cases = await uow.cases.of_customers(tenant_id, cluster)
        journey = await uow.journey.of_customers(tenant_id, cluster, limit=JOURNEY_ON_PROFILE)
        merges = [
            merge
            for merged_id in sorted(cluster)
            if (merge := await uow.merges.active_for_merged(tenant_id, merged_id)) is not None
        ]
    base = CustomerOut.of(customer, list(identities))
    return CustomerDetailOut(
        **base.model_dump(),
        cases=[CaseOut.of(c) for c in cases],
        journey=[JourneyEventOut.of(e) for e in journey],
        merges=[MergeOut.of(m) for m in merges],
    )


@router.patch("/{customer_id}", summary="Change a customer's traits", response_model=CustomerOut)
async def update_customer(
    customer_id: str, body: CustomerUpdateIn, principal: CurrentPrincipal, db: DB
) -> CustomerOut:
    customer = await do_update_customer(db, principal, customer_id, body.changes())
    async with db.uow(write=False) as uow:
        identities = await uow.identities.of_customers(principal.tenant_id, [customer.id])
    return CustomerOut.of(customer, list(identities))


@router.post(
    "/{customer_id}/merge",
    status_code=201,
    summary="Merge a duplicate into this customer (undo with /merges/{id}/undo)",
    response_model=MergeOut,
)
async def merge_customer(
    customer_id: str, body: MergeIn, principal: CurrentPrincipal, db: DB
) -> MergeOut:
    merge = await do_merge_customers(db, principal, customer_id, body.merged_id, body.reason)
    return MergeOut.of(merge)


@router.post("/merges/{merge_id}/undo", summary="Undo a merge exactly", response_model=MergeOut)
async def undo_merge(merge_id: str, principal: CurrentPrincipal, db: DB) -> MergeOut:
    return MergeOut.of(await do_unmerge_customers(db, principal, merge_id))


async def _find(
    uow: UnitOfWork, tenant_id: TenantId, value: str, kind: IdentityKind | None, *, limit: int
) -> list[Customer]:
    """The live customers owning an identity equal to `value` in its normalized form."""
    matches: list[Identity] = []
    for candidate in _spellings(value, kind):
        for identity in await uow.identities.search(tenant_id, candidate, limit=limit):
            if kind is None or identity.kind is kind:
                matches.append(identity)
    customers: dict[str, Customer] = {}
    for identity in matches:
        customer = await uow.customers.live(tenant_id, identity.customer_id)
        if customer is not None:
            customers.setdefault(customer.id, customer)
    return list(customers.values())[:limit]


def _spellings(value: str, kind: IdentityKind | None) -> list[str]:
    if kind is not None:
        try:
            return [normalize_identity(kind, value)]
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="identity") from exc
    spellings: list[str] = []
    for guess in (IdentityKind.EMAIL, IdentityKind.PHONE, IdentityKind.EXTERNAL):
        try:
            spelling = normalize_identity(guess, value)
        except InvalidInput:
            continue
        if spelling not in spellings:
            spellings.append(spelling)
    if not spellings:
        raise InvalidInput("not an identity anyone could have", field="identity")
    return spellings
