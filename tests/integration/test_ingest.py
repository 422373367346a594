"""do_ingest_inbound: one customer, one case, across channels; idempotent; masked."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from carepath.actions.identify import do_identify
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.storage import Database
from tests.factories import make_tenant
from tests.inbound import inbound


async def test_email_then_sms_then_chat_is_one_customer_one_case_three_contacts(
    db: Database,
) -> None:
    # given a customer identified with email, phone and their web visitor id
    tenant = await make_tenant(db)
    identified = await do_identify(
        db,
        tenant.id,
        [
            IdentityRef.of(IdentityKind.EMAIL, "Dana@Example.com"),
            IdentityRef.of(IdentityKind.PHONE, "+1 (650) 555-0100"),
            IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-42"),
        ],
        traits={"name": "Dana", "segment": "premium"},
        verified=True,
    )
    start = utcnow()
    # when they write by email, then SMS, then web chat
    by_email = await do_ingest_inbound(
        db,
        inbound(
            tenant.id, Channel.EMAIL, "dana@example.com", "My refund has not arrived", at=start
        ),
    )
    by_sms = await do_ingest_inbound(
        db,
        inbound(
            tenant.id,
            Channel.SMS,
            "+16505550100",
            "Any news on my refund?",
            at=start + timedelta(minutes=5),
        ),
    )
    by_chat = await do_ingest_inbound(
        db,
        inbound(
            tenant.id,
            Channel.CHAT,
            "visitor-42",
            "Still no refund",
            at=start + timedelta(minutes=9),
        ),
    )
    # then one customer, one case, three contacts, and an ordered timeline
    results = [by_email, by_sms, by_chat]
    assert {r.customer.id for r in results} == {identified.customer.id}
    assert {r.case.id for r in results} == {by_email.case.id}
    assert len({r.contact.id for r in results if r.contact}) == 3
    assert [r.new_case for r in results] == [True, False, False]
    async with db.uow(write=False) as uow:
        case = await uow.cases.get(tenant.id, by_email.case.id)
        contacts = await uow.contacts.of_case(tenant.id, by_email.case.id)
        messages = await uow.messages.of_case(tenant.id, by_email.case.id)
        journey = await uow.journey.of_customers(tenant.id, [identified.customer.id])
    assert case is not None
    assert case.channel is Channel.CHAT  # the case follows the customer to their latest channel
    assert case.segment == "premium"
    assert [c.channel for c in contacts] == [Channel.EMAIL, Channel.SMS, Channel.CHAT]
    assert [m.text for m in messages] == [
        "My refund has not arrived",
        "Any news on my refund?",
        "Still no refund",
    ]
    assert [(j.type.value, j.channel) for j in journey] == [
        ("message", Channel.EMAIL),
        ("message", Channel.SMS),
        ("message", Channel.CHAT),
    ]


async def test_the_same_provider_message_five_times_concurrently_is_stored_once(
    db: Database,
) -> None:
    tenant = await make_tenant(db)
    message = inbound(tenant.id, Channel.SMS, "+16505550111", "hello?", external_id="SM123")
    results = await asyncio.gather(*(do_ingest_inbound(db, message) for _ in range(5)))
    assert len({r.message.id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False, True, True, True, True]
    async with db.engine.connect() as conn:
        counts = {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
            for table in (
                "messages",
                "customers",
                "identities",
                "cases",
                "contacts",
                "journey_events",
            )
        }
    assert counts == {
        "messages": 1,
        "customers": 1,
        "identities": 1,
        "cases": 1,
        "contacts": 1,
        "journey_events": 1,
    }


async def test_a_provider_retry_writes_nothing(db: Database) -> None:
    tenant = await make_tenant(db)
    first = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550112", external_id="SM1")
    )
    async with db.uow(write=False) as uow:
        seq_before = await uow.events.last_seq(tenant.id)
    again = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550112", external_id="SM1")
    )
    async with db.uow(write=False) as uow:
        assert await uow.events.last_seq(tenant.id) == seq_before
    assert again.duplicate
    assert again.message.id == first.message.id


async def test_a_case_resolved_long_ago_is_not_reopened_but_a_recent_one_is(db: Database) -> None:
    tenant = await make_tenant(db)
    t0 = utcnow() - timedelta(days=30)
    first = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550113", at=t0))
    async with db.uow() as uow:
        case = await uow.cases.get(tenant.id, first.case.id)
        assert case is not None
        case.resolve(t0 + timedelta(hours=1))
    # within the 7-day window: reopened
    soon = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550113", at=t0 + timedelta(days=2))
    )
    assert soon.case.id == first.case.id
    assert soon.case.is_open
    assert soon.case.reopen_count == 1
    async with db.uow() as uow:
        case = await uow.cases.get(tenant.id, first.case.id)
        assert case is not None
        case.resolve(t0 + timedelta(days=2, hours=1))
    # after the window: a new case
    later = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550113", at=t0 + timedelta(days=20))
    )
    assert later.new_case
    assert later.case.id != first.case.id


async def test_an_explicit_thread_reference_wins_over_the_latest_case(db: Database) -> None:
    tenant = await make_tenant(db)
    t0 = utcnow()
    older = await do_ingest_inbound(
        db,
        inbound(tenant.id, Channel.EMAIL, "ann@example.com", "order 1", external_id="<a@x>", at=t0),
    )
    async with db.uow() as uow:
        case = await uow.cases.get(tenant.id, older.case.id)
        assert case is not None
        case.resolve(t0 + timedelta(minutes=1))
        case.close(t0 + timedelta(minutes=2))
    newer = await do_ingest_inbound(
        db,
        inbound(
            tenant.id, Channel.EMAIL, "ann@example.com", "order 2", at=t0 + timedelta(minutes=3)
        ),
    )
    assert newer.case.id != older.case.id
    # a reply from ANOTHER address that references the newer thread joins it
    reply = await do_ingest_inbound(
        db,
        inbound(
            tenant.id,
            Channel.EMAIL,
            "ann.work@example.com",
            "re: order 2",
            thread_refs=(newer.message.external_id or "",),
            at=t0 + timedelta(minutes=4),
        ),
    )
    assert reply.case.id == newer.case.id


async def test_a_new_contact_starts_after_the_inactivity_gap(db: Database) -> None:
    tenant = await make_tenant(db)
    t0 = utcnow()
    a = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550114", at=t0))
    b = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550114", at=t0 + timedelta(minutes=10))
    )
    c = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550114", at=t0 + timedelta(hours=2))
    )
    assert a.contact
    assert b.contact
    assert c.contact
    assert a.contact.id == b.contact.id != c.contact.id
    assert a.case.id == c.case.id


async def test_card_numbers_are_masked_before_they_are_stored(db: Database) -> None:
    tenant = await make_tenant(db)
    result = await do_ingest_inbound(
        db,
        inbound(
            tenant.id,
            Channel.CHAT,
            "visitor-7",
            "my card 4111 1111 1111 1111 was charged twice",
            properties={"note": "card 5500-0000-0000-0004"},
        ),
    )
    assert "1111 1111 1111 1111" not in result.message.text
    assert result.message.text.endswith("1111 was charged twice")
    rows: list[object] = []
    async with db.engine.connect() as conn:
        for table in ("messages", "events", "journey_events"):
            rows += (await conn.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
    dump = " ".join(str(row) for row in rows)
    assert "4111 1111 1111 1111" not in dump
    assert "4111111111111111" not in dump
    assert "5500-0000-0000-0004" not in dump
