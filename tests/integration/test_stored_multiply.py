"""The memory benchmark's seeding (benchmarks/stored_multiply.py): copies of a history written by
the real actions keep every key unique, every reference inside its own copy, and the tenant's
event seqs gap-free, so the server reads them as it would a real history."""

from __future__ import annotations

from collections import Counter

from benchmarks.stored_multiply import COPIED, multiply
from sqlalchemy import func, select, text

from carepath.actions.cases import do_resolve_case
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import cases, event_counters, events, messages
from tests.factories import make_company, system
from tests.inbound import inbound


async def _counts(db: Database, tenant_id: str) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            name: int(
                (
                    await conn.execute(
                        text(f"SELECT count(*) FROM {name} WHERE tenant_id = :t"),  # noqa: S608
                        {"t": tenant_id},
                    )
                ).scalar_one()
            )
            for name in COPIED
        }


async def test_copies_of_a_real_history_stay_consistent(db: Database, database_url: str) -> None:
    # given a history written by the real actions: two customers' texts, one case resolved
    company = await make_company(db)
    tenant_id = company.tenant.id
    async with db.engine.connect() as conn:
        set_up = (
            await conn.execute(
                select(event_counters.c.last_seq).where(event_counters.c.tenant_id == tenant_id)
            )
        ).scalar_one()
    first = await do_ingest_inbound(db, inbound(tenant_id, Channel.SMS, "+16505550101", "hi"))
    await do_ingest_inbound(db, inbound(tenant_id, Channel.SMS, "+16505550101", "again"))
    other = await do_ingest_inbound(db, inbound(tenant_id, Channel.SMS, "+16505550102", "hello"))
    await do_resolve_case(db, system(company.tenant), first.case.id)
    before = await _counts(db, tenant_id)
    # when it is copied three times in the database
    copied = await multiply(database_url, tenant_id, 3, set_up)
    # then every conversation table holds four times its rows
    assert copied.rows == {name: 4 * n for name, n in before.items()}
    assert await _counts(db, tenant_id) == copied.rows
    async with db.engine.connect() as conn:
        # and the tenant's event seqs run from 1 to its counter without a gap
        seqs = (
            await conn.execute(
                select(events.c.seq).where(events.c.tenant_id == tenant_id).order_by(events.c.seq)
            )
        ).scalars()
        counter = (
            await conn.execute(
                select(event_counters.c.last_seq).where(event_counters.c.tenant_id == tenant_id)
            )
        ).scalar_one()
        assert list(seqs) == list(range(1, counter + 1))
        # and every message's case belongs to the same customer (its own copy)
        mismatched = (
            await conn.execute(
                select(func.count())
                .select_from(messages.join(cases, cases.c.id == messages.c.case_id))
                .where(messages.c.tenant_id == tenant_id)
                .where(messages.c.customer_id != cases.c.customer_id)
            )
        ).scalar_one()
        assert mismatched == 0
        # and the ids inside the events' payloads name the copy's own messages
        message_ids = set((await conn.execute(select(messages.c.id))).scalars())
        payloads = (
            await conn.execute(
                select(events.c.payload).where(
                    events.c.tenant_id == tenant_id, events.c.type == "message.created"
                )
            )
        ).scalars()
        named = Counter(payload["message_id"] for payload in payloads)
        assert set(named) == message_ids
        assert set(named.values()) == {1}
    # and the real path still finds the original customer, not a copy
    again = await do_ingest_inbound(db, inbound(tenant_id, Channel.SMS, "+16505550102", "me"))
    assert not again.new_customer
    assert (again.customer.id, again.case.id) == (other.customer.id, other.case.id)
