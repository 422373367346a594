"""A tenant's history from the analytics generator, written into the operational tables so that
`analytics.export` reads it back as the same contacts table (customers, cases, contacts and
journey events; `social` stored as Messenger, which the export maps back).

This writes tables directly, unlike `tests/factories.py`: no action records a finished contact of
the past with its wait, handle time and survey scores, and the generator's planted patterns
(docs/subsystems/analytics.md) are what the dashboard tests need to see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import insert

from carepath.analytics.generate import generate
from carepath.domain.cases import CaseStatus, Priority
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel, Handler
from carepath.domain.journey import JourneyEventType
from carepath.storage import Database
from carepath.storage.tables import cases, contacts, customers, journey_events

STORED_CHANNEL = {"social": "messenger"}


async def load_generated(
    db: Database, tenant_id: str, *, customers_n: int = 150, days: int = 28, seed: int = 3
) -> pa.Table:
    """Generate `customers_n` customers over the `days` before today, store them for the
    tenant (ids prefixed by the tenant's, so tenants never collide); returns the contacts as
    generated (ids unprefixed)."""
    start = (utcnow() - timedelta(days=days + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    found = list(generate(customers_n, days, seed, start=start))
    table = pa.concat_tables([c for c, _ in found])
    events = pa.concat_tables([e for _, e in found])
    tag = tenant_id[-12:]
    rows = table.to_pylist()
    now = utcnow()
    people = {r["customer_id"]: r["segment"] for r in rows}
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        firsts.setdefault(row["case_id"], row)
    async with db.uow() as uow:
        session = uow.session
        await session.execute(
            insert(customers),
            [
                {
                    "id": f"{tag}-{cid}",
                    "tenant_id": tenant_id,
                    "name": cid,
                    "segment": segment,
                    "traits": {},
                    "merged_into": None,
                    "created_at": start,
                    "updated_at": start,
                }
                for cid, segment in people.items()
            ],
        )
        await session.execute(
            insert(cases),
            [
                {
                    "id": f"{tag}-{case_id}",
                    "tenant_id": tenant_id,
                    "customer_id": f"{tag}-{row['customer_id']}",
                    "channel": _channel(row["channel"]),
                    "status": CaseStatus.RESOLVED,
                    "intent": row["intent"],
                    "priority": Priority.NORMAL,
                    "segment": None,
                    "reopen_count": 0,
                    "created_at": _utc(row["started_at"]),
                    "updated_at": now,
                }
                for case_id, row in firsts.items()
            ],
        )
        await session.execute(insert(contacts), [_contact(tag, tenant_id, row) for row in rows])
        if events.num_rows:
            await session.execute(
                insert(journey_events),
                [_event(tag, tenant_id, n, e) for n, e in enumerate(events.to_pylist())],
            )
    return table


def _contact(tag: str, tenant_id: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{tag}-{row['contact_id']}",
        "tenant_id": tenant_id,
        "customer_id": f"{tag}-{row['customer_id']}",
        "case_id": f"{tag}-{row['case_id']}",
        "channel": _channel(row["channel"]),
        "handled_by": Handler(row["handled_by"]),
        "started_at": _utc(row["started_at"]),
        "last_activity_at": _utc(row["ended_at"] or row["started_at"]),
        "ended_at": _utc(row["ended_at"]),
        "assistant_involved": row["assistant_involved"],
        "resolved": row["resolved"],
        "abandoned": row["abandoned"],
        "wait_s": row["wait_s"],
        "handle_s": row["handle_s"],
        "csat": row["csat"],
        "nps": row["nps"],
        "ces": row["ces"],
    }


def _event(tag: str, tenant_id: str, n: int, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{tag}-ev{n}",
        "tenant_id": tenant_id,
        "customer_id": f"{tag}-{event['customer_id']}",
        "type": JourneyEventType(event["type"]),
        "name": event["name"],
        "channel": _channel(event["channel"]),
        "occurred_at": _utc(event["ts"]),
        "properties": {},
        "case_id": None,
        "contact_id": None,
        "recorded_at": _utc(event["ts"]),
    }


def _channel(name: str) -> Channel:
    return Channel(STORED_CHANNEL.get(name, name))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
