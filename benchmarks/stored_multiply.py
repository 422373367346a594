# ruff: noqa: S608 - SQL built from our own table and column names, integers and tenant id
"""Multiply a tenant's real conversation history inside the database, for `stored_memory.py`.

Every row of the conversation tables (customers, identities, cases, contacts, messages, journey
events, work items, surveys, case audit, and the events after the tenant's set-up) is copied
`copies` times with set-based SQL: `INSERT ... SELECT ... CROSS JOIN` a series of copy numbers
(PostgreSQL `generate_series`, SQLite a recursive CTE). Copy k of a row:

- ids: the 6 hex digits after the kind prefix (the top of the UUIDv7 timestamp) become k in hex,
  in the row's own id, in every id column pointing at a copied row (customer, case, contact,
  message, subject) and inside JSON columns (event payloads, properties), so every foreign key
  points at the same copy; users, the tenant and channel accounts are shared, as in real life;
- unique values: the provider's message id gets `.k`, a phone identity becomes +19<k><last 5>;
- times: every timestamp moves back k hours, so the copies are older history (104 days at 10^6);
- events: the copies take seqs below the originals (copy k at `seq + (copies - k) * m` for the m
  events after set-up, the originals moved up by `copies * m`), so seqs stay gap-free per tenant
  and older events have lower seqs; the tenant's event counter ends at the last one.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from carepath.storage.tables import metadata
from carepath.storage.types import UTCDateTime

# Parents first, so that every foreign key is satisfied as rows arrive.
COPIED = (
    "customers",
    "identities",
    "cases",
    "contacts",
    "messages",
    "journey_events",
    "work_items",
    "surveys",
    "case_audit",
    "events",
)
ID_COLUMNS = {
    "id",
    "customer_id",
    "case_id",
    "contact_id",
    "message_id",
    "subject_id",
    "merged_into",
}
# Ids inside JSON (payloads, properties) of the copied kinds; users' and the tenant's stay.
COPIED_KINDS = "cus|idn|case|con|msg|jev|wrk|svy|cau"
JSON_IDS = re.compile(rf'"({COPIED_KINDS})_[0-9a-f]{{6}}')
MAX_COPIES = 0xFFFF  # below the ids' own timestamp digits (0x01a2.. since 2024): no collision


@dataclass(frozen=True)
class Multiplied:
    copies: int
    rows: dict[str, int]
    seconds: dict[str, float]  # per statement, by the table it writes


def _hex(k: int) -> str:
    return f"{k:06x}"


def remap_id(value: str | None, k: int) -> str | None:
    """Copy k's id for `value` (SQLite's function; PostgreSQL does the same in SQL)."""
    if value is None:
        return None
    cut = value.index("_") + 1
    return value[:cut] + _hex(k) + value[cut + 6 :]


def remap_json(value: str | None, k: int) -> str | None:
    if value is None:
        return None
    return JSON_IDS.sub(lambda m: f'"{m.group(1)}_{_hex(k)}', value)


class _Sql:
    """How one dialect writes the copy's expressions."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def series(self, copies: int) -> str:
        if self.dialect == "postgresql":
            return f"generate_series(1, {copies}) AS c(k)"
        numbers = f"SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {copies}"
        return f"(WITH RECURSIVE s(k) AS ({numbers}) SELECT k FROM s) AS c"

    def id(self, column: str) -> str:
        if self.dialect == "postgresql":
            return (
                f"left({column}, strpos({column}, '_')) || lpad(to_hex(c.k), 6, '0') "
                f"|| substr({column}, strpos({column}, '_') + 7)"
            )
        return f"remap_id({column}, c.k)"

    def json(self, column: str) -> str:
        if self.dialect == "postgresql":
            return (
                f"regexp_replace({column}::text, '\"({COPIED_KINDS})_[0-9a-f]{{6}}', "
                f"'\"\\1_' || lpad(to_hex(c.k), 6, '0'), 'g')::json"
            )
        return f"remap_json({column}, c.k)"

    def earlier(self, column: str) -> str:
        """k hours earlier; SQLite keeps its stored text format (fraction included)."""
        if self.dialect == "postgresql":
            return f"{column} - make_interval(hours => c.k)"
        return f"datetime({column}, '-' || c.k || ' hours') || substr({column}, 20)"

    def suffixed(self, column: str) -> str:
        return f"{column} || '.' || c.k"

    def phone(self, column: str) -> str:
        if self.dialect == "postgresql":
            return f"'+19' || lpad(c.k::text, 5, '0') || right({column}, 5)"
        return f"'+19' || substr('00000' || c.k, -5) || substr({column}, -5)"


def copy_statement(
    table: sa.Table, sql: _Sql, copies: int, tenant_id: str, *, first_seq: int = 0, span: int = 0
) -> str:
    """INSERT ... SELECT of `copies` copies of the tenant's rows of `table`."""
    names, values = [], []
    for column in table.columns:
        name = column.name
        ref = f"t.{name}"
        if name in ID_COLUMNS:
            value = f"CASE WHEN {ref} IS NULL THEN NULL ELSE {sql.id(ref)} END"
        elif isinstance(column.type, sa.JSON):
            value = sql.json(ref)
        elif isinstance(column.type, UTCDateTime):
            value = sql.earlier(ref)
        elif (table.name, name) == ("messages", "external_id"):
            value = sql.suffixed(ref)
        elif (table.name, name) == ("identities", "value"):
            value = f"CASE WHEN t.kind = 'phone' THEN {sql.phone(ref)} ELSE {sql.suffixed(ref)} END"
        elif (table.name, name) == ("events", "seq"):
            # The originals were moved up by copies * span first: copy k lands at
            # seq + (copies - k) * span.
            value = f"{ref} - c.k * {span}"
        else:
            value = ref
        names.append(name)
        values.append(value)
    where = f"t.tenant_id = '{tenant_id}'"
    # In key order, so that the primary key grows at its end (copy k's ids all start with k)
    # rather than at random pages once it outgrows the cache (no difference at 10^5).
    order = "c.k, t.id"
    if table.name == "events":
        where += f" AND t.seq > {first_seq}"
        order = "c.k DESC, t.seq"
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM {table.name} AS t CROSS JOIN {sql.series(copies)} "
        f"WHERE {where} ORDER BY {order}"
    )


def _statements(
    dialect: str, tenant_id: str, copies: int, first_seq: int, last_seq: int
) -> list[str]:
    if not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"copies must be 1..{MAX_COPIES}")
    sql = _Sql(dialect)
    span = last_seq - first_seq
    tenant = f"tenant_id = '{tenant_id}'"
    return [
        # The originals' events move above where the copies go (no overlap: all new seqs > m).
        f"UPDATE events SET seq = seq + {copies * span} WHERE {tenant} AND seq > {first_seq}",
        *(
            copy_statement(
                metadata.tables[name], sql, copies, tenant_id, first_seq=first_seq, span=span
            )
            for name in COPIED
        ),
        f"UPDATE event_counters SET last_seq = {last_seq + copies * span} WHERE {tenant}",
    ]


async def multiply(url: str, tenant_id: str, copies: int, first_seq: int) -> Multiplied:
    """Copy the tenant's history `copies` times; `first_seq` is the last event of its set-up."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            last_seq = int(
                (
                    await conn.execute(
                        sa.text("SELECT last_seq FROM event_counters WHERE tenant_id = :t"),
                        {"t": tenant_id},
                    )
                ).scalar_one()
            )
        statements = _statements(engine.dialect.name, tenant_id, copies, first_seq, last_seq)
        if engine.dialect.name == "postgresql":
            seconds = {}
            async with engine.begin() as conn:
                for statement in statements:
                    started = time.perf_counter()
                    await conn.execute(sa.text(statement))
                    seconds[_target(statement)] = time.perf_counter() - started
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                started = time.perf_counter()
                await conn.execute(sa.text("ANALYZE"))
                seconds["analyze"] = time.perf_counter() - started
        else:
            seconds = _sqlite(engine.url.database or "", statements)
        async with engine.connect() as conn:
            rows = {
                name: int(
                    (
                        await conn.execute(
                            sa.text(f"SELECT count(*) FROM {name} WHERE tenant_id = :t"),
                            {"t": tenant_id},
                        )
                    ).scalar_one()
                )
                for name in COPIED
            }
    finally:
        await engine.dispose()
    return Multiplied(copies, rows, seconds)


def _target(statement: str) -> str:
    verb, _, rest = statement.partition(" ")
    return f"{verb.lower()} {rest.split()[1 if verb == 'INSERT' else 0]}"


def _sqlite(path: str, statements: list[str]) -> dict[str, float]:
    """The stdlib driver, so that the id functions can be registered; foreign keys enforced."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.create_function("remap_id", 2, remap_id, deterministic=True)
        conn.create_function("remap_json", 2, remap_json, deterministic=True)
        conn.execute("PRAGMA foreign_keys=ON")
        # Index pages of the copied tables stay in memory instead of spilling (SQLite's 2 MB).
        conn.execute("PRAGMA cache_size=-1000000")
        seconds = {}
        conn.execute("BEGIN IMMEDIATE")
        for statement in statements:
            started = time.perf_counter()
            conn.execute(statement)
            seconds[_target(statement)] = time.perf_counter() - started
        conn.execute("COMMIT")
        started = time.perf_counter()
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise AssertionError(f"foreign keys broken by the copies: {broken[:5]}")
        seconds["foreign_key_check"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE")
        seconds["analyze"] = time.perf_counter() - started
        return seconds
    finally:
        conn.close()
