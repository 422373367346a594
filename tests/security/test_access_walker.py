"""Every route of the OpenAPI walked with an agent's and a supervisor's credentials, on their own
tenant's objects: what access.py keeps above their role answers 403 with nothing but the error;
and every WebSocket with another tenant's credentials and with a foreign Origin.

Which permissions a role lacks comes from access.py itself, and which permissions the API checks
comes from the route modules' source, so neither list can rot: a permission the API checks but
no walked route refused fails the walk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from carepath.access import Permission, Principal, can
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.ids import TenantId
from carepath.storage import Database
from carepath.types import Role
from tests.api.test_tenant_isolation import BODIES, their_objects
from tests.factories import PASSWORD, bearer, make_company
from tests.inbound import inbound
from tests.live import nothing_more, receive, serving, ws_connect
from tests.reliability_report import record
from tests.security.apps import SECTION

ROUTES_DIR = Path(__file__).resolve().parents[2] / "src" / "carepath" / "web" / "routes"


def checked_permissions() -> set[Permission]:
    """The permissions the JSON API's route modules ask access.py about."""
    source = "\n".join(p.read_text() for p in ROUTES_DIR.glob("*.py"))
    return {Permission[name] for name in re.findall(r"Permission\.([A-Z_]+)", source)}


def lacking(role: Role) -> set[Permission]:
    probe = Principal(tenant_id=TenantId("ten_probe"), role=role)
    return {p for p in Permission if not can(probe, p)}


def operations(app: FastAPI) -> list[tuple[str, str]]:
    # Provider webhooks prove themselves by signature (tests/channels); health is public.
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if not path.startswith(("/webhooks/", "/healthz", "/readyz"))
        for method in ops
    ]


def fill(template: str, ids: dict[str, str]) -> str:
    # An id kind no factory makes yet is still probed: the role check comes before the lookup.
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "unknown_" + m.group(1)), template)


async def walk(
    client: httpx.AsyncClient, app: FastAPI, token: str, role: Role, ids: dict[str, str]
) -> tuple[set[Permission], int]:
    """Every operation once; the permissions whose refusals were seen, and how many calls."""
    refused: set[Permission] = set()
    calls = 0
    for method, path in operations(app):
        body: Any = BODIES.get((method, path), {})
        body = {k: fill(v, ids) if isinstance(v, str) else v for k, v in body.items()}
        response = await client.request(
            method, fill(path, ids), json=body if method != "GET" else None, headers=bearer(token)
        )
        calls += 1
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        if response.status_code != 403:
            continue
        payload = response.json()
        # Never data: the refusal is the error and nothing else.
        assert set(payload) == {"error"}, f"{method} {path}: {payload}"
        error = payload["error"]
        assert error["code"] == "permission_denied", f"{method} {path}: {error}"
        if "permission" not in error["data"]:
            continue  # refused for another reason (a token has no presence): still no data
        permission = Permission(error["data"]["permission"])
        assert permission in lacking(role), f"{method} {path} refused {role} {permission}"
        refused.add(permission)
    return refused, calls


async def test_agents_and_supervisors_are_refused_what_access_py_keeps_above_them(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    ids = await their_objects(db, company)
    total = 0
    for role, token in (
        (Role.AGENT, company.agent_token),
        (Role.SUPERVISOR, company.supervisor_token),
    ):
        refused, calls = await walk(client, app, token, role, ids)
        total += calls
        expected = lacking(role) & checked_permissions()
        assert expected <= refused, f"{role}: never refused {sorted(expected - refused)}"
    record(
        "role-walker",
        section=SECTION,
        what="Every OpenAPI route called with an agent's and a supervisor's token on their own "
        "tenant's objects; what access.py keeps above the role must answer 403.",
        counts={"routes_probed": len(operations(app)), "requests_made": total},
        result="every permission above each role that the API checks was refused, with the "
        "error only; no 5xx",
    )


async def test_websockets_keep_tenants_apart_and_refuse_foreign_origins(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    served: Database = app.state.carepath.db
    mine, theirs = await make_company(db), await make_company(db)
    login = await client.post(
        "/v1/auth/login",
        json={"tenant": mine.tenant.slug, "email": mine.admin.email, "password": PASSWORD},
    )
    cookie = f"carepath_session={login.cookies['carepath_session']}"
    session = await client.post(
        "/v1/visitor/session",
        json={"visitor_id": "visitor-of-theirs"},
        headers={"X-Carepath-Key": theirs.tenant.public_key},
    )
    visitor = session.json()["session"]
    probes = 0
    async with serving(app) as base:
        host = base.removeprefix("http://")
        # Their agent's stream and their visitor's stream, open while my tenant gets a message.
        async with (
            ws_connect(base, "/v1/stream", bearer(theirs.agent_token)) as their_agent,
            ws_connect(base, f"/v1/visitor/stream?session={visitor}") as their_visitor,
        ):
            assert (await receive(their_agent))["type"] == "stream.ready"
            await do_ingest(served, mine.tenant.id)
            assert await nothing_more(their_agent, 1.0)
            assert await _quiet(their_visitor)
            probes += 2
        # A cookie session from another site's page: refused; from this site: let in.
        for origin, allowed in (("https://evil.example", False), (f"http://{host}", True)):
            headers = {"Cookie": cookie, "Origin": origin}
            async with ws_connect(base, "/v1/stream", headers) as ws:
                if allowed:
                    assert (await receive(ws))["type"] == "stream.ready"
                else:
                    assert await closed_with(ws) == 4403
            probes += 1
        # Another tenant's token on my visitor's stream is no session at all.
        async with ws_connect(base, f"/v1/visitor/stream?session={theirs.agent_token}") as ws:
            assert await closed_with(ws) == 4401
            probes += 1
    record(
        "websocket-walker",
        section=SECTION,
        what="The agent stream and the visitor stream with another tenant's credentials while "
        "this tenant gets a message; a cookie session with a foreign Origin.",
        counts={"websockets_probed": 2, "connections_made": probes},
        result="nothing of the other tenant arrived; a foreign Origin closed with 4403, this "
        "site's Origin let in; a bad visitor session closed with 4401",
    )


async def closed_with(ws: Any) -> int:
    """The close code the server sent instead of a first frame."""
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def do_ingest(db: Database, tenant_id: TenantId) -> None:
    await do_ingest_inbound(db, inbound(tenant_id, Channel.SMS, "+16505550199"))


async def _quiet(ws: Any) -> bool:
    """Nothing but the visitor's own hello frames within a second."""
    try:
        while True:
            message = await receive(ws, 1.0)
            assert message.get("type") in {
                "hello",
                "ready",
                "heartbeat",
                "session",
                "stream.ready",
            }, message
    except TimeoutError:
        return True
