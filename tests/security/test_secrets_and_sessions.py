"""Secrets and tokens never appear in a real server's logs; sessions are the server's own and
new at every login; every cookie-authenticated write needs the CSRF proof."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fastapi import FastAPI

from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, bearer, make_company
from tests.live import receive, ws_connect
from tests.reliability_report import record
from tests.security.apps import SECTION, logged_server


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return {
        **clean,
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_DATA_DIR": str(data_dir),
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_RUN_WORKER": "false",
        "CAREPATH_LOG_LEVEL": "DEBUG",
    }


async def test_no_secret_reaches_the_server_log(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    company = await make_company(db)
    slug, email = company.tenant.slug, company.admin.email
    secrets: dict[str, str] = {"password": PASSWORD, "api token": company.admin_token}
    secrets["api token secret"] = company.admin_token.split(".", 1)[1]
    log = tmp_path / "server.log"
    with logged_server(server_env(database_url, tmp_path / "data"), log) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            wrong = "a-wrong-password-guess-7781"
            secrets["wrong password"] = wrong
            body = {"tenant": slug, "email": email, "password": wrong}
            assert (await http.post("/v1/auth/login", json=body)).status_code == 401
            body["password"] = PASSWORD
            login = await http.post("/v1/auth/login", json=body)
            assert login.status_code == 200
            secrets["session cookie"] = login.cookies["carepath_session"]
            secrets["csrf token"] = login.json()["csrf_token"]
            http.cookies.clear()
            headers = bearer(company.admin_token)
            assert (await http.get("/v1/auth/me", headers=headers)).status_code == 200
            hook = await http.post(
                "/v1/webhooks",
                json={"url": "https://93.184.215.14/hook", "event_types": ["*"]},
                headers=headers,
            )
            secrets["webhook secret"] = hook.json()["secret"]
            session = await http.post(
                "/v1/visitor/session",
                json={"visitor_id": "visitor-1"},
                headers={"X-Carepath-Key": company.tenant.public_key},
            )
            visitor = session.json()["session"]
            secrets["visitor session"] = visitor
            async with ws_connect(base, f"/v1/visitor/stream?session={visitor}") as ws:
                await receive(ws)
            secrets["survey token"] = "survey-token-5f1c9a7e2b"
            await http.get(f"/s/{secrets['survey token']}")
            secrets["continue token"] = "continue-token-0c4d8e1f"
            await http.get(f"/t/{slug}/continue", params={"token": secrets["continue token"]})
    written = log.read_text()
    assert "POST /v1/auth/login" in written, "the access log is not in this file"
    leaked = sorted(name for name, value in secrets.items() if value in written)
    assert leaked == [], f"secrets in the log: {leaked}"
    record(
        "secrets-not-logged",
        section=SECTION,
        what="A real server logging at DEBUG while a user logs in (wrong, then right password), "
        "an API token is used, a webhook is created, a visitor opens a stream with its session "
        "token in the URL, and survey and continue-in-chat links are followed.",
        counts={"secrets_checked": len(secrets), "log_bytes": len(written)},
        result="none of the secret strings appears in the log output",
    )


async def test_every_login_starts_a_new_server_made_session(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    # A cookie the attacker planted before the login is neither honoured nor kept.
    client.cookies.set("carepath_session", "attacker-chosen-session", domain="testserver.local")
    assert (await client.get("/v1/auth/me")).status_code == 401
    body = {"tenant": company.tenant.slug, "email": company.admin.email, "password": PASSWORD}
    first = await client.post("/v1/auth/login", json=body)
    second = await client.post("/v1/auth/login", json=body)
    cookies = {first.cookies["carepath_session"], second.cookies["carepath_session"]}
    assert len(cookies) == 2
    assert "attacker-chosen-session" not in cookies
    assert first.json()["csrf_token"] != second.json()["csrf_token"]


async def test_every_cookie_authenticated_write_needs_the_csrf_header(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    body = {"tenant": company.tenant.slug, "email": company.admin.email, "password": PASSWORD}
    login = await client.post("/v1/auth/login", json=body)
    csrf = login.json()["csrf_token"]
    probed = 0
    for path, operations in app.openapi()["paths"].items():
        if path.startswith(("/webhooks/", "/v1/visitor/", "/v1/auth/login")):
            continue  # signed by providers, visitor-session or pre-login: no cookie counts
        if path in ("/v1/identify", "/v1/track", "/v1/surveys/answer"):
            continue  # never accept a cookie at all (tests/api/test_identify.py)
        for method in operations:
            if method == "get":
                continue
            url = path.replace("{", "x_").replace("}", "")
            refused = await client.request(method.upper(), url, json={})
            assert refused.status_code == 403, f"{method} {path}: {refused.status_code}"
            assert refused.json()["error"]["data"]["reason"] == "csrf", f"{method} {path}"
            probed += 1
    # And the header makes the same session work.
    me = await client.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert me.status_code == 204
    assert probed >= 30
    record(
        "csrf-walker",
        section=SECTION,
        what="Every cookie-authenticated write route of the OpenAPI called with a valid session "
        "cookie and no CSRF header.",
        counts={"routes_probed": probed, "requests_made": probed + 2},
        result="each refused with 403 (reason csrf) before doing anything; with the header the "
        "session works",
    )
