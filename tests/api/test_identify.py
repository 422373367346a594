"""The public identify and track endpoints: public key or API token, verified by hash or not."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.storage import Database
from carepath.storage.tables import audit_log, customers, events, identities, journey_events
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound

CARD = "4111 1111 1111 1111"


def site(tenant: Tenant) -> dict[str, str]:
    return {"X-Carepath-Key": tenant.public_key}


def signed(tenant: Tenant, user_id: str) -> str:
    """What the tenant's backend puts in the page for the signed-in user."""
    return hmac.new(tenant.identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (customers, identities, journey_events, events, audit_log)
        }


async def _profile(client: httpx.AsyncClient, company: Company, customer_id: str) -> Any:
    response = await client.get(f"/v1/customers/{customer_id}", headers=bearer(company.agent_token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_browser_with_a_valid_hash_links_the_user_and_their_identities(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a signed-in user on the company's site
    company = await make_company(db)
    tenant = company.tenant
    body = {
        "user_id": "user-7",
        "hash": signed(tenant, "user-7"),
        "visitor_id": "v-1",
        "email": "Dana@Example.com",
        "phone": "+1 650 555 0100",
        "name": "Dana",
        "traits": {"plan": "gold"},
    }
    # when the page identifies them with the public key
    response = await client.post("/v1/identify", json=body, headers=site(tenant))
    # then they are one verified customer with all four identities
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["verified"] is True
    assert result["linked"] is None  # a browser is not told what exists
    assert result["conflicts"] is None
    assert result["ignored"] == []
    profile = await _profile(client, company, result["customer_id"])
    assert profile["name"] == "Dana"
    assert profile["traits"] == {"plan": "gold"}
    assert {(i["kind"], i["value"], i["verified"]) for i in profile["identities"]} == {
        ("app_user", "user-7", True),
        ("web_visitor", "v-1", False),
        ("email", "dana@example.com", False),
        ("phone", "+16505550100", False),
    }
    # and the same user on another device is the same customer
    again = await client.post(
        "/v1/identify",
        json={"user_id": "user-7", "hash": signed(tenant, "user-7"), "visitor_id": "v-2"},
        headers=site(tenant),
    )
    assert again.json()["customer_id"] == result["customer_id"]


async def test_a_wrong_hash_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    other = await make_company(db)
    before = await _counts(db)
    for wrong in (signed(company.tenant, "someone-else"), signed(other.tenant, "user-7")):
        response = await client.post(
            "/v1/identify",
            json={"user_id": "user-7", "hash": wrong, "visitor_id": "v-1", "email": "a@b.co"},
            headers=site(company.tenant),
        )
        assert response.status_code == 401
        assert response.json()["error"]["data"]["reason"] == "invalid_hash"
    assert await _counts(db) == before


async def test_verification_required_refuses_unproven_claims_but_not_anonymous_visitors(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a company that requires identity verification
    company = await make_company(db)
    async with db.uow() as uow:
        tenant = await uow.tenants.get(company.tenant.id)
        assert tenant is not None
        tenant.verification_required = True
    before = await _counts(db)
    # when a browser claims a user, an email or a phone without a hash
    for claim in ({"user_id": "user-7"}, {"email": "a@b.co"}, {"phone": "+16505550100"}):
        response = await client.post(
            "/v1/identify", json={"visitor_id": "v-1", **claim}, headers=site(company.tenant)
        )
        # then it is refused, and nothing is stored
        assert response.status_code == 401, claim
        assert response.json()["error"]["data"]["reason"] == "verification_required"
    assert await _counts(db) == before
    # but an anonymous visitor is still welcome, and a signed user too
    anonymous = await client.post(
        "/v1/identify", json={"visitor_id": "v-1"}, headers=site(company.tenant)
    )
    assert anonymous.status_code == 200
    assert anonymous.json()["verified"] is False
    proven = await client.post(
        "/v1/identify",
        json={"user_id": "user-7", "hash": signed(company.tenant, "user-7")},
        headers=site(company.tenant),
    )
    assert proven.status_code == 200
    assert proven.json()["verified"] is True


async def test_an_unverified_visitor_claiming_a_known_email_never_joins_that_customer(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a known customer with an open case, reached by email
    company = await make_company(db)
    tenant = company.tenant
    known = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.EMAIL, "dana@example.com", "my card is blocked")
    )
    # when an anonymous visitor says they are dana@example.com (and user-7, and her phone)
    response = await client.post(
        "/v1/identify",
        json={
            "visitor_id": "v-evil",
            "email": "dana@example.com",
            "user_id": "user-7",
            "phone": "+16505550100",
            "name": "Dana",
        },
        headers=site(tenant),
    )
    # then the visitor is its own customer, with only its visitor id
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customer_id"] != known.customer.id
    assert result["verified"] is False
    assert result["ignored"] == ["user_id", "email", "phone"]
    visitor = await _profile(client, company, result["customer_id"])
    assert [(i["kind"], i["value"]) for i in visitor["identities"]] == [("web_visitor", "v-evil")]
    assert visitor["cases"] == []
    # and the known customer is untouched
    dana = await _profile(client, company, known.customer.id)
    assert [(i["kind"], i["value"]) for i in dana["identities"]] == [("email", "dana@example.com")]
    assert dana["name"] is None
    # and the visitor's chat opens its own case, not Dana's
    chat = await do_ingest_inbound(db, inbound(tenant.id, Channel.CHAT, "v-evil", "show me"))
    assert chat.customer.id == result["customer_id"]
    assert chat.case.id != known.case.id


async def test_a_signed_user_claiming_someone_elses_email_gets_their_own_customer(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a known customer reached by email
    company = await make_company(db)
    tenant = company.tenant
    known = await do_ingest_inbound(db, inbound(tenant.id, Channel.EMAIL, "dana@example.com"))
    # when a real, signed-in user of the site claims Dana's email as theirs
    response = await client.post(
        "/v1/identify",
        json={"user_id": "mallory", "hash": signed(tenant, "mallory"), "email": "dana@example.com"},
        headers=site(tenant),
    )
    # then the email does not lead to Dana, nor move to the new user
    assert response.status_code == 200
    assert response.json()["customer_id"] != known.customer.id
    mallory = await _profile(client, company, response.json()["customer_id"])
    assert [(i["kind"], i["value"]) for i in mallory["identities"]] == [("app_user", "mallory")]
    dana = await _profile(client, company, known.customer.id)
    assert [i["value"] for i in dana["identities"]] == ["dana@example.com"]


async def test_signing_in_adopts_the_anonymous_visitor_but_not_another_users_visitor(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    tenant = company.tenant
    # given a visitor who browsed anonymously
    tracked = await client.post(
        "/v1/track",
        json={"visitor_id": "v-1", "events": [{"type": "page_view", "name": "pricing"}]},
        headers=site(tenant),
    )
    anonymous = (
        await client.post("/v1/identify", json={"visitor_id": "v-1"}, headers=site(tenant))
    ).json()["customer_id"]
    # when they sign in on that browser
    first = await client.post(
        "/v1/identify",
        json={"user_id": "ann", "hash": signed(tenant, "ann"), "visitor_id": "v-1"},
        headers=site(tenant),
    )
    # then their browsing is theirs
    assert first.json()["customer_id"] == anonymous
    ann = await _profile(client, company, anonymous)
    assert [j["id"] for j in ann["journey"]] == tracked.json()["ids"]
    # but another user signing in on the same browser does not get Ann's history
    second = await client.post(
        "/v1/identify",
        json={"user_id": "bob", "hash": signed(tenant, "bob"), "visitor_id": "v-1"},
        headers=site(tenant),
    )
    assert second.json()["customer_id"] != anonymous
    bob = await _profile(client, company, second.json()["customer_id"])
    assert bob["journey"] == []
    assert [i["value"] for i in bob["identities"]] == ["bob"]


async def test_a_backend_token_is_trusted_and_told_about_conflicts(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given customers known by email and by phone
    company = await make_company(db)
    tenant = company.tenant
    by_email = await do_ingest_inbound(db, inbound(tenant.id, Channel.EMAIL, "dana@example.com"))
    by_sms = await do_ingest_inbound(db, inbound(tenant.id, Channel.SMS, "+16505550100"))
    # when the company's backend identifies its user with both
    response = await client.post(
        "/v1/identify",
        json={
            "user_id": "user-7",
            "email": "dana@example.com",
            "phone": "+16505550100",
            "segment": "premium",
        },
        headers=bearer(company.agent_token),
    )
    # then the user joins the email customer, verified, and the phone is reported, not moved
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customer_id"] == by_email.customer.id
    assert result["verified"] is True
    assert result["linked"] == [{"kind": "app_user", "value": "user-7"}]
    assert result["conflicts"] == [{"kind": "phone", "value": "+16505550100"}]
    dana = await _profile(client, company, by_email.customer.id)
    assert dana["segment"] == "premium"
    assert {(i["value"], i["verified"]) for i in dana["identities"]} == {
        ("user-7", True),
        ("dana@example.com", True),
    }
    phone_owner = await _profile(client, company, by_sms.customer.id)
    assert [i["value"] for i in phone_owner["identities"]] == ["+16505550100"]


async def test_a_browser_may_not_set_the_segment(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    before = await _counts(db)
    response = await client.post(
        "/v1/identify",
        json={
            "user_id": "u",
            "hash": signed(company.tenant, "u"),
            "visitor_id": "v",
            "segment": "vip",
        },
        headers=site(company.tenant),
    )
    assert response.status_code == 403
    assert response.json()["error"]["data"]["field"] == "segment"
    assert await _counts(db) == before


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "none"),
        ({"X-Carepath-Key": "pk_unknown"}, "unknown"),
        ({"X-Carepath-Key": "pk_" + "x" * 500}, "long"),
    ],
)
async def test_identify_and_track_need_a_known_key_or_a_token(
    client: httpx.AsyncClient, db: Database, headers: dict[str, str], reason: str
) -> None:
    await make_company(db)
    before = await _counts(db)
    identify = await client.post("/v1/identify", json={"visitor_id": "v"}, headers=headers)
    track = await client.post(
        "/v1/track",
        json={"visitor_id": "v", "events": [{"type": "page_view", "name": "home"}]},
        headers=headers,
    )
    assert (identify.status_code, track.status_code) == (401, 401), reason
    assert await _counts(db) == before


async def test_a_key_and_a_token_together_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    response = await client.post(
        "/v1/identify",
        json={"visitor_id": "v"},
        headers={**site(company.tenant), **bearer(company.agent_token)},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"visitor_id": "v", "email": "not-an-email"}, "email"),
        ({"visitor_id": "v", "phone": "12"}, "phone"),
        ({"user_id": "u", "hash": "abc"}, "hash"),
        ({"hash": "a" * 64, "visitor_id": "v"}, "user_id"),
        ({"visitor_id": "v", "traits": []}, "traits"),
        ({"visitor_id": "v", "name": 7}, "name"),
        ({"visitor_id": "v", "surprise": 1}, "surprise"),
        ({"visitor_id": ""}, "visitor_id"),
        ({"email": "a@b.co"}, "visitor_id"),
    ],
)
async def test_malformed_identify_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any], field: str
) -> None:
    company = await make_company(db)
    before = await _counts(db)
    response = await client.post("/v1/identify", json=body, headers=site(company.tenant))
    assert response.status_code == 422, response.text
    data = response.json()["error"]["data"]
    assert data.get("field") == field or field in {f["field"] for f in data.get("fields", [])}
    assert await _counts(db) == before


async def test_track_stores_events_in_order_with_card_numbers_masked(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a visitor on the company's site
    company = await make_company(db)
    start = utcnow() - timedelta(minutes=10)
    sent = [
        {"type": "page_view", "name": "returns", "occurred_at": start.isoformat()},
        {
            "type": "form_started",
            "name": "return_started",
            "channel": "app",
            "occurred_at": (start + timedelta(minutes=1)).isoformat(),
            "properties": {"order": "A-1", "note": f"paid with {CARD}", "tries": [CARD]},
        },
        {"type": "form_abandoned", "name": "return_form"},
    ]
    # when the site tracks a batch
    response = await client.post(
        "/v1/track", json={"visitor_id": "v-1", "events": sent}, headers=site(company.tenant)
    )
    # then it is accepted, stored in order and masked
    assert response.status_code == 202, response.text
    ids = response.json()["ids"]
    assert response.json()["accepted"] == 3
    found = await client.get(
        "/v1/customers", params={"identity": "v-1"}, headers=bearer(company.agent_token)
    )
    [customer] = found.json()["items"]
    journey = (await _profile(client, company, customer["id"]))["journey"]
    assert [j["id"] for j in journey] == ids
    assert [(j["type"], j["name"], j["channel"]) for j in journey] == [
        ("page_view", "returns", "web"),
        ("form_started", "return_started", "app"),
        ("form_abandoned", "return_form", "web"),
    ]
    assert journey[1]["properties"] == {
        "order": "A-1",
        "note": "paid with **** **** **** 1111",
        "tries": ["**** **** **** 1111"],
    }
    assert CARD not in found.text + str(journey)


async def test_a_signed_user_tracks_by_user_id_and_an_unsigned_one_cannot(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    tenant = company.tenant
    event = [{"type": "app_step", "name": "checkout", "channel": "app"}]
    unsigned = await client.post(
        "/v1/track", json={"user_id": "ann", "events": event}, headers=site(tenant)
    )
    assert unsigned.status_code == 401
    wrong = await client.post(
        "/v1/track",
        json={"user_id": "ann", "hash": signed(tenant, "bob"), "events": event},
        headers=site(tenant),
    )
    assert wrong.status_code == 401
    proven = await client.post(
        "/v1/track",
        json={"user_id": "ann", "hash": signed(tenant, "ann"), "events": event},
        headers=site(tenant),
    )
    assert proven.status_code == 202
    backend = await client.post(
        "/v1/track", json={"user_id": "ann", "events": event}, headers=bearer(company.agent_token)
    )
    assert backend.status_code == 202
    found = await client.get(
        "/v1/customers",
        params={"identity": "ann", "kind": "app_user"},
        headers=bearer(company.agent_token),
    )
    [ann] = found.json()["items"]
    journey = (await _profile(client, company, ann["id"]))["journey"]
    assert [j["id"] for j in journey] == proven.json()["ids"] + backend.json()["ids"]


def _events(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "page_view", "name": f"p{i}", **extra} for i in range(n)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"visitor_id": "v", "events": _events(101)}, "events"),
        ({"visitor_id": "v", "events": []}, "events"),
        ({"visitor_id": "v"}, "events"),
        ({"visitor_id": "v", "events": [{"type": "message", "name": "x"}]}, "events.0.type"),
        ({"visitor_id": "v", "events": [{"type": "nope", "name": "x"}]}, "events.0.type"),
        ({"visitor_id": "v", "events": [{"type": "page_view"}]}, "events.0.name"),
        ({"visitor_id": "v", "events": _events(1, channel="fax")}, "events.0.channel"),
        (
            {"visitor_id": "v", "events": _events(1, occurred_at="2024-05-01T09:30:00")},
            "events.0.occurred_at",
        ),
        ({"visitor_id": "v", "events": _events(1, properties=[1])}, "events.0.properties"),
        (
            {"visitor_id": "v", "events": _events(1, properties={"x": "y" * 9000})},
            "properties",
        ),
        ({"visitor_id": "v", "user_id": "u", "events": _events(1)}, "visitor_id"),
        ({"events": _events(1)}, "visitor_id"),
    ],
)
async def test_malformed_track_batches_are_422_naming_the_field_and_store_nothing(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any], field: str
) -> None:
    company = await make_company(db)
    before = await _counts(db)
    response = await client.post("/v1/track", json=body, headers=site(company.tenant))
    assert response.status_code == 422, response.text
    data = response.json()["error"]["data"]
    assert data.get("field") == field or field in {f["field"] for f in data.get("fields", [])}
    assert await _counts(db) == before


async def test_a_batch_with_one_bad_event_stores_none_of_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    before = await _counts(db)
    batch = [*_events(5), {"type": "page_view", "name": "\x00bad"}]
    response = await client.post(
        "/v1/track", json={"visitor_id": "v", "events": batch}, headers=site(company.tenant)
    )
    assert response.status_code == 422
    assert await _counts(db) == before


async def test_a_browser_on_another_site_may_call_with_the_public_key_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    origin = {"Origin": "https://shop.example.com"}
    preflight = await client.options(
        "/v1/identify",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-carepath-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    with_token = await client.options(
        "/v1/track",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert with_token.status_code == 400
    call = await client.post(
        "/v1/identify", json={"visitor_id": "v"}, headers={**origin, **site(company.tenant)}
    )
    assert call.headers["access-control-allow-origin"] == "*"
    refused = await client.post("/v1/identify", json={"visitor_id": "v"}, headers=origin)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"
    other_api = await client.get("/v1/customers", headers={**origin, **bearer(company.agent_token)})
    assert "access-control-allow-origin" not in other_api.headers
