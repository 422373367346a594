"""Webhooks through the API: registering endpoints, signed deliveries, retries, access."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from carepath import __version__
from carepath.delivery.registry import build_handlers, http_client
from carepath.domain import Tenant
from carepath.domain.events import Event
from carepath.domain.webhooks import verify_webhook
from carepath.settings import Settings
from carepath.storage import Database
from carepath.web import create_app
from carepath.worker import OutboxWorker
from tests.factories import Company, bearer, make_company
from tests.receiver import Receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app without its own worker: these tests run the worker themselves, when they mean to."""
    return settings.model_copy(update={"run_worker": False})


@pytest.fixture
async def run_worker(db: Database, settings: Settings) -> AsyncIterator[OutboxWorker]:
    async with http_client() as http:
        yield OutboxWorker(db, build_handlers(settings, http), name="api-test-worker")


async def emit(db: Database, tenant: Tenant, type_: str = "case.updated") -> Event:
    # Straight to the event log: the case actions that will emit these are written elsewhere.
    async with db.uow() as uow:
        return await uow.events.append(
            tenant.id, type_, {"case_id": "case_123", "status": "pending", "subject": "Où est-il?"}
        )


async def register(
    client: httpx.AsyncClient, company: Company, url: str, event_types: list[str] | None = None
) -> dict[str, object]:
    response = await client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": event_types or ["*"]},
        headers=bearer(company.admin_token),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_registered_endpoint_receives_signed_events_it_subscribed_to(
    client: httpx.AsyncClient, db: Database, run_worker: OutboxWorker
) -> None:
    # given an endpoint subscribed to case updates
    company = await make_company(db)
    async with Receiver() as receiver:
        endpoint = await register(client, company, receiver.url, ["case.updated"])
        secret = str(endpoint["secret"])
        assert secret.startswith("whsec_")
        assert endpoint["active"] is True
        # when a case is updated (and another kind of event happens)
        await emit(db, company.tenant, "case.created")
        event = await emit(db, company.tenant, "case.updated")
        assert await run_worker.run_once() == 1
    # then the receiver got that one event, as JSON, with its id, type and a valid signature
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"carepath/{__version__}"
    assert request.headers["x-carepath-event-id"] == str(event.seq)
    assert request.headers["x-carepath-event-type"] == "case.updated"
    assert json.loads(request.body) == {
        "id": event.seq,
        "type": "case.updated",
        "at": event.created_at.isoformat(),
        "data": {"case_id": "case_123", "status": "pending", "subject": "Où est-il?"},
        "tenant_id": company.tenant.id,
    }
    signature = request.headers["x-carepath-signature"]
    assert verify_webhook(secret, signature, request.body, now=int(time.time()))
    # and a tampered body, another secret or a stale signature fails verification
    tampered = request.body.replace(b"pending", b"solved!")
    assert not verify_webhook(secret, signature, tampered, now=int(time.time()))
    assert not verify_webhook("whsec_other", signature, request.body, now=int(time.time()))
    assert not verify_webhook(secret, signature, request.body, now=int(time.time()) + 3600)
    # and the delivery is listed as done
    deliveries = await client.get(
        f"/v1/webhooks/{endpoint['id']}/deliveries", headers=bearer(company.admin_token)
    )
    assert deliveries.status_code == 200
    [delivery] = deliveries.json()["items"]
    assert delivery["event_id"] == event.seq
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("done", 1, None)


async def test_a_failed_delivery_shows_why_and_can_be_retried(
    client: httpx.AsyncClient, db: Database, run_worker: OutboxWorker
) -> None:
    # given a delivery the receiver refused for good
    company = await make_company(db)
    headers = bearer(company.admin_token)
    async with Receiver([410], reply=b"gone for maintenance") as receiver:
        endpoint = await register(client, company, receiver.url)
        await emit(db, company.tenant)
        assert await run_worker.run_once() == 1
        dead = await client.get(
            f"/v1/webhooks/{endpoint['id']}/deliveries?status=dead", headers=headers
        )
        [delivery] = dead.json()["items"]
        assert delivery["status"] == "dead"
        assert delivery["next_attempt_at"] is None
        assert "HTTP 410" in delivery["last_error"]
        assert "gone for maintenance" in delivery["last_error"]
        # when the admin retries it once the receiver is fixed
        retried = await client.post(
            f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry", headers=headers
        )
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
        assert await run_worker.run_once() == 1
    # then it is delivered, and the retry is in the audit trail
    assert receiver.answered == [410, 200]
    done = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=headers)
    assert [d["status"] for d in done.json()["items"]] == ["done"]
    again = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry", headers=headers
    )
    assert again.status_code == 409
    audit = await client.get("/v1/audit", headers=headers)
    assert {"webhook.created", "outbox.retried"} <= {e["action"] for e in audit.json()["items"]}


async def test_endpoints_are_listed_read_and_deleted(
    client: httpx.AsyncClient, db: Database, run_worker: OutboxWorker
) -> None:
    # given an endpoint with a delivery queued
    company = await make_company(db)
    headers = bearer(company.admin_token)
    async with Receiver() as receiver:
        endpoint = await register(client, company, receiver.url)
        await emit(db, company.tenant)
        # the list shows it without its secret, reading it shows the secret
        listed = await client.get("/v1/webhooks", headers=headers)
        assert [w["id"] for w in listed.json()["items"]] == [endpoint["id"]]
        assert "secret" not in listed.json()["items"][0]
        read = await client.get(f"/v1/webhooks/{endpoint['id']}", headers=headers)
        assert read.json()["secret"] == endpoint["secret"]
        # when it is deleted
        deleted = await client.delete(f"/v1/webhooks/{endpoint['id']}", headers=headers)
        assert deleted.status_code == 200
        assert deleted.json()["active"] is False
        await emit(db, company.tenant)
        assert await run_worker.run_once() == 1
    # then nothing is sent: the queued delivery is dead with the reason, and no new one was queued
    assert receiver.requests == []
    deliveries = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=headers)
    [delivery] = deliveries.json()["items"]
    assert delivery["status"] == "dead"
    assert delivery["last_error"] == "not sent: the webhook endpoint was deleted"
    retried = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry", headers=headers
    )
    assert retried.status_code == 409


async def test_another_tenants_endpoints_and_deliveries_are_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given an endpoint of one company, with a delivery
    ours, theirs = await make_company(db), await make_company(db)
    endpoint = await register(client, theirs, "https://example.com/hook")
    await emit(db, theirs.tenant)
    their_deliveries = await client.get(
        f"/v1/webhooks/{endpoint['id']}/deliveries", headers=bearer(theirs.admin_token)
    )
    [delivery] = their_deliveries.json()["items"]
    headers = bearer(ours.admin_token)
    # when the other company's admin reaches for them, then they do not exist
    base = f"/v1/webhooks/{endpoint['id']}"
    for method, path in [
        ("GET", base),
        ("DELETE", base),
        ("GET", f"{base}/deliveries"),
        ("POST", f"{base}/deliveries/{delivery['id']}/retry"),
    ]:
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert (await client.get("/v1/webhooks", headers=headers)).json()["items"] == []
    # and the endpoint is untouched
    read = await client.get(base, headers=bearer(theirs.admin_token))
    assert read.json()["active"] is True


async def test_only_admins_manage_webhooks(client: httpx.AsyncClient, db: Database) -> None:
    # given an endpoint
    company = await make_company(db)
    endpoint = await register(client, company, "https://example.com/hook")
    # when an agent or a supervisor tries anything, then they are refused
    for token in (company.agent_token, company.supervisor_token):
        for method, path in [
            ("GET", "/v1/webhooks"),
            ("POST", "/v1/webhooks"),
            ("GET", f"/v1/webhooks/{endpoint['id']}"),
            ("DELETE", f"/v1/webhooks/{endpoint['id']}"),
            ("GET", f"/v1/webhooks/{endpoint['id']}/deliveries"),
        ]:
            body = {"url": "https://evil.example.com/", "event_types": ["*"]}
            response = await client.request(
                method, path, headers=bearer(token), json=body if method == "POST" else None
            )
            assert response.status_code == 403, (method, path)
            assert response.json()["error"]["data"]["required_role"] == "admin"
    # and nothing changed
    listed = await client.get("/v1/webhooks", headers=bearer(company.admin_token))
    assert [(w["id"], w["active"]) for w in listed.json()["items"]] == [(endpoint["id"], True)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "event_types": ["*"]}, "url"),
        ({"url": "/relative", "event_types": ["*"]}, "url"),
        ({"url": "https://example.com/", "event_types": []}, "event_types"),
        ({"url": "https://example.com/", "event_types": ["case.updatd"]}, "event_types"),
        ({"url": "https://example.com/", "event_types": ["*"], "secret": "mine"}, "secret"),
    ],
)
async def test_a_bad_endpoint_is_refused_naming_the_field(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], field: str
) -> None:
    company = await make_company(db)
    response = await client.post("/v1/webhooks", json=body, headers=bearer(company.admin_token))
    assert response.status_code == 422
    assert field in response.text


async def test_the_server_delivers_by_itself(db: Database, settings: Settings) -> None:
    # given a server running its own worker, and an endpoint
    company = await make_company(db)
    app = create_app(settings.model_copy(update={"run_worker": True}))
    async with Receiver() as receiver, LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            await register(client, company, receiver.url)
            # when an event happens
            event = await emit(db, company.tenant)
            # then it arrives without anyone running the worker by hand
            [request] = await receiver.wait_for(1, within_s=10)
    assert request.headers["x-carepath-event-id"] == str(event.seq)
