"""Hand-built contacts and journey events for the metric tests, loaded into DuckDB."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from carepath.analytics.engine import Engine
from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
from carepath.analytics.validation import validate_table

# Monday 1 January 2024, 09:00 UTC: the first day of ISO week 2024-W01.
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
_names = itertools.count(1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def contact(
    contact_id: str,
    customer: str,
    hours: float,
    channel: str,
    *,
    handled_by: str = "agent",
    assistant: bool = False,
    intent: str | None = "billing",
    segment: str | None = "consumer",
    abandoned: bool = False,
    wait_s: float | None = None,
    handle_s: float | None = None,
    resolved: bool | None = None,
    csat: int | None = None,
    nps: int | None = None,
    ces: int | None = None,
) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "customer_id": customer,
        "case_id": None,
        "started_at": at(hours),
        "ended_at": None,
        "channel": channel,
        "handled_by": handled_by,
        "assistant_involved": assistant or handled_by == "assistant",
        "intent": intent,
        "segment": segment,
        "resolved": resolved,
        "abandoned": abandoned,
        "wait_s": wait_s,
        "handle_s": handle_s,
        "csat": csat,
        "nps": nps,
        "ces": ces,
    }


def event(customer: str, hours: float, channel: str, kind: str, name: str = "x") -> dict[str, Any]:
    return {
        "customer_id": customer,
        "ts": at(hours),
        "channel": channel,
        "type": kind,
        "name": name,
        "properties": None,
        "case_id": None,
        "contact_id": None,
    }


def contacts_table(engine: Engine, rows: list[dict[str, Any]]) -> ir.Table:
    """The rows, checked against the contacts spec (a test's data must be valid), in DuckDB."""
    table, report = validate_table(pa.Table.from_pylist(rows, schema=CONTACTS.schema))
    assert report.ok, report.summary()
    return engine.table(table, f"contacts_{next(_names)}")


def events_table(engine: Engine, rows: list[dict[str, Any]]) -> ir.Table:
    table, report = validate_table(
        pa.Table.from_pylist(rows, schema=JOURNEY_EVENTS.schema), JOURNEY_EVENTS
    )
    assert report.ok, report.summary()
    return engine.table(table, f"events_{next(_names)}")


def by_key(found: list[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    """Rows indexed by their key columns (one key: the value; several: a tuple)."""
    index: dict[Any, dict[str, Any]] = {}
    for row in found:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        index[key] = row
    return index
