"""The REST side: the in-app equivalents of the stream, CORS for pages on other sites, the
script with its cache headers, and the demo site."""

from __future__ import annotations

import uuid

import httpx
from asgi_lifespan import LifespanManager

from carepath.actions.cases import do_reply
from carepath.settings import Settings
from carepath.storage import Database
from carepath.web import create_app
from tests.channels.widget.visitor import open_visitor, signed
from tests.factories import make_company, system


async def test_an_app_sends_and_polls_over_rest_exactly_like_the_stream(
    http: httpx.AsyncClient, app_db: Database
) -> None:
    # given an app's visitor session
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant, channel="app")
    client_id = str(uuid.uuid4())
    # when it sends a message, then sends it again (a retry after a timeout)
    first = await http.post(
        "/v1/visitor/messages",
        json={"client_id": client_id, "text": "where is my parcel?"},
        headers=visitor.headers,
    )
    again = await http.post(
        "/v1/visitor/messages",
        json={"client_id": client_id, "text": "where is my parcel?"},
        headers=visitor.headers,
    )
    # then the first is created, the second is the same message
    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["message_id"] == first.json()["message_id"]
    # and polling from 0, then from the last id, gives the conversation once
    await do_reply(app_db, system(company.tenant), first.json()["case_id"], text="Tomorrow")
    page = (await http.get("/v1/visitor/messages?after=0", headers=visitor.headers)).json()
    texts = [e["data"]["text"] for e in page["events"] if e["type"] == "message.created"]
    assert texts == ["where is my parcel?", "Tomorrow"]
    assert page["more"] is False
    later = await http.get(
        f"/v1/visitor/messages?after={page['last_event_id']}", headers=visitor.headers
    )
    assert later.json()["events"] == []
    assert later.json()["last_event_id"] == page["last_event_id"]


async def test_pages_on_other_sites_may_call_the_visitor_api_without_credentials(
    http: httpx.AsyncClient,
) -> None:
    for path in ("/v1/visitor/messages", "/v1/visitor/session", "/v1/surveys/answer"):
        preflight = await http.options(
            path,
            headers={
                "Origin": "https://shop.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-carepath-session",
            },
        )
        assert preflight.status_code == 200, path
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in preflight.headers
    # an API token may not be sent from another site's page
    refused = await http.options(
        "/v1/visitor/session",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert refused.status_code == 400


async def test_the_script_is_cached_long_and_revalidated_by_its_etag(
    http: httpx.AsyncClient,
) -> None:
    script = await http.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age=86400" in script.headers["cache-control"]
    assert "innerHTML" not in script.text  # customer and agent text goes in as textContent
    etag = script.headers["etag"]
    again = await http.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_the_demo_site_exists_only_in_demo_mode_and_signs_its_user(
    http: httpx.AsyncClient, app_db: Database, settings: Settings
) -> None:
    company = await make_company(app_db)
    slug = company.tenant.slug
    assert (await http.get(f"/t/{slug}/demo")).status_code == 404
    demo = create_app(settings.model_copy(update={"demo_mode": True}))
    async with LifespanManager(demo):
        transport = httpx.ASGITransport(app=demo)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            page = await client.get(f"/t/{slug}/demo", params={"user": "u-1", "name": "<Dana>"})
            missing = await client.get("/t/no-such-company/demo")
    assert page.status_code == 200
    assert company.tenant.public_key in page.text
    assert 'src="http://demo/widget.js"' in page.text
    assert signed(company.tenant, "u-1") in page.text
    assert "<Dana>" not in page.text  # escaped, in the page and in its script
    assert missing.status_code == 404
