"""Export of the operational database to the interchange tables, a batch at a time."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy import ColumnElement, Select, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from carepath.analytics.schema import CONTACTS, TIMESTAMP, TableSpec
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


def _raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as SQLite's driver gives it, its stored text, so that no Python runs per value
    on the way: enums stay text, timestamps are Arrow's to parse, JSON `_interchange`'s."""
    return type_coerce(column, NullType()).label(column.key)


def _contacts_query(tenant_id: str) -> Select[Any]:
    return (
        select(
            contacts.c.id.label("contact_id"),
            _customer.label("customer_id"),
            contacts.c.case_id,
            _raw(contacts.c.started_at),
            _raw(contacts.c.ended_at),
            _raw(contacts.c.channel),
            _raw(contacts.c.handled_by),
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
            _raw(journey_events.c.occurred_at).label("ts"),
            _raw(journey_events.c.channel),
            _raw(journey_events.c.type),
            journey_events.c.name,
            _raw(journey_events.c.properties),
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
    holds a transaction open on a live database. A batch is built a column at a time, never a
    Python object per row: those cost more memory and time than the Arrow data itself.
    """
    if spec is CONTACTS:
        query, key = _contacts_query(tenant_id), contacts.c.id
    else:
        query, key = _events_query(tenant_id), journey_events.c.id
    # The key is each query's first column; the events' id is not in their table. Properties
    # arrive as JSON text, made canonical by `_interchange`.
    types: dict[str, pa.DataType] = {query.selected_columns.keys()[0]: pa.string()}
    types.update((column.name, column.type) for column in spec.columns)
    after: str | None = None
    while True:
        page = query.order_by(key).limit(batch_rows)
        if after is not None:
            page = page.where(key > after)
        async with db.uow(write=False) as uow:
            if db.is_sqlite:
                found = await _fetched(uow.session, page, types)
            else:  # PostgreSQL (asyncpg), the other database carepath runs on
                found = await _copied(uow.session, page, types)
        if found.num_rows == 0:
            return
        after = found.column(0)[-1].as_py()
        yield _interchange(found, spec)
        if found.num_rows < batch_rows:
            return


async def _fetched(
    session: AsyncSession, page: Select[Any], types: dict[str, pa.DataType]
) -> pa.Table:
    """The page from the driver's tuples, transposed to columns."""
    result = await session.execute(page)
    names = list(result.keys())
    rows = result.all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    del rows
    return pa.table(
        [_array(types[name], values) for name, values in zip(names, columns, strict=True)],
        names=names,
    )


def _array(kind: pa.DataType, values: Sequence[Any]) -> pa.Array:
    if kind == TIMESTAMP:
        # SQLite's stored text, naive UTC: Arrow parses it; naive to UTC keeps the instant.
        return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(TIMESTAMP)
    return pa.array(values, kind)


async def _copied(
    session: AsyncSession, page: Select[Any], types: dict[str, pa.DataType]
) -> pa.Table:
    """The page as PostgreSQL's COPY writes it in CSV, parsed by Arrow: no Python per value.

    Bound values are rendered into the statement (COPY takes no parameters): they are the
    tenant's and the key's ids, quoted by the dialect."""
    connection = await session.connection()
    # What the CSV reader expects, whatever the server's or role's defaults: ISO dates in UTC,
    # and floats written exactly.
    for setting in ("DateStyle TO ISO", "TimeZone TO 'UTC'", "extra_float_digits TO 3"):
        await connection.exec_driver_sql(f"SET LOCAL {setting}")
    sql = page.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    text = io.BytesIO()

    async def write(chunk: bytes) -> None:
        text.write(chunk)

    await raw.copy_from_query(str(sql), output=write, format="csv")
    names = list(page.selected_columns.keys())
    if not text.tell():
        return pa.schema([(name, types[name]) for name in names]).empty_table()
    text.seek(0)
    return pcsv.read_csv(
        text,
        read_options=pcsv.ReadOptions(column_names=names),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        # COPY writes NULL as an empty field and an empty text as "": nothing else is null.
        convert_options=pcsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _interchange(found: pa.Table, spec: TableSpec) -> pa.Table:
    """The interchange table's columns from the query's: one social channel, canonical JSON."""
    columns = {name: found.column(name) for name in spec.names}
    social = pc.is_in(columns["channel"], value_set=pa.array(list(CHANNEL_NAMES)))
    columns["channel"] = pc.if_else(social, "social", columns["channel"])
    if "properties" in columns:
        columns["properties"] = pa.array(
            [
                json.dumps(json.loads(text) or {}, sort_keys=True)
                for text in columns["properties"].to_pylist()
            ],
            pa.string(),
        )
    return pa.table(list(columns.values()), schema=spec.schema)


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
    # Counting reads the whole join once more: only for a progress bar.
    total = await count_rows(db, spec, tenant_id) if progress is not None else 0
    found: list[pa.Table] = []
    done = 0
    async for batch in batches(db, spec, tenant_id):
        found.append(batch)
        done += batch.num_rows
        if progress is not None:
            progress(done, total)
    return pa.concat_tables(found) if found else spec.schema.empty_table()
