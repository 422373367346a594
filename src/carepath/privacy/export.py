"""Everything about one customer (their whole merge cluster) as one JSON document.

Each record is dumped column by column from its table, so a column added later is exported
without anyone remembering to add it here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from carepath.access import Principal, scoped
from carepath.domain.clock import utcnow
from carepath.domain.messages import Message
from carepath.ids import CustomerId
from carepath.storage import UnitOfWork
from carepath.storage.repositories.personal_data import PersonalDataRepository
from carepath.storage.tables import (
    callbacks,
    calls,
    cases,
    contacts,
    customer_merges,
    customers,
    identities,
    journey_events,
    kb_searches,
    messages,
    surveys,
)

EXPORT_FORMAT = "carepath.customer-export/1"
# Where an attachment's contents can be fetched, given the customer and the file's SHA-256.
AttachmentUrl = Callable[[str, str], str]


def attachment_path(customer_id: str, sha256: str) -> str:
    return f"/v1/customers/{customer_id}/attachments/{sha256}"


async def build_export(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: str,
    *,
    attachment_url: AttachmentUrl = attachment_path,
) -> dict[str, Any]:
    """The export of `customer_id` (any member of a cluster gives the whole cluster).

    Another tenant's customer is NotFound. Internal notes are included: they are about the
    person, and a right-of-access request covers them.
    """
    tenant_id = principal.tenant_id
    asked = scoped(principal, await uow.customers.get(tenant_id, customer_id), "customer")
    root = asked.merged_into or asked.id
    cluster = await uow.customers.cluster_ids(tenant_id, CustomerId(root))
    data = PersonalDataRepository(uow.session)
    all_messages = await data.messages(tenant_id, cluster)
    said = [m for m in all_messages if not m.is_internal_note]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "customer_id": root,
        "customers": _rows(customers, await data.customers(tenant_id, cluster)),
        "identities": _rows(identities, await data.identities(tenant_id, cluster)),
        "merges": _rows(customer_merges, await data.merges(tenant_id, cluster)),
        "cases": _rows(cases, await data.cases(tenant_id, cluster)),
        "contacts": _rows(contacts, await data.contacts(tenant_id, cluster)),
        "messages": _rows(messages, said),
        "notes": _rows(messages, [m for m in all_messages if m.is_internal_note]),
        "attachments": _attachments(root, all_messages, attachment_url),
        "calls": _rows(calls, await data.calls(tenant_id, cluster)),
        "callbacks": _rows(callbacks, await data.callbacks(tenant_id, cluster)),
        "surveys": _rows(surveys, await data.surveys(tenant_id, cluster)),
        "journey_events": _rows(journey_events, await data.journey(tenant_id, cluster)),
        "searches": _rows(kb_searches, await data.searches(tenant_id, cluster)),
    }


def _rows(table: Table, objects: Iterable[Any]) -> list[dict[str, Any]]:
    names = [column.key for column in table.columns if column.key != "tenant_id"]
    return [{name: _plain(getattr(obj, name)) for name in names} for obj in objects]


def _attachments(
    customer_id: str, all_messages: Iterable[Message], url: AttachmentUrl
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in all_messages:
        for item in message.attachment_values:
            out.append(
                {
                    "message_id": message.id,
                    **item.to_dict(),
                    "url": url(customer_id, item.sha256) if item.stored and item.sha256 else None,
                }
            )
        # Email bodies too long for the message's properties live in the file store.
        for key in ("html_sha256", "original_text_sha256"):
            sha256 = message.properties.get(key)
            if isinstance(sha256, str):
                out.append(
                    {
                        "message_id": message.id,
                        "filename": f"{key.removesuffix('_sha256')}.txt",
                        "content_type": "text/html" if key == "html_sha256" else "text/plain",
                        "sha256": sha256,
                        "stored": True,
                        "url": url(customer_id, sha256),
                    }
                )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


async def customer_file(
    uow: UnitOfWork, principal: Principal, customer_id: str, sha256: str
) -> bool:
    """Is this stored file one of the customer's (an attachment or a long email body)?"""
    tenant_id = principal.tenant_id
    asked = scoped(principal, await uow.customers.get(tenant_id, customer_id), "customer")
    cluster = await uow.customers.cluster_ids(tenant_id, CustomerId(asked.merged_into or asked.id))
    for message in await PersonalDataRepository(uow.session).messages(tenant_id, cluster):
        if sha256 in message_files(message):
            return True
    return False


def message_files(message: Message) -> set[str]:
    """The SHA-256 of every stored file a message points at."""
    files = {item.sha256 for item in message.attachment_values if item.stored and item.sha256}
    for key in ("html_sha256", "original_text_sha256"):
        value = message.properties.get(key)
        if isinstance(value, str):
            files.add(value)
    return files
