"""Every route with an id in its path, walked from the OpenAPI document: another tenant's ids are
not found, and nothing of theirs changes. A new route with a new kind of id fails this test
until the table below learns how to make that object."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.articles import do_create_article
from carepath.actions.callbacks import do_request_callback
from carepath.actions.channels import do_create_channel_account
from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.merges import do_merge_customers
from carepath.actions.webhooks import do_create_webhook
from carepath.actions.work import enqueue_case
from carepath.domain.attachments import Attachment
from carepath.domain.callbacks import CallbackSource
from carepath.domain.contacts import Channel
from carepath.domain.outbox import OutboxItem
from carepath.secretbox import SecretBox
from carepath.storage import Database
from carepath.storage.files import AttachmentStore
from carepath.types import Role
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, make_company, make_user, system
from tests.inbound import inbound

# A body that passes validation for each route that needs one, so the answer is about the id.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/v1/users/{user_id}"): {"display_name": "Renamed"},
    ("PATCH", "/v1/cases/{case_id}"): {"priority": "urgent"},
    ("POST", "/v1/cases/{case_id}/replies"): {"text": "hello"},
    ("POST", "/v1/cases/{case_id}/notes"): {"text": "hello"},
    ("POST", "/v1/cases/{case_id}/assign"): {"assignee_id": None},
    ("PATCH", "/v1/customers/{customer_id}"): {"name": "Renamed"},
    ("POST", "/v1/customers/{customer_id}/merge"): {"merged_id": "{other_customer_id}"},
    ("PATCH", "/v1/channels/{account_id}"): {"active": False},
    ("PUT", "/v1/agents/{user_id}/profile"): {"skills": {"general": 3}},
    ("PATCH", "/v1/articles/{article_id}"): {"title": "Renamed"},
}


async def their_objects(
    db: Database, theirs: Company, files: AttachmentStore | None = None
) -> dict[str, str]:
    """One object of every kind a path can name, all in the other tenant. With `files`, their
    first message's attachment is on disk there too, so only the tenant check can refuse it."""
    user = await make_user(db, theirs.tenant, Role.AGENT)
    content = b"their attachment"
    sha256 = files.put(content) if files else hashlib.sha256(content).hexdigest()
    receipt = Attachment("receipt.pdf", "application/pdf", len(content), sha256, stored=True)
    first = await do_ingest_inbound(
        db, inbound(theirs.tenant.id, Channel.SMS, "+16505550170", attachments=(receipt,))
    )
    second = await do_ingest_inbound(db, inbound(theirs.tenant.id, Channel.SMS, "+16505550171"))
    third = await do_ingest_inbound(db, inbound(theirs.tenant.id, Channel.SMS, "+16505550172"))
    merge = await do_merge_customers(
        db, system(theirs.tenant), second.customer.id, third.customer.id, reason="duplicate"
    )
    webhook = await do_create_webhook(
        db, system(theirs.tenant), url="https://hooks.example.com/x", event_types=["*"]
    )
    async with db.uow() as uow:
        delivery = OutboxItem(
            tenant_id=theirs.tenant.id,
            kind="webhook",
            payload={"endpoint_id": webhook.id, "seq": 1},
        )
        uow.outbox.add(delivery)
        token_id = (await uow.api_tokens.list(theirs.tenant.id, limit=1, cursor=None)).items[0].id
        their_case = await uow.cases.get(theirs.tenant.id, first.case.id)
        assert their_case is not None
        work = await enqueue_case(uow, their_case)
    callback = await do_request_callback(
        db,
        theirs.tenant.id,
        first.customer.id,
        phone="+16505550170",
        when=None,
        source=CallbackSource.AGENT,
        channel=Channel.SMS,
        case_id=first.case.id,
    )
    account = await do_create_channel_account(
        db,
        system(theirs.tenant),
        SecretBox(TEST_SECRET),
        channel=Channel.EMAIL,
        name="support",
        address=f"support@{theirs.tenant.slug}.example.com",
    )
    article = await do_create_article(
        db, system(theirs.tenant), {"title": "Refunds", "body": "Five days."}
    )
    return {
        "account_id": account.id,
        "article_id": article.id,
        "user_id": user.id,
        "token_id": token_id,
        "case_id": first.case.id,
        "customer_id": first.customer.id,
        "other_customer_id": second.customer.id,
        "merge_id": merge.id,
        "webhook_id": webhook.id,
        "delivery_id": delivery.id,
        "callback_id": callback.id,
        "work_id": work.id,
        # A stored file's name is its content's digest; the customer in the path decides.
        "sha256": sha256,
    }


def routes_with_ids(app: FastAPI) -> list[tuple[str, str]]:
    # Provider webhooks name their tenant in the path by design and prove who they are by the
    # provider's signature; tests/channels checks each of them.
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{" in path and not path.startswith("/webhooks/")
        for method in operations
    ]


def fill(template: str, ids: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"no object of kind {name!r} in their_objects(); teach it to make one")
        return ids[name]

    return re.sub(r"\{(\w+)\}", one, template)


async def test_every_route_answers_404_for_another_tenants_ids_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, db: Database, data_dir: Path
) -> None:
    mine = await make_company(db)
    theirs = await make_company(db)
    ids = await their_objects(db, theirs, AttachmentStore(data_dir / "attachments"))
    # Their own admin gets their file: the 404 below is the tenant check, not a missing file.
    own = fill("/v1/customers/{customer_id}/attachments/{sha256}", ids)
    fetched = await client.get(own, headers=bearer(theirs.admin_token))
    assert fetched.content == b"their attachment"
    async with db.engine.connect() as conn:
        before = await _their_rows(conn, theirs)
    routes = routes_with_ids(app)
    assert len(routes) >= 15, routes
    for method, path in routes:
        body = BODIES.get((method, path))
        if body is not None:
            body = {k: fill(v, ids) if isinstance(v, str) else v for k, v in body.items()}
        response = await client.request(
            method, fill(path, ids), json=body, headers=bearer(mine.admin_token)
        )
        assert response.status_code == 404, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        assert response.json()["error"]["code"] == "not_found"
    async with db.engine.connect() as conn:
        assert await _their_rows(conn, theirs) == before


async def _their_rows(conn: Any, theirs: Company) -> dict[str, list[Any]]:
    """Everything of theirs that a route could change, except append-only logs."""
    from sqlalchemy import select

    from carepath.storage import tables

    state = {}
    for table in (
        tables.users,
        tables.api_tokens,
        tables.cases,
        tables.customers,
        tables.identities,
        tables.customer_merges,
        tables.webhook_endpoints,
        tables.outbox,
        tables.messages,
        tables.channel_accounts,
        tables.callbacks,
        tables.calls,
        tables.work_items,
        tables.articles,
    ):
        rows = await conn.execute(
            select(table).where(table.c.tenant_id == theirs.tenant.id).order_by(table.c.id)
        )
        state[table.name] = [tuple(row) for row in rows.all()]
    return state
