"""Login and the public endpoints are rate-limited per client address; repeated failed logins lock
the account (and the address) out for a while, across processes when Redis holds the counts."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI

from carepath.settings import Settings
from carepath.storage import Database
from carepath.types import Role
from carepath.web.throttle import PUBLIC_ROUTES, group_of
from tests import services
from tests.factories import PASSWORD, make_company, make_tenant, make_user
from tests.reliability_report import record
from tests.security.apps import SECTION, app_with, client_for

# One request per public door: (method, path, JSON body or None). Answers may be 401/404/422:
# every call counts, whatever it gets.
PUBLIC_CALLS: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/v1/auth/login", {"tenant": "t", "email": "a@example.com", "password": "x"}),
    ("POST", "/v1/identify", {"visitor_id": "v1"}),
    ("POST", "/v1/track", {"visitor_id": "v1", "events": []}),
    ("POST", "/v1/visitor/session", {"visitor_id": "v1"}),
    ("POST", "/v1/visitor/messages", {"client_id": str(uuid.uuid4()), "text": "hi"}),
    ("POST", "/v1/visitor/callbacks", {"phone": "+16505550100"}),
    ("POST", "/v1/surveys/answer", {"token": "x", "score": 5}),
    ("GET", "/s/some-token", None),
    ("GET", "/help/acme/search?q=refund", None),
    ("POST", "/help/acme/articles/refunds/feedback", None),
    ("GET", "/t/acme/continue?token=x", None),
]


async def login(
    http: httpx.AsyncClient, tenant: str, email: str, password: str = PASSWORD
) -> httpx.Response:
    body = {"tenant": tenant, "email": email, "password": password}
    return await http.post("/v1/auth/login", json=body)


def assert_refused(response: httpx.Response, code: str) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == code
    retry = int(response.headers["Retry-After"])
    assert retry >= 1
    assert response.json()["error"]["data"]["retry_after_s"] == retry
    return retry


async def test_failed_logins_lock_the_account_out_even_with_the_right_password(
    settings: Settings, db: Database
) -> None:
    company = await make_company(db)
    other = await make_user(db, company.tenant, Role.AGENT)
    slug, email = company.tenant.slug, company.admin.email
    async with app_with(settings, login_lockout_failures=3, login_lockout_s=60) as app:
        http = client_for(app)
        for _ in range(3):
            assert (await login(http, slug, email, "wrong")).status_code == 401
        # Locked before the password is looked at, whatever the case of the address.
        retry = assert_refused(await login(http, slug, email.upper()), "login_locked")
        assert retry <= 60
        # Another account from the same address is not locked by this one's failures.
        assert (await login(http, slug, other.email)).status_code == 200
        # The workspace's login form shares the lockout.
        page = await http.get("/app/login")
        token = page.cookies.get("carepath_login_csrf") or http.cookies.get("carepath_login_csrf")
        form = {"tenant": slug, "email": email, "password": PASSWORD, "csrf_token": token or ""}
        ui = await http.post("/app/login", data=form)
        assert ui.status_code == 429
        assert int(ui.headers["Retry-After"]) >= 1
        assert "carepath_session" not in ui.cookies
    record(
        "login-lockout-account",
        section=SECTION,
        what="Wrong passwords for one account, then the right one, through the API and the "
        "workspace login form.",
        counts={"failed_logins": 3, "requests_made": 7},
        result="locked out (429 login_locked, Retry-After) after 3 failures, even with the "
        "right password; another account from the same address still logs in",
    )


async def test_failed_logins_from_one_address_lock_that_address_out(
    settings: Settings, db: Database
) -> None:
    company = await make_company(db)
    async with app_with(settings, login_lockout_address_failures=4, login_lockout_s=60) as app:
        attacker, colleague = client_for(app, "203.0.113.7"), client_for(app, "203.0.113.8")
        for n in range(4):
            response = await login(attacker, company.tenant.slug, f"guess{n}@example.com", "x")
            assert response.status_code == 401
        assert_refused(
            await login(attacker, company.tenant.slug, company.admin.email), "login_locked"
        )
        assert (await login(colleague, company.tenant.slug, company.admin.email)).status_code == 200
    record(
        "login-lockout-address",
        section=SECTION,
        what="Password spraying: failed logins to different accounts from one client address.",
        counts={"failed_logins": 4, "requests_made": 6},
        result="the address is locked out after 4 failures; another address logs in",
    )


async def test_a_lockout_ends_after_its_time(settings: Settings, db: Database) -> None:
    company = await make_company(db)
    async with app_with(settings, login_lockout_failures=2, login_lockout_s=1) as app:
        http = client_for(app)
        for _ in range(2):
            await login(http, company.tenant.slug, company.admin.email, "wrong")
        assert (await login(http, company.tenant.slug, company.admin.email)).status_code == 429
        await asyncio.sleep(1.2)
        assert (await login(http, company.tenant.slug, company.admin.email)).status_code == 200


async def test_every_public_door_is_rate_limited_per_client_address(
    settings: Settings, db: Database
) -> None:
    limit = 3
    rate = f"{limit}/minute"
    async with app_with(settings, rate_limit_public=rate, rate_limit_login=rate) as app:
        groups = {group_of(method, path.split("?")[0]) for method, path, _ in PUBLIC_CALLS}
        assert groups == {group for group, _, _ in PUBLIC_ROUTES}, "a door without a call here"
        requests = 0
        for method, path, body in PUBLIC_CALLS:
            # Each address gets its own count; fresh addresses keep groups apart in this test.
            address = f"198.51.100.{len(path) % 250}"
            http = client_for(app, address)
            for _ in range(limit):
                response = await http.request(method, path, json=body)
                requests += 1
                assert response.status_code != 429, f"{method} {path} refused too early"
            assert_refused(await http.request(method, path, json=body), "rate_limited")
            other = client_for(app, "192.0.2.200")
            assert (await other.request(method, path, json=body)).status_code != 429
            requests += 2
            await _reset(app)
    record(
        "public-rate-limits",
        section=SECTION,
        what="Each public endpoint (login, identify/track, widget, surveys, help centre, "
        "continuation links) called past its per-address limit.",
        counts={"routes_probed": len(PUBLIC_CALLS), "requests_made": requests},
        result="429 rate_limited with Retry-After past the limit; other addresses unaffected",
    )


async def _reset(app: FastAPI) -> None:
    await app.state.rate_limits.storage.reset()


async def test_a_lockout_holds_across_processes_sharing_redis(
    settings: Settings, db: Database
) -> None:
    redis_url = services.need_redis()
    # Unique names: Redis outlives the test, and other runs must not share these counts.
    tenant = await make_tenant(db, f"lockout-{uuid.uuid4().hex[:8]}")
    user = await make_user(db, tenant, Role.AGENT)
    overrides = {"redis_url": redis_url, "login_lockout_failures": 3, "login_lockout_s": 30}
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"
    async with app_with(settings, **overrides) as first, app_with(settings, **overrides) as second:
        one, two = client_for(first, address), client_for(second, address)
        for http in (one, two, one):
            assert (await login(http, tenant.slug, user.email, "wrong")).status_code == 401
        assert_refused(await login(two, tenant.slug, user.email), "login_locked")
        assert_refused(await login(one, tenant.slug, user.email), "login_locked")
    record(
        "login-lockout-redis",
        section=SECTION,
        what="Failed logins spread over two app instances sharing Redis.",
        counts={"processes": 2, "failed_logins": 3, "requests_made": 5},
        result="the lockout counted across both and held on both",
    )


# Tags whose routes anyone can call: the public key is in every page that embeds the widget.
PUBLIC_TAGS = {"visitor", "identify", "surveys"}


async def test_every_public_write_in_the_openapi_is_in_the_throttle_table(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A new public route fails here until PUBLIC_ROUTES in web/throttle.py counts it."""
    missing, probed = [], 0
    for path, operations in app.openapi()["paths"].items():
        if "{" in path:
            continue
        for method, operation in operations.items():
            if method == "get":
                continue
            probed += 1
            anonymous = await client.request(method.upper(), path, json={})
            open_to_anyone = anonymous.status_code != 401 or PUBLIC_TAGS & set(
                operation.get("tags", [])
            )
            if open_to_anyone and group_of(method.upper(), path) is None:
                missing.append(f"{method.upper()} {path}")
    assert probed >= 15
    assert missing == [], f"public routes without a rate limit: {missing}"
