"""Knowledge articles through the API: create, read, edit, publish, delete, tenant scope."""

from __future__ import annotations

import httpx
import pytest

from carepath.storage import Database
from tests.factories import Company, bearer, make_company

BODY = "Refunds take **3-5 days**.\n\nPaid with 4111 1111 1111 1111? See [help](https://x.test)."


async def _create(client: httpx.AsyncClient, token: str, **extra: object) -> httpx.Response:
    article = {"title": "Refund timing", "body": BODY, "category": "Refunds", **extra}
    return await client.post("/v1/articles", json=article, headers=bearer(token))


async def test_a_supervisor_writes_an_article_that_agents_read(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a company
    acme = await make_company(db)
    # when a supervisor creates an article
    created = await _create(
        client, acme.supervisor_token, intents=["refund_not_received"], tags=["refund"]
    )
    # then it is a draft, with a slug from its title, masked, rendered safely
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["slug"] == "refund-timing"
    assert article["status"] == "draft"
    assert article["version"] == 1
    assert "4111 1111 1111 1111" not in article["body"]
    assert "**** **** **** 1111" in article["body"]
    assert "<strong>3-5 days</strong>" in article["html"]
    assert 'rel="nofollow noopener"' in article["html"]
    assert article["channels"][:2] == ["web", "chat"]
    # and an agent reads it, and finds it in the list
    got = await client.get(f"/v1/articles/{article['id']}", headers=bearer(acme.agent_token))
    assert got.status_code == 200
    assert got.json()["title"] == "Refund timing"
    listed = await client.get(
        "/v1/articles", params={"intent": "refund_not_received"}, headers=bearer(acme.agent_token)
    )
    assert [a["id"] for a in listed.json()["items"]] == [article["id"]]


async def test_agents_may_not_write_articles(client: httpx.AsyncClient, db: Database) -> None:
    acme = await make_company(db)
    response = await _create(client, acme.agent_token)
    assert response.status_code == 403
    assert response.json()["error"]["data"]["permission"] == "manage_articles"


async def test_edit_publish_unpublish_and_delete(client: httpx.AsyncClient, db: Database) -> None:
    acme = await make_company(db)
    headers = bearer(acme.supervisor_token)
    article_id = (await _create(client, acme.supervisor_token)).json()["id"]
    # when it is edited at the version read
    edited = await client.patch(
        f"/v1/articles/{article_id}",
        json={"title": "How long refunds take", "tags": ["refund"], "category": None, "version": 1},
        headers=headers,
    )
    # then the version moves on and unnamed fields stay
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert edited.json()["category"] is None
    assert edited.json()["body"].startswith("Refunds take")
    # when someone edits from the stale version
    stale = await client.patch(
        f"/v1/articles/{article_id}", json={"title": "Other", "version": 1}, headers=headers
    )
    assert stale.status_code == 409
    # when it is published, then published again
    published = await client.post(f"/v1/articles/{article_id}/publish", headers=headers)
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    again = await client.post(f"/v1/articles/{article_id}/publish", headers=headers)
    assert again.status_code == 409
    # and listed by status
    drafts = await client.get("/v1/articles", params={"status": "draft"}, headers=headers)
    assert drafts.json()["items"] == []
    unpublished = await client.post(f"/v1/articles/{article_id}/unpublish", headers=headers)
    assert unpublished.json()["status"] == "draft"
    # when it is deleted, it is gone
    deleted = await client.delete(f"/v1/articles/{article_id}", headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/articles/{article_id}", headers=headers)
    assert gone.status_code == 404


async def test_slugs_are_unique_per_tenant(client: httpx.AsyncClient, db: Database) -> None:
    acme, other = await make_company(db), await make_company(db)
    assert (await _create(client, acme.supervisor_token)).status_code == 201
    duplicate = await _create(client, acme.supervisor_token)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["data"]["field"] == "slug"
    # another tenant may use the same slug
    assert (await _create(client, other.supervisor_token)).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [("slug", "Not A Slug"), ("locale", "english!"), ("intents", ["ok", "<bad>"])],
)
async def test_invalid_fields_are_named(
    client: httpx.AsyncClient, db: Database, field: str, value: object
) -> None:
    acme = await make_company(db)
    response = await _create(client, acme.supervisor_token, **{field: value})
    assert response.status_code == 422
    assert response.json()["error"]["data"]["field"] == field


async def test_another_tenants_article_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given an article of one company
    acme: Company = await make_company(db)
    other: Company = await make_company(db)
    article_id = (await _create(client, acme.supervisor_token)).json()["id"]
    # then another company can neither see, edit, publish nor delete it
    headers = bearer(other.admin_token)
    assert (await client.get(f"/v1/articles/{article_id}", headers=headers)).status_code == 404
    patched = await client.patch(f"/v1/articles/{article_id}", json={"title": "x"}, headers=headers)
    assert patched.status_code == 404
    publish = await client.post(f"/v1/articles/{article_id}/publish", headers=headers)
    assert publish.status_code == 404
    assert (await client.delete(f"/v1/articles/{article_id}", headers=headers)).status_code == 404
    listed = await client.get("/v1/articles", headers=headers)
    assert listed.json()["items"] == []


async def test_unsafe_markdown_is_neutralised_in_the_html(
    client: httpx.AsyncClient, db: Database
) -> None:
    acme = await make_company(db)
    body = (
        "Hello <script>alert('x')</script>\n\n"
        '[click](javascript:alert(1)) <a href="javascript:alert(2)">raw</a>\n\n'
        '<img src="https://img.test/a.png" onerror="alert(3)">\n\n'
        '<iframe src="https://evil.test"></iframe><p onclick="alert(4)">para</p>'
    )
    response = await _create(client, acme.supervisor_token, body=body)
    html = response.json()["html"]
    for dangerous in ("<script", "alert('x')", 'href="javascript', "onerror", "<iframe", "onclick"):
        assert dangerous not in html
    # a Markdown link to javascript: is left as the text it was written as, never a link
    assert "[click](javascript:alert(1))" in html
    assert '<img src="https://img.test/a.png">' in html
