"""What the server benchmarks share: fresh databases, a seeded SMS tenant, a real `carepath serve`
process, its memory, and percentiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from carepath.access import Principal
from carepath.actions import do_create_api_token, do_create_tenant
from carepath.actions.channels import do_create_channel_account
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.types import Role

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "benchmark-secret-key-" + "x" * 32
AUTH_TOKEN = "benchmark-twilio-auth-token"  # noqa: S105 - a test account
ACCOUNT_SID = "AC" + "0" * 32
OUR_NUMBER = "+16505550199"
DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
# Every new case goes straight to the queue: ingest routes it in its own transaction.
CONFIG = f"""\
business_hours: {{timezone: UTC, weekly: {json.dumps(DAY)}}}
routing: {{min_proficiency: 1, auto_accept: true}}
strategy: {{defaults: {{treatment: live, skill: general, sla_seconds: 600}}}}
"""


@dataclass(frozen=True)
class SmsTenant:
    slug: str
    agent_token: str


@asynccontextmanager
async def fresh_database(kind: str, postgres: str, workdir: Path) -> AsyncIterator[str]:
    """A new, empty, migrated database: a SQLite file in `workdir` or a PostgreSQL database
    dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        await _migrate(url)
        yield url
        return
    name = f"carepath_bench_{uuid.uuid4().hex[:10]}"
    dsn = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = (
        make_url(postgres)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        await _migrate(url)
        yield url
    finally:
        admin = await asyncpg.connect(dsn, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrations.upgrade(db)
    finally:
        await db.dispose()


async def seed_sms_tenant(url: str) -> SmsTenant:
    """A tenant with the live-treatment config, an SMS number and an agent's API token, made
    through the real actions."""
    db = Database(url)
    try:
        tenant = await do_create_tenant(db, slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
        system = Principal.for_system(tenant.id, "bench")
        await do_apply_tenant_config(db, system, CONFIG)
        await do_create_channel_account(
            db,
            system,
            SecretBox(SECRET),
            channel=Channel.SMS,
            name="Support line",
            address=OUR_NUMBER,
            config={"account_sid": ACCOUNT_SID},
            secrets={"auth_token": AUTH_TOKEN},
        )
        token = await do_create_api_token(db, system, name="stream", role=Role.AGENT)
        return SmsTenant(tenant.slug, token.plaintext)
    finally:
        await db.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)


@contextmanager
def serving(
    database_url: str, *, port: int | None = None, redis_url: str | None = None, **env: str
) -> Iterator[Server]:
    """`carepath serve` in its own process (as an operator runs it), ready when this yields."""
    port = port or free_port()
    data_dir = tempfile.mkdtemp(prefix="carepath-bench-")
    environ = {
        **os.environ,
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_SECRET_KEY": SECRET,
        "CAREPATH_DATA_DIR": data_dir,
        "CAREPATH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CAREPATH_LOG_LEVEL": "WARNING",
        **{f"CAREPATH_{k.upper()}": v for k, v in env.items()},
    }
    if redis_url:
        environ["CAREPATH_REDIS_URL"] = redis_url
    log = open(Path(data_dir) / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "carepath.cli", "serve", "--port", str(port)],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {(Path(data_dir) / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready in 60 s")
            time.sleep(0.1)
        yield Server(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def spawn(script: str, *args: str) -> subprocess.Popen[bytes]:
    """A load-generator process (a script beside this one); it prints one JSON object."""
    return subprocess.Popen(  # noqa: S603 - our own scripts
        [sys.executable, str(Path(__file__).parent / script), *args],
        stdout=subprocess.PIPE,
    )


def collect(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed with {process.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result
