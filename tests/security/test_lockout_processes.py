"""The login lockout across real server processes: two `carepath serve` share one database and
Redis; failed logins through one lock the account on the other, the right password included."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx

from carepath.storage import Database
from carepath.types import Role
from tests import services
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_tenant, make_user
from tests.processes import running_server
from tests.reliability_report import record
from tests.security.apps import SECTION

FAILURES = 3


async def test_failures_on_one_process_lock_the_account_on_the_other(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    redis_url = services.need_redis()
    # Redis outlives the test: a tenant and a client address of this run alone.
    tenant = await make_tenant(db, f"lockout-{uuid.uuid4().hex[:8]}")
    user = await make_user(db, tenant, Role.AGENT)
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.17"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")},
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_DATA_DIR": str(tmp_path / "data"),
        "CAREPATH_REDIS_URL": redis_url,
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_RUN_WORKER": "false",
        "CAREPATH_LOGIN_LOCKOUT_FAILURES": str(FAILURES),
        "CAREPATH_LOGIN_LOCKOUT_S": "60",
    }
    # uvicorn trusts X-Forwarded-For from loopback: each request comes "from" this address.
    headers = {"X-Forwarded-For": address}
    body = {"tenant": tenant.slug, "email": user.email, "password": "a-wrong-guess"}
    with running_server(env) as first, running_server(env) as second:
        async with httpx.AsyncClient(headers=headers) as http:
            # the right password works on both before anything happens
            for base in (first, second):
                right = await http.post(
                    f"{base}/v1/auth/login", json={**body, "password": PASSWORD}
                )
                assert right.status_code == 200, right.text
            # when the wrong password is tried FAILURES times, on the first process only
            for _ in range(FAILURES):
                wrong = await http.post(f"{first}/v1/auth/login", json=body)
                assert wrong.status_code == 401, wrong.text
            # then the second process refuses the account, even with the right password
            locked = await http.post(f"{second}/v1/auth/login", json={**body, "password": PASSWORD})
            assert locked.status_code == 429, locked.text
            assert locked.json()["error"]["code"] == "login_locked"
            assert int(locked.headers["Retry-After"]) >= 1
            # and a fresh process that joins later sees it too
            with running_server(env) as third:
                late = await http.post(
                    f"{third}/v1/auth/login", json={**body, "password": PASSWORD}
                )
            assert late.status_code == 429, late.text
    record(
        "login-lockout-processes",
        section=SECTION,
        what="Three real `carepath serve` processes sharing the database and Redis: wrong "
        "passwords sent to the first, then the right password to the second and to a third "
        "started afterwards.",
        counts={"processes": 3, "failed_logins": FAILURES, "requests_made": FAILURES + 4},
        result="the account was locked (429 login_locked, Retry-After) on the processes that "
        "saw none of the failures, the right password included",
    )
