"""Personal data requests: export everything about a customer, erase a customer, and the case
access trail (who read or changed which case)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry
from carepath.domain.clock import utcnow
from carepath.domain.events import EventType
from carepath.domain.identities import IdentityKind
from carepath.ids import CustomerId
from carepath.privacy.export import build_export, message_files
from carepath.storage import Database, UnitOfWork
from carepath.storage.files import AttachmentStore
from carepath.storage.repositories.personal_data import PersonalDataRepository

# Addresses distinctive enough to find in free text (a visitor id or short external id is not).
SEARCHABLE_ADDRESSES = frozenset({IdentityKind.EMAIL, IdentityKind.PHONE})


@dataclass(frozen=True)
class ErasureCounts:
    """What one erasure did, in numbers only: this is what the audit trail keeps."""

    customers: int = 0
    identities: int = 0
    messages: int = 0
    notes: int = 0
    attachments: int = 0
    files_removed: int = 0
    cases_blanked: int = 0
    journey_events_anonymised: int = 0
    calls_blanked: int = 0
    callbacks_blanked: int = 0
    stream_events_redacted: int = 0
    searches_redacted: int = 0


@dataclass(frozen=True)
class Erasure:
    customer_id: CustomerId
    customer_ids: tuple[CustomerId, ...]
    counts: ErasureCounts
    # True when the person had already been erased and nothing was left to erase.
    already_erased: bool


async def do_export_customer(db: Database, actor: Principal, customer_id: str) -> dict[str, Any]:
    """Everything about the customer (and those merged with them) as JSON; the export is
    audited (who exported whom, when)."""
    authorize(actor, Permission.EXPORT_PERSONAL_DATA)
    async with db.uow(write=False) as uow:
        export = await build_export(uow, actor, customer_id)
    async with db.uow() as uow:
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="customer.exported",
                subject=export["customer_id"],
                data={"messages": len(export["messages"]), "cases": len(export["cases"])},
            )
        )
    return export


async def do_erase_customer(
    db: Database, actor: Principal, customer_id: str, *, store: AttachmentStore
) -> Erasure:
    """Right to erasure for the person behind `customer_id` (their whole merge cluster).

    Deleted: messages and notes (with their attachments' files, unless another message still
    points at the same content), identities (so nothing links back; the next contact from the
    same address is a new customer), assistant turns. Blanked: profile, case subjects and
    hand-off packets, call numbers and recordings, callback numbers, merge reasons, stream
    event payloads. Kept, anonymised: the customer row as a bare key, cases, contacts,
    surveys' scores and journey events without properties, for aggregate analytics.
    Idempotent; audited with counts only; emits `customer.erased`.
    """
    authorize(actor, Permission.ERASE_PERSONAL_DATA)
    now = utcnow()
    async with db.uow() as uow:
        asked = scoped(actor, await uow.customers.get(actor.tenant_id, customer_id), "customer")
        root = CustomerId(asked.merged_into or asked.id)
        cluster = sorted(await uow.customers.cluster_ids(actor.tenant_id, root))
        counts, files, already = await _erase_cluster(uow, actor, cluster, now)
        if not already:
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="customer.erased",
                    subject=root,
                    data={"customer_ids": cluster, **asdict(counts)},
                )
            )
            await uow.events.append(
                actor.tenant_id,
                EventType.CUSTOMER_ERASED,
                {"customer_id": root, "customer_ids": cluster, "counts": asdict(counts)},
            )
    # Files go after the commit: a crash in between leaves an unreferenced file, never a
    # message whose file is gone.
    removed = await _remove_unreferenced(db, store, files)
    counts = ErasureCounts(**{**asdict(counts), "files_removed": removed})
    return Erasure(root, tuple(CustomerId(c) for c in cluster), counts, already)


async def _erase_cluster(
    uow: UnitOfWork, actor: Principal, cluster: Sequence[str], now: datetime
) -> tuple[ErasureCounts, set[str], bool]:
    tenant_id = actor.tenant_id
    data = PersonalDataRepository(uow.session)
    people = []
    for cid in cluster:  # id order: two concurrent erasures cannot deadlock
        people.append(scoped(actor, await uow.customers.get_for_update(tenant_id, cid), "customer"))
    already = all(person.erased_at is not None for person in people)
    said = await data.messages(tenant_id, cluster)
    owned = await data.identities(tenant_id, cluster)
    files: set[str] = set()
    for message in said:
        files |= message_files(message)
    the_cases = await data.cases(tenant_id, cluster)
    await data.delete_messages(tenant_id, [c.id for c in the_cases], cluster)
    await data.delete_identities(tenant_id, cluster)
    for person in people:
        person.erase(now)
    for merge in await data.merges(tenant_id, cluster):
        merge.reason = None
    for case in the_cases:
        case.subject = None
        case.handoff = None
    journey = await data.journey(tenant_id, cluster)
    # Their help-centre searches from before searches named the customer (migration 0014) are
    # known by the search ids their journey events hold.
    searched = [str(e.properties["search_id"]) for e in journey if e.properties.get("search_id")]
    for event in journey:
        # Client-sent properties are free-form (order numbers, addresses): none are kept.
        event.properties = {}
    calls = await data.calls(tenant_id, cluster)
    for call in calls:
        call.from_number = call.to_number = ""
        call.recordings = []
    callbacks = await data.callbacks(tenant_id, cluster)
    for callback in callbacks:
        callback.phone = ""
    redacted = await data.redact_events(tenant_id, cluster)
    # Read before the identities go: an address typed into an anonymous search is theirs too.
    addresses = [i.value for i in owned if i.kind in SEARCHABLE_ADDRESSES]
    searches = await data.redact_searches(tenant_id, cluster, addresses, searched)
    await data.redact_audit(tenant_id, cluster)
    counts = ErasureCounts(
        customers=len(people),
        identities=len(owned),
        messages=sum(1 for m in said if not m.is_internal_note),
        notes=sum(1 for m in said if m.is_internal_note),
        attachments=sum(len(m.attachments) for m in said),
        cases_blanked=len(the_cases),
        journey_events_anonymised=len(journey),
        calls_blanked=len(calls),
        callbacks_blanked=len(callbacks),
        stream_events_redacted=redacted,
        searches_redacted=searches,
    )
    return counts, files, already and not said and not owned


async def _remove_unreferenced(db: Database, store: AttachmentStore, files: set[str]) -> int:
    removed = 0
    async with db.uow(write=False) as uow:
        data = PersonalDataRepository(uow.session)
        for sha256 in sorted(files):
            if await data.still_referenced(sha256):
                continue
            with contextlib.suppress(FileNotFoundError):
                store.path(sha256).unlink()
                removed += 1
    return removed


async def do_record_case_access(
    db: Database, actor: Principal, case_id: str, action: str, detail: str | None = None
) -> None:
    """Note who read (or changed) a case. Called after the case was found in the caller's
    tenant, so it is one INSERT in its own short transaction."""
    async with db.uow() as uow:
        await record_case_change(uow, actor, case_id, action, detail)


async def record_case_change(
    uow: UnitOfWork, actor: Principal, case_id: str, action: str, detail: str | None = None
) -> None:
    """The same, inside the unit of work of the action that changes the case."""
    await PersonalDataRepository(uow.session).record_case_access(
        actor.tenant_id, case_id, actor=actor.actor, action=action, detail=detail, at=utcnow()
    )
