"""Customers through the API: search by identity, the profile, trait changes, merge and undo."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from carepath.actions.identify import TrackedEvent, do_identify, do_track
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.domain.tenants import Tenant
from carepath.storage import Database
from carepath.storage.tables import (
    cases,
    contacts,
    customer_merges,
    customers,
    identities,
    journey_events,
    messages,
)
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound


async def _dana(db: Database, tenant: Tenant) -> str:
    """A customer known by every kind of identity."""
    result = await do_identify(
        db,
        tenant.id,
        [
            IdentityRef.of(IdentityKind.APP_USER, "user-7"),
            IdentityRef.of(IdentityKind.EMAIL, "Dana@Example.com"),
            IdentityRef.of(IdentityKind.PHONE, "+1 (650) 555-0100"),
            IdentityRef.of(IdentityKind.WHATSAPP, "whatsapp:+447911123456"),
            IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-42"),
            IdentityRef.of(IdentityKind.EXTERNAL, "CRM-0042"),
            IdentityRef.of(IdentityKind.MESSENGER, "7021445431234567"),
            IdentityRef.of(IdentityKind.INSTAGRAM, "6543210987654321"),
        ],
        traits={"name": "Dana", "segment": "premium"},
        verified=True,
    )
    return result.customer.id


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("DANA@example.COM", None),
        ("dana@example.com", "email"),
        ("+1 650-555-0100", None),
        ("+16505550100", "phone"),
        ("whatsapp:+44 7911 123456", "whatsapp"),
        ("+447911123456", None),
        ("visitor-42", None),
        ("visitor-42", "web_visitor"),
        ("user-7", "app_user"),
        ("CRM-0042", None),
        ("CRM-0042", "external"),
    ],
)
async def test_a_customer_is_found_by_each_of_their_identities(
    client: httpx.AsyncClient, db: Database, query: str, kind: str | None
) -> None:
    # given a customer with an identity of every kind, and another customer
    company = await make_company(db)
    dana = await _dana(db, company.tenant)
    await do_identify(db, company.tenant.id, [IdentityRef.of(IdentityKind.EMAIL, "x@example.com")])
    # when an agent searches by one of them, spelled as a person would
    params = {"identity": query, **({"kind": kind} if kind else {})}
    found = await client.get("/v1/customers", params=params, headers=bearer(company.agent_token))
    # then exactly that customer comes back, with all their identities
    assert found.status_code == 200, found.text
    [item] = found.json()["items"]
    assert item["id"] == dana
    assert item["name"] == "Dana"
    assert {i["kind"] for i in item["identities"]} == {k.value for k in IdentityKind}


async def test_search_finds_nobody_for_an_unknown_identity_and_names_a_malformed_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    await _dana(db, company.tenant)
    headers = bearer(company.agent_token)
    nobody = await client.get("/v1/customers", params={"identity": "z@x.org"}, headers=headers)
    assert nobody.json() == {"items": [], "next_cursor": None}
    bad = await client.get(
        "/v1/customers", params={"identity": "not a phone", "kind": "phone"}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["data"]["field"] == "identity"
    bad_kind = await client.get(
        "/v1/customers", params={"identity": "x", "kind": "fax"}, headers=headers
    )
    assert bad_kind.status_code == 422
    assert bad_kind.json()["error"]["data"]["fields"][0]["field"] == "kind"


async def test_customers_are_listed_by_segment_in_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    made = []
    for n in range(3):
        result = await do_identify(
            db,
            company.tenant.id,
            [IdentityRef.of(IdentityKind.EMAIL, f"p{n}@example.com")],
            traits={"segment": "premium"},
        )
        made.append(result.customer.id)
    await do_identify(
        db, company.tenant.id, [IdentityRef.of(IdentityKind.EMAIL, "basic@example.com")]
    )
    headers = bearer(company.agent_token)
    first = await client.get(
        "/v1/customers", params={"segment": "premium", "limit": 2}, headers=headers
    )
    second = await client.get(
        "/v1/customers",
        params={"segment": "premium", "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    ids = [c["id"] for c in first.json()["items"] + second.json()["items"]]
    assert ids == made
    assert second.json()["next_cursor"] is None


async def test_the_profile_shows_identities_cases_and_the_journey_oldest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a customer who browsed, then wrote by email and SMS
    company = await make_company(db)
    dana = await _dana(db, company.tenant)
    start = utcnow() - timedelta(hours=1)
    visitor = IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-42")
    await do_track(
        db,
        company.tenant.id,
        visitor,
        [
            TrackedEvent(
                JourneyEventType.FORM_STARTED, "return_started", Channel.APP, start, {"step": 1}
            )
        ],
    )
    email = await do_ingest_inbound(
        db,
        inbound(
            company.tenant.id, Channel.EMAIL, "dana@example.com", "refund?", at=start + _min(5)
        ),
    )
    await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.SMS, "+16505550100", "hi", at=start + _min(9))
    )
    # when an agent opens the profile
    page = await client.get(f"/v1/customers/{dana}", headers=bearer(company.agent_token))
    # then it has the identities, the one case, and the journey in order
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["segment"] == "premium"
    assert body["merged_into"] is None
    assert {(i["kind"], i["value"]) for i in body["identities"]} >= {
        ("email", "dana@example.com"),
        ("phone", "+16505550100"),
    }
    assert [c["id"] for c in body["cases"]] == [email.case.id]
    assert [(j["type"], j["name"], j["channel"]) for j in body["journey"]] == [
        ("form_started", "return_started", "app"),
        ("message", "email_message", "email"),
        ("message", "sms_message", "sms"),
    ]
    assert body["journey"][0]["properties"] == {"step": 1}
    assert body["merges"] == []


async def test_the_profile_shows_the_newest_hundred_journey_events(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    visitor = IdentityRef.of(IdentityKind.WEB_VISITOR, "busy-visitor")
    start = utcnow() - timedelta(days=1)
    for first in (0, 60):
        events = [
            TrackedEvent(JourneyEventType.PAGE_VIEW, f"page-{n}", Channel.WEB, start + _min(n))
            for n in range(first, first + 60)
        ]
        recorded = await do_track(db, company.tenant.id, visitor, events)
    page = await client.get(
        f"/v1/customers/{recorded[0].customer_id}", headers=bearer(company.agent_token)
    )
    names = [j["name"] for j in page.json()["journey"]]
    assert names == [f"page-{n}" for n in range(20, 120)]


async def test_traits_change_whole_or_not_at_all_and_are_audited(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    dana = await _dana(db, company.tenant)
    headers = bearer(company.agent_token)
    # when an agent renames, re-segments and sets a trait, removing another
    changed = await client.patch(
        f"/v1/customers/{dana}",
        json={"name": "Dana Scully", "segment": "VIP", "traits": {"plan": "gold", "x": None}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Dana Scully"
    assert changed.json()["segment"] == "vip"
    assert changed.json()["traits"] == {"plan": "gold"}
    # then a field left out stays, and null removes
    cleared = await client.patch(f"/v1/customers/{dana}", json={"segment": None}, headers=headers)
    assert cleared.json()["name"] == "Dana Scully"
    assert cleared.json()["segment"] is None
    # and an invalid change changes nothing
    bad = await client.patch(
        f"/v1/customers/{dana}",
        json={"name": "Fox", "traits": {"9 bad key": 1}},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["data"]["field"] == "traits"
    after = await client.get(f"/v1/customers/{dana}", headers=headers)
    assert after.json()["name"] == "Dana Scully"
    audit = await client.get(
        "/v1/audit", params={"subject": dana}, headers=bearer(company.admin_token)
    )
    assert [(e["action"], e["data"]) for e in audit.json()["items"]] == [
        ("customer.updated", {"changed": ["name", "plan", "segment", "x"]}),
        ("customer.updated", {"changed": ["segment"]}),
    ]


async def _two_customers_with_history(db: Database, tenant: Tenant) -> tuple[str, str]:
    """Two records of one person: an email customer and a chat visitor, each with a case."""
    start = utcnow() - timedelta(hours=2)
    by_email = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.EMAIL, "fox@example.com", "where is my card?", at=start)
    )
    await do_identify(
        db,
        tenant.id,
        [
            IdentityRef.of(IdentityKind.EMAIL, "fox@example.com"),
            IdentityRef.of(IdentityKind.PHONE, "+16505550199"),
        ],
        verified=True,
    )
    by_chat = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.CHAT, "visitor-99", "card?", at=start + _min(30))
    )
    await do_identify(
        db,
        tenant.id,
        [
            IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-99"),
            IdentityRef.of(IdentityKind.APP_USER, "fox-app"),
        ],
    )
    await do_track(
        db,
        tenant.id,
        IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-99"),
        [TrackedEvent(JourneyEventType.PAGE_VIEW, "card_status", Channel.WEB, start + _min(31))],
    )
    return by_email.customer.id, by_chat.customer.id


async def _snapshot(db: Database) -> dict[str, Any]:
    """Who owns what: every identity, case, contact, message and journey event, every merge."""
    async with db.engine.connect() as conn:
        snapshot: dict[str, Any] = {}
        for table in (identities, cases, contacts, messages, journey_events):
            rows = await conn.execute(select(table.c.id, table.c.customer_id))
            snapshot[table.name] = {row[0]: row[1] for row in rows}
        rows = await conn.execute(select(customers.c.id, customers.c.merged_into))
        snapshot["customers"] = {row[0]: row[1] for row in rows}
        rows = await conn.execute(select(identities.c.id, identities.c.verified))
        snapshot["verified"] = {row[0]: row[1] for row in rows}
    return snapshot


async def test_merge_then_undo_restores_exactly_the_state_before(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given the same person as two customers, each with history
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    before = await _snapshot(db)
    headers = bearer(company.agent_token)
    # when an agent merges the visitor into the email customer
    merged = await client.post(
        f"/v1/customers/{fox}/merge",
        json={"merged_id": visitor, "reason": "same person, confirmed on the phone"},
        headers=headers,
    )
    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert (merge["survivor_id"], merge["merged_id"]) == (fox, visitor)
    assert merge["actor"].startswith("token:")
    # then the survivor shows both histories, the merged one points at it
    survivor = (await client.get(f"/v1/customers/{fox}", headers=headers)).json()
    assert {i["value"] for i in survivor["identities"]} == {
        "fox@example.com",
        "+16505550199",
        "visitor-99",
        "fox-app",
    }
    assert len(survivor["cases"]) == 2
    assert [j["name"] for j in survivor["journey"]] == [
        "email_message",
        "chat_message",
        "card_status",
    ]
    assert [m["id"] for m in survivor["merges"]] == [merge["id"]]
    gone = (await client.get(f"/v1/customers/{visitor}", headers=headers)).json()
    assert gone["merged_into"] == fox
    assert gone["identities"] == []
    assert [m["id"] for m in gone["merges"]] == [merge["id"]]
    listed = await client.get("/v1/customers", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [fox]
    # and history never moved: only identities and merged_into changed
    during = await _snapshot(db)
    for table in ("cases", "contacts", "messages", "journey_events"):
        assert during[table] == before[table]
    # when the merge is undone
    undone = await client.post(f"/v1/customers/merges/{merge['id']}/undo", headers=headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    # then everything is exactly as it was
    after = await _snapshot(db)
    assert after == before
    # and it cannot be undone twice
    again = await client.post(f"/v1/customers/merges/{merge['id']}/undo", headers=headers)
    assert again.status_code == 409


async def test_identities_gained_after_a_merge_stay_with_the_survivor_on_undo(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    headers = bearer(company.agent_token)
    merge = await client.post(
        f"/v1/customers/{fox}/merge", json={"merged_id": visitor}, headers=headers
    )
    # a new number, learnt while merged, belongs to the survivor
    await do_identify(
        db,
        company.tenant.id,
        [
            IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-99"),
            IdentityRef.of(IdentityKind.PHONE, "+16505550177"),
        ],
    )
    await client.post(f"/v1/customers/merges/{merge.json()['id']}/undo", headers=headers)
    survivor = (await client.get(f"/v1/customers/{fox}", headers=headers)).json()
    restored = (await client.get(f"/v1/customers/{visitor}", headers=headers)).json()
    assert "+16505550177" in {i["value"] for i in survivor["identities"]}
    assert {i["value"] for i in restored["identities"]} == {"visitor-99", "fox-app"}
    assert restored["merged_into"] is None


async def test_merge_and_undo_are_audited_and_published(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    headers = bearer(company.agent_token)
    merge = (
        await client.post(
            f"/v1/customers/{fox}/merge",
            json={"merged_id": visitor, "reason": "card 4111 1111 1111 1111 on both"},
            headers=headers,
        )
    ).json()
    await client.post(f"/v1/customers/merges/{merge['id']}/undo", headers=headers)
    audit = await client.get(
        "/v1/audit", params={"subject": visitor}, headers=bearer(company.admin_token)
    )
    entries = audit.json()["items"]
    assert [e["action"] for e in entries] == ["customer.merged", "customer.unmerged"]
    assert {e["actor"] for e in entries} == {merge["actor"]}
    assert entries[0]["data"]["merge_id"] == merge["id"]
    assert entries[0]["data"]["survivor_id"] == fox
    assert entries[0]["data"]["reason"] == "card **** **** **** 1111 on both"
    assert sorted(entries[0]["data"]["moved_identity_ids"]) == sorted(merge["moved_identity_ids"])
    async with db.uow(write=False) as uow:
        events = await uow.events.after(company.tenant.id, 0, limit=1000)
    published = [(e.type, e.payload["merge_id"]) for e in events if "merge_id" in e.payload]
    assert published == [("customer.merged", merge["id"]), ("customer.unmerged", merge["id"])]


async def test_another_tenants_customers_and_merges_are_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given two companies with customers
    ours = await make_company(db)
    theirs = await make_company(db)
    mine, _also_mine = await _two_customers_with_history(db, ours.tenant)
    their_fox, their_visitor = await _two_customers_with_history(db, theirs.tenant)
    their_merge = await client.post(
        f"/v1/customers/{their_fox}/merge",
        json={"merged_id": their_visitor},
        headers=bearer(theirs.agent_token),
    )
    before = await _snapshot(db)
    headers = bearer(ours.agent_token)
    # when we try to read, merge, change or undo what is theirs
    attempts = [
        await client.get(f"/v1/customers/{their_fox}", headers=headers),
        await client.post(
            f"/v1/customers/{mine}/merge", json={"merged_id": their_fox}, headers=headers
        ),
        await client.post(
            f"/v1/customers/{their_fox}/merge", json={"merged_id": mine}, headers=headers
        ),
        await client.patch(f"/v1/customers/{their_fox}", json={"name": "x"}, headers=headers),
        await client.post(f"/v1/customers/merges/{their_merge.json()['id']}/undo", headers=headers),
    ]
    # then each is not found, and nothing changed
    assert [r.status_code for r in attempts] == [404] * 5
    assert {r.json()["error"]["code"] for r in attempts} == {"not_found"}
    assert await _snapshot(db) == before
    search = await client.get(
        "/v1/customers", params={"identity": "fox@example.com"}, headers=headers
    )
    assert [c["id"] for c in search.json()["items"]] == [mine]


async def test_merges_that_would_chain_or_loop_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    other = (
        await do_identify(
            db, company.tenant.id, [IdentityRef.of(IdentityKind.EMAIL, "o@example.com")]
        )
    ).customer.id
    headers = bearer(company.agent_token)

    async def merge(survivor: str, merged: str) -> httpx.Response:
        return await client.post(
            f"/v1/customers/{survivor}/merge", json={"merged_id": merged}, headers=headers
        )

    assert (await merge(fox, fox)).status_code == 409
    assert (await merge(fox, visitor)).status_code == 201
    # into a merged-away customer, the merged-away one again, a survivor into another
    for survivor, merged in ((visitor, other), (other, visitor), (other, fox)):
        response = await merge(survivor, merged)
        assert response.status_code == 409, (survivor, merged, response.text)
    # a merged-away customer's traits are changed on the survivor
    patched = await client.patch(f"/v1/customers/{visitor}", json={"name": "x"}, headers=headers)
    assert patched.status_code == 409
    assert patched.json()["error"]["data"]["merged_into"] == fox
    assert (await merge(fox, "cus_nope")).status_code == 404


async def test_two_agents_merging_the_same_pair_both_ways_at_once_leave_one_merge(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    headers = bearer(company.agent_token)
    responses = await asyncio.gather(
        client.post(f"/v1/customers/{fox}/merge", json={"merged_id": visitor}, headers=headers),
        client.post(f"/v1/customers/{visitor}/merge", json={"merged_id": fox}, headers=headers),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    state = await _snapshot(db)
    assert sorted(v for v in state["customers"].values() if v) in ([fox], [visitor])


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
async def test_every_role_may_read_change_and_merge_customers(
    client: httpx.AsyncClient, db: Database, role: str
) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    headers = bearer(_token(company, role))
    assert (await client.get("/v1/customers", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/customers/{fox}", headers=headers)).status_code == 200
    patch = await client.patch(f"/v1/customers/{fox}", json={"name": "Fox"}, headers=headers)
    assert patch.status_code == 200
    merged = await client.post(
        f"/v1/customers/{fox}/merge", json={"merged_id": visitor}, headers=headers
    )
    assert merged.status_code == 201
    undo = await client.post(f"/v1/customers/merges/{merged.json()['id']}/undo", headers=headers)
    assert undo.status_code == 200


async def test_customers_need_credentials(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    fox, visitor = await _two_customers_with_history(db, company.tenant)
    responses = [
        await client.get("/v1/customers"),
        await client.get(f"/v1/customers/{fox}"),
        await client.post(f"/v1/customers/{fox}/merge", json={"merged_id": visitor}),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401]
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(customer_merges.c.id))).first() is None


async def test_merge_bodies_are_validated(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    fox, _visitor = await _two_customers_with_history(db, company.tenant)
    headers = bearer(company.agent_token)
    for body, field in (
        ({}, "merged_id"),
        ({"merged_id": "x", "reason": "r" * 501}, "reason"),
        ({"merged_id": "x", "surprise": 1}, "surprise"),
    ):
        response = await client.post(f"/v1/customers/{fox}/merge", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["data"]["fields"][0]["field"] == field


def _token(company: Company, role: str) -> str:
    return {
        "agent": company.agent_token,
        "supervisor": company.supervisor_token,
        "admin": company.admin_token,
    }[role]


def _min(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
