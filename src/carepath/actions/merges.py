"""Merging duplicate customers, undoing a merge, and changing a customer's traits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carepath.access import Permission, Principal, authorize, scoped
from carepath.actions.payloads import customer_payload
from carepath.domain import AuditEntry
from carepath.domain.clock import utcnow
from carepath.domain.customers import (
    Customer,
    CustomerMerge,
    merge_customers,
    unmerge_customers,
)
from carepath.domain.events import EventType
from carepath.domain.masking import mask_card_numbers
from carepath.errors import Conflict, InvalidInput
from carepath.storage import Database, UnitOfWork

MAX_REASON_LENGTH = 500


async def do_merge_customers(
    db: Database,
    actor: Principal,
    survivor_id: str,
    merged_id: str,
    reason: str | None = None,
) -> CustomerMerge:
    """Merge `merged_id` into `survivor_id`: its identities move, its history stays put and is
    read through `merged_into`. Audited; undone by `do_unmerge_customers`."""
    authorize(actor, Permission.MERGE_CUSTOMERS)
    reason = _reason(reason)
    if survivor_id == merged_id:
        raise Conflict("a customer cannot be merged into itself", field="merged_id")
    now = utcnow()
    async with db.uow() as uow:
        customers = await _lock(uow, actor, survivor_id, merged_id)
        survivor, merged = customers[survivor_id], customers[merged_id]
        absorbed = list(await uow.customers.cluster_ids(actor.tenant_id, merged.id))
        absorbed.remove(merged.id)
        if absorbed:
            # Merged customers point straight at a live one (no chains), so that un-merging one
            # merge never has to re-point others.
            raise Conflict(
                f"customer {merged.id} has other customers merged into it; undo those merges "
                f"first, or merge {survivor.id} into {merged.id} instead",
                field="merged_id",
                merged_customer_ids=sorted(absorbed),
            )
        identities = await uow.identities.of_customers(actor.tenant_id, [merged.id])
        merge = merge_customers(
            survivor, merged, identities, actor=actor.actor, now=now, reason=reason
        )
        uow.merges.add(merge)
        await uow.audit.record(_audit(actor, "customer.merged", merge))
        await uow.events.append(actor.tenant_id, EventType.CUSTOMER_MERGED, merge_payload(merge))
    return merge


async def do_unmerge_customers(db: Database, actor: Principal, merge_id: str) -> CustomerMerge:
    """Undo a merge exactly: the identities it moved go back, `merged_into` is cleared.

    Cases, contacts, messages and journey events never moved, so nothing else changes.
    Identities the survivor gained after the merge stay with the survivor.
    """
    authorize(actor, Permission.MERGE_CUSTOMERS)
    now = utcnow()
    async with db.uow() as uow:
        merge = scoped(actor, await uow.merges.get(actor.tenant_id, merge_id), "merge")
        customers = await _lock(uow, actor, merge.survivor_id, merge.merged_id)
        survivor_identities = await uow.identities.of_customers(
            actor.tenant_id, [merge.survivor_id]
        )
        unmerge_customers(
            merge, customers[merge.merged_id], survivor_identities, actor=actor.actor, now=now
        )
        await uow.audit.record(_audit(actor, "customer.unmerged", merge))
        await uow.events.append(actor.tenant_id, EventType.CUSTOMER_UNMERGED, merge_payload(merge))
    return merge


async def do_update_customer(
    db: Database, actor: Principal, customer_id: str, changes: Mapping[str, Any]
) -> Customer:
    """Set traits ("name", "segment" or any other; None removes one), whole or not at all."""
    authorize(actor, Permission.UPDATE_CUSTOMERS)
    async with db.uow() as uow:
        customer = scoped(
            actor, await uow.customers.get_for_update(actor.tenant_id, customer_id), "customer"
        )
        if customer.merged_into is not None:
            raise Conflict(
                f"customer {customer.id} is merged into {customer.merged_into}; change that one",
                merged_into=customer.merged_into,
            )
        if not changes:
            return customer
        customer.apply_traits(changes, utcnow())
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="customer.updated",
                subject=customer.id,
                # The names only: trait values are personal data and the audit trail keeps forever.
                data={"changed": sorted(changes)},
            )
        )
        await uow.events.append(
            actor.tenant_id, EventType.CUSTOMER_UPDATED, customer_payload(customer)
        )
    return customer


def merge_payload(merge: CustomerMerge) -> dict[str, Any]:
    return {
        "merge_id": merge.id,
        "survivor_id": merge.survivor_id,
        "merged_id": merge.merged_id,
        "moved_identity_ids": list(merge.moved_identity_ids),
        "actor": merge.actor,
        "reason": merge.reason,
        "created_at": merge.created_at.isoformat(),
        "undone_at": merge.undone_at.isoformat() if merge.undone_at else None,
        "undone_by": merge.undone_by,
    }


async def _lock(uow: UnitOfWork, actor: Principal, *customer_ids: str) -> dict[str, Customer]:
    """Both customers, row-locked in id order so that two concurrent merges cannot deadlock."""
    locked: dict[str, Customer] = {}
    for customer_id in sorted(set(customer_ids)):
        customer = await uow.customers.get_for_update(actor.tenant_id, customer_id)
        locked[customer_id] = scoped(actor, customer, "customer")
    return locked


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = " ".join(mask_card_numbers(reason).split())
    if len(text) > MAX_REASON_LENGTH or not text.isprintable():
        raise InvalidInput(
            f"a reason is at most {MAX_REASON_LENGTH} printable characters", field="reason"
        )
    return text or None


def _audit(actor: Principal, action: str, merge: CustomerMerge) -> AuditEntry:
    return AuditEntry(
        tenant_id=actor.tenant_id,
        actor=actor.actor,
        action=action,
        subject=merge.merged_id,
        data={
            "merge_id": merge.id,
            "survivor_id": merge.survivor_id,
            "merged_id": merge.merged_id,
            "moved_identity_ids": list(merge.moved_identity_ids),
            "reason": merge.reason,
        },
    )
