"""Session fixation: a login that arrives with a session cookie ends that session on the server,
through the API and through the workspace's login form, so a session an attacker planted in the
browser (their own, valid one) or the previous user's is dead once someone logs in."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from carepath.authn import SESSION_COOKIE
from carepath.storage import Database, tables
from carepath.types import Role
from tests.api.ui_session import csrf_of
from tests.factories import PASSWORD, Company, make_company, make_user
from tests.reliability_report import record
from tests.security.apps import SECTION


def browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


async def api_login(http: httpx.AsyncClient, company: Company, email: str) -> str:
    body = {"tenant": company.tenant.slug, "email": email, "password": PASSWORD}
    response = await http.post("/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    return response.cookies[SESSION_COOKIE]


async def form_login(http: httpx.AsyncClient, company: Company, email: str) -> str:
    page = await http.get("/app/login")
    form = {"tenant": company.tenant.slug, "email": email, "password": PASSWORD}
    response = await http.post("/app/login", data={**form, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    return response.cookies[SESSION_COOKIE]


async def works(app: FastAPI, cookie: str) -> bool:
    """Does this session cookie, alone in a fresh client, still authenticate?"""
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    async with browser(app) as http:
        api = (await http.get("/v1/auth/me", headers=headers)).status_code
        page = (await http.get("/app", headers=headers)).status_code
    assert (api == 200) == (page == 200), (api, page)
    return api == 200


async def sessions(db: Database) -> int:
    async with db.engine.connect() as conn:
        query = select(func.count()).select_from(tables.login_sessions)
        return int((await conn.execute(query)).scalar_one())


async def test_a_login_ends_the_session_the_browser_came_with(app: FastAPI, db: Database) -> None:
    company = await make_company(db)
    victim = company.admin.email
    attacker = (await make_user(db, company.tenant, Role.AGENT)).email
    logins = 0
    for login in (api_login, form_login):
        # given an attacker's own valid session, planted in the victim's browser
        async with browser(app) as theirs:
            planted = await login(theirs, company, attacker)
        async with browser(app) as http:
            # (cookiejar files a dotless host under "<host>.local")
            http.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
            assert await works(app, planted)
            # when the victim logs in with that cookie in the jar
            first = await login(http, company, victim)
            # then the planted session is ended on the server; the victim's new one works
            assert not await works(app, planted), login.__name__
            assert await works(app, first)
            # and logging in again (same browser) ends the previous session too
            second = await login(http, company, victim)
            assert not await works(app, first), login.__name__
            assert await works(app, second)
            logins += 3
    # one live session per browser that logged in: the victim's last one in each
    assert await sessions(db) == 2
    record(
        "session-rotation",
        section=SECTION,
        what="An attacker's valid session cookie planted in a browser, then a login there, then "
        "a second login, through the API and the workspace's login form; each old cookie tried "
        "again on the API and the workspace.",
        counts={"logins": logins, "old_sessions_replayed": 4, "login_paths": 2},
        result="every login ended the session the browser came with on the server (401 / "
        "redirect to login); only the newest session of each browser remained",
    )
