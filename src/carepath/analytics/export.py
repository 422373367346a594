"""Export of the operational database to the interchange tables, a batch at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, func, select

from carepath.analytics.schema import CONTACTS, TableSpec
from carepath.analytics.sources import TableWriter
from carepath.domain import Tenant
from carepath.domain.journey import JourneyEventType
from carepath.errors import InvalidInput, NotFound
from carepath.storage import Database
from carepath.storage.tables import cases, contacts, customers, journey_events

BATCH_ROWS = 10_000
# The interchange format has one social channel; the database keeps each network apart.
CHANNEL_NAMES = {"messenger": "social", "instagram": "social"}
Progress = Callable[[int, int], None]
# The journey-events table holds touchpoints that are not contacts: what the track API records.
# carepath's own events (message, call, hand-off…) are the contacts themselves, seen again.
TOUCHPOINTS = [kind for kind in JourneyEventType if kind.is_trackable]

_owner = customers.alias("owner")
_live = customers.alias("live")
# A merged customer's history is read as the survivor's (merges point straight at a live one).
_customer = func.coalesce(_owner.c.merged_into, _owner.c.id)


async def export_tenant(db: Database, slug: str | None) -> Tenant:
    """The tenant to export: the one named, or the only one there is."""
    async with db.uow(write=False) as uow:
        if slug is not None:
            tenant = await uow.tenants.by_slug(slug)
            if tenant is None:
                raise NotFound(f"no tenant {slug!r}; list them with `carepath tenant list`")
            return tenant
        tenants = await uow.tenants.all()
    if len(tenants) != 1:
        names = ", ".join(tenant.slug for tenant in tenants) or "none yet"
        raise InvalidInput(f"name the tenant with --tenant (there are: {names})")
    return tenants[0]


def _contacts_query(tenant_id: str) -> Select[Any]:
    return (
        select(
            contacts.c.id.label("contact_id"),
            _customer.label("customer_id"),
            contacts.c.case_id,
            contacts.c.started_at,
            contacts.c.ended_at,
            contacts.c.channel,
            contacts.c.handled_by,
            contacts.c.assistant_involved,
            cases.c.intent,
            func.coalesce(cases.c.segment, _live.c.segment).label("segment"),
            contacts.c.resolved,
            contacts.c.abandoned,
            contacts.c.wait_s,
            contacts.c.handle_s,
            contacts.c.csat,
            contacts.c.nps,
            contacts.c.ces,
        )
        .select_from(
            contacts.join(cases, cases.c.id == contacts.c.case_id)
            .join(_owner, _owner.c.id == contacts.c.customer_id)
            .outerjoin(_live, _live.c.id == _customer)
        )
        .where(contacts.c.tenant_id == tenant_id)
    )


def _events_query(tenant_id: str) -> Select[Any]:
    return (
        select(
            journey_events.c.id,
            _customer.label("customer_id"),
            journey_events.c.occurred_at.label("ts"),
            journey_events.c.channel,
            journey_events.c.type,
            journey_events.c.name,
            journey_events.c.properties,
            journey_events.c.case_id,
            journey_events.c.contact_id,
        )
        .select_from(journey_events.join(_owner, _owner.c.id == journey_events.c.customer_id))
        .where(journey_events.c.tenant_id == tenant_id, journey_events.c.type.in_(TOUCHPOINTS))
    )


async def count_rows(db: Database, spec: TableSpec, tenant_id: str) -> int:
    query = select(func.count()).select_from(
        (_contacts_query(tenant_id) if spec is CONTACTS else _events_query(tenant_id)).subquery()
    )
    async with db.uow(write=False) as uow:
        return int((await uow.session.execute(query)).scalar_one())


async def batches(
    db: Database, spec: TableSpec, tenant_id: str, *, batch_rows: int = BATCH_ROWS
) -> AsyncIterator[pa.Table]:
    """The tenant's contacts or journey events as Arrow tables of up to `batch_rows` rows.

    Each batch is its own short read (keyset on the time-ordered id), so a large export never
    holds a transaction open on a live database.
    """
    if spec is CONTACTS:
        query, key = _contacts_query(tenant_id), contacts.c.id
    else:
        query, key = _events_query(tenant_id), journey_events.c.id
    after: str | None = None
    while True:
        page = query.order_by(key).limit(batch_rows)
        if after is not None:
            page = page.where(key > after)
        async with db.uow(write=False) as uow:
            found = [dict(row) for row in (await uow.session.execute(page)).mappings()]
        if not found:
            return
        after = found[-1]["contact_id" if spec is CONTACTS else "id"]
        yield pa.Table.from_pylist([_interchange(row) for row in found], schema=spec.schema)
        if len(found) < batch_rows:
            return


def _interchange(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["channel"] = CHANNEL_NAMES.get(str(row["channel"]), str(row["channel"]))
    for name in ("handled_by", "type"):
        if name in out:
            out[name] = str(out[name])
    if "properties" in out:
        out["properties"] = json.dumps(out["properties"] or {}, sort_keys=True)
    return out


async def export(
    db: Database,
    spec: TableSpec,
    tenant_id: str,
    path: Path,
    *,
    progress: Progress | None = None,
) -> int:
    """Write the tenant's table to a Parquet or CSV file; returns the rows written."""
    total = await count_rows(db, spec, tenant_id)
    with TableWriter(path, spec) as writer:
        async for batch in batches(db, spec, tenant_id):
            writer.write(batch)
            if progress is not None:
                progress(writer.rows, total)
        return writer.rows


async def read_all(
    db: Database, spec: TableSpec, tenant_id: str, *, progress: Progress | None = None
) -> pa.Table:
    """The tenant's whole table in memory, for analyses over the live database."""
    total = await count_rows(db, spec, tenant_id)
    found: list[pa.Table] = []
    done = 0
    async for batch in batches(db, spec, tenant_id):
        found.append(batch)
        done += batch.num_rows
        if progress is not None:
            progress(done, total)
    return pa.concat_tables(found) if found else spec.schema.empty_table()
