"""Server memory with 10^6 stored messages: a real `carepath serve` process's RSS on a database
that already holds them, beside the same server on an empty database, in one run.

    .venv/bin/python benchmarks/stored_memory.py [--messages 1000000] [--quick]
        [--seconds 20 --streams 20 --history 400]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres | --no-postgres] [--no-sqlite]

`--quick` (the suite's smoke run): 10^4 messages from 100 real webhooks, 5 streams, 2 s of load.

Per database, twice (an empty database, then one with the stored messages), each time a fresh
database and a fresh server process:

- **idle**: the server ready, nothing connected;
- **streams**: `--streams` agent streams (/v1/stream) connected;
- **reads**: a supervisor opens the analytics dashboard (its five tabs: the first reads the
  tenant's whole contacts and journey-event tables into memory, kept 30 s), the live board and
  the inbox's "all open" view and rows, over HTTP with a session cookie;
- **ingest**: signed SMS webhooks (`sms_load.py`, two processes, 8 in flight) for `--seconds`,
  while the supervisor keeps reloading those pages;
- **end**: 3 s after the load.

RSS (/proc) is sampled every 100 ms throughout; the JSON has each phase's largest sample, the
peak and the end, the ingest throughput and latency, and each page's load times. Afterwards every
acknowledged webhook must be stored (the benchmark fails otherwise).

How the stored messages get there (the server's memory depends on what it reads, not on how the
rows were written): first a real history through the real path, `--history` signed SMS webhooks
through a running server from `--history / 4` customers (so about four messages per case, each
customer's own case, contact, identity, journey events, queued work and events), then every case
resolved by `do_resolve_case` (which ends its contact, cancels its work, records the resolution
journey step, the audit trail and a CSAT survey; the survey deliveries are marked done, as there
is no network here). Then that history is copied inside the database with set-based SQL until
`--messages` are stored (`stored_multiply.py`: new ids, unique provider ids and phone numbers,
timestamps moved back an hour per copy, gap-free event seqs, every foreign key to its own copy;
SQLite checks them with `PRAGMA foreign_key_check`, PostgreSQL on insert), and ANALYZE. At 10^6
messages that is 250,000 customers, cases and contacts, 1.25 million journey events and 2.75
million events over 104 days, all resolved: what a busy centre's database holds, in the
proportions the real path writes them. Writes benchmarks/results/stored_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_server import (
    AUTH_TOKEN,
    DEFAULT_POSTGRES,
    OUR_NUMBER,
    Server,
    collect,
    fresh_database,
    percentile,
    seed_sms_tenant,
    serving,
    spawn,
)
from recording import run_info, write_result
from sqlalchemy import func, select, update
from stored_multiply import multiply

from carepath.access import Principal
from carepath.actions.cases import do_resolve_case
from carepath.actions.users import do_create_user
from carepath.authn import SESSION_COOKIE
from carepath.domain.clock import utcnow
from carepath.domain.outbox import OutboxStatus
from carepath.ids import TenantId
from carepath.storage import Database
from carepath.storage.tables import cases, event_counters, messages, outbox, tenants
from carepath.types import Role

SUPERVISOR = "supervisor@bench.example"
PASSWORD = "bench-supervisor-Passw0rd!"  # noqa: S105 - a throwaway benchmark user
PAGES = (
    "/app/supervisor/dashboard",
    "/app/supervisor/dashboard/movement",
    "/app/supervisor/dashboard/fcr",
    "/app/supervisor/dashboard/journeys",
    "/app/supervisor/dashboard/strategy",
    "/app/supervisor",
    "/app?view=open",
    "/app/inbox/rows?view=open",
)
PHASES = ("idle", "streams", "reads", "ingest", "end")


@dataclass(frozen=True)
class BenchTenant:
    id: str
    slug: str
    agent_token: str


class RssSampler:
    """The server's RSS every `every` seconds in a thread, labelled with the current phase."""

    def __init__(self, server: Server, every: float = 0.1) -> None:
        self.server = server
        self.every = every
        self.phase = "idle"
        self.samples: dict[str, list[float]] = {name: [] for name in PHASES}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples[self.phase].append(self.server.rss_mb())
            self._stop.wait(self.every)

    def report(self) -> dict[str, Any]:
        every = [mb for values in self.samples.values() for mb in values]
        return {
            "idle_mb": max(self.samples["idle"]),
            "peak_mb": max(every),
            "end_mb": self.samples["end"][-1],
            "phase_max_mb": {name: max(v) for name, v in self.samples.items() if v},
            "samples": len(every),
        }


class Supervisor:
    """A logged-in supervisor reloading the pages that read the tables, timing each load."""

    def __init__(self, server: Server, slug: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=600)
        response = self.http.post(
            "/v1/auth/login", json={"tenant": slug, "email": SUPERVISOR, "password": PASSWORD}
        )
        response.raise_for_status()
        # The cookie is Secure (production runs behind TLS); this loopback client sends it anyway.
        self.http.cookies.set(SESSION_COOKIE, response.cookies[SESSION_COOKIE])
        self.seconds: dict[str, list[float]] = {page: [] for page in PAGES}

    def read_all(self) -> None:
        for page in PAGES:
            started = time.perf_counter()
            response = self.http.get(page)
            if response.status_code != 200:
                raise RuntimeError(f"{page}: {response.status_code} {response.text[:300]}")
            self.seconds[page].append(time.perf_counter() - started)

    def keep_reading(self, until: threading.Event) -> threading.Thread:
        def loop() -> None:
            while not until.is_set():
                self.read_all()
                until.wait(1.0)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def report(self) -> dict[str, Any]:
        return {
            page: {"first_s": found[0], "median_s": percentile(found, 50), "loads": len(found)}
            for page, found in self.seconds.items()
        }


async def prepare(url: str) -> tuple[BenchTenant, int]:
    """The SMS tenant, a supervisor with a password; the event seq its set-up ended at."""
    tenant = await seed_sms_tenant(url)
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            tenant_id = (
                await conn.execute(select(tenants.c.id).where(tenants.c.slug == tenant.slug))
            ).scalar_one()
        system = Principal.for_system(tenant_id, "bench")
        await do_create_user(
            db,
            system,
            email=SUPERVISOR,
            display_name="Sam",
            role=Role.SUPERVISOR,
            password=PASSWORD,
        )
        async with db.engine.connect() as conn:
            seq = (
                await conn.execute(
                    select(event_counters.c.last_seq).where(event_counters.c.tenant_id == tenant_id)
                )
            ).scalar_one()
    finally:
        await db.dispose()
    return BenchTenant(tenant_id, tenant.slug, tenant.agent_token), int(seq)


def webhooks(
    server: Server, slug: str, *, seconds: float, prefix: str, clients: int, **options: str
) -> dict[str, Any]:
    """`clients` generator processes, closed loop; merged throughput and latency."""
    path = f"/webhooks/twilio/{slug}/sms"
    start_at = time.time() + 2.0
    extra = [x for key, value in options.items() for x in (f"--{key.replace('_', '-')}", value)]
    processes = []
    for n in range(clients):
        argv = [
            "--url", server.url + path,
            "--sign-url", server.url + path,
            "--auth-token", AUTH_TOKEN,
            "--to", OUR_NUMBER,
            "--mode", "closed",
            "--seconds", str(seconds),
            "--prefix", f"{prefix}{n}x",
            "--area", ("650", "415", "408", "303")[n % 4],
            "--start-at", str(start_at),
        ]  # fmt: skip
        processes.append(spawn("sms_load.py", *argv, *extra))
    parts = [collect(p, timeout=seconds + 300) for p in processes]
    latencies = [x for part in parts for x in part["latencies_ms"]]
    errors: dict[str, int] = {}
    for part in parts:
        for key, value in part["errors"].items():
            errors[key] = errors.get(key, 0) + value
    elapsed = max(part["elapsed_s"] for part in parts)
    return {
        "ok": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
    }


async def history(
    url: str, tenant: BenchTenant, first_seq: int, messages_wanted: int, real: int
) -> dict[str, Any]:
    """`real` webhooks through a server, every case resolved, then copied to `messages_wanted`;
    `first_seq` is the last event of the tenant's set-up (not copied)."""
    started = time.monotonic()
    with serving(url) as server:
        sent = webhooks(
            server,
            tenant.slug,
            seconds=600,
            prefix="hist",
            clients=1,
            concurrency="4",
            max_requests=str(real),
            senders=str(max(1, real // 4)),
            area="212",
        )
    if sent["ok"] != real:
        raise RuntimeError(f"history: {sent['ok']} of {real} webhooks acknowledged: {sent}")
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            ids = (await conn.execute(select(cases.c.id))).scalars().all()
        system = Principal.for_system(TenantId(tenant.id), "bench")
        for case_id in ids:
            await do_resolve_case(db, system, case_id)
        async with db.engine.begin() as conn:
            # Survey texts would go to Twilio; there is no network here, so count them sent.
            await conn.execute(
                update(outbox)
                .where(outbox.c.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.DONE, done_at=utcnow())
            )
    finally:
        await db.dispose()
    real_s = time.monotonic() - started
    copies = max(0, math.ceil(messages_wanted / real) - 1)
    rows: dict[str, int] = {}
    if copies:
        copied = await multiply(url, tenant.id, copies, first_seq=first_seq)
        rows = copied.rows
    return {
        "real_webhooks": real,
        "real_s": real_s,
        "copies": copies,
        "copy_s": time.monotonic() - started - real_s,
        "rows": rows,
    }


async def count_messages(url: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            found = await conn.execute(select(func.count()).select_from(messages))
            return int(found.scalar_one())
    finally:
        await db.dispose()


async def phases(
    url: str, tenant: BenchTenant, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """One fresh server on `url` through the five phases."""
    before = await count_messages(url)
    workdir = Path(tempfile.mkdtemp(prefix="carepath-memory-"))
    with serving(url) as server, RssSampler(server) as rss:
        await asyncio.sleep(3.0)
        rss.phase = "streams"
        listener = spawn(
            "stream_listen.py",
            "--url", server.url.replace("http://", "ws://") + "/v1/stream",
            "--token", tenant.agent_token,
            "--connections", str(args.streams),
            "--ready", str(workdir / "ready"),
            "--stop", str(workdir / "stop"),
            "--seconds", str(args.seconds + 900),
        )  # fmt: skip
        await _until(lambda: (workdir / "ready").exists(), 120)
        await asyncio.sleep(1.0)
        rss.phase = "reads"
        supervisor = Supervisor(server, tenant.slug)
        await asyncio.to_thread(supervisor.read_all)
        rss.phase = "ingest"
        print(f"{tag}: webhooks for {args.seconds:g} s", file=sys.stderr)
        done = threading.Event()
        reader = supervisor.keep_reading(done)
        load = await asyncio.to_thread(
            webhooks, server, tenant.slug, seconds=args.seconds, prefix=f"m{tag}", clients=2,
            concurrency="4", max_requests=str(int(3000 * args.seconds) + 100),
        )  # fmt: skip
        done.set()
        await asyncio.to_thread(reader.join)
        rss.phase = "end"
        (workdir / "stop").write_text("")
        collect(listener, timeout=60)
        await asyncio.sleep(3.0)
    after = await count_messages(url)
    if after - before != load["ok"]:
        raise AssertionError(f"{tag}: {load['ok']} acknowledged but {after - before} stored")
    return {"stored_before": before, **rss.report(), "ingest": load, "pages": supervisor.report()}


async def _until(ready: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {within_s:g} s")
        await asyncio.sleep(0.05)


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    async with fresh_database(kind, args.postgres, workdir) as url:
        tenant, _ = await prepare(url)
        print(f"{kind}: empty database", file=sys.stderr)
        empty = await phases(url, tenant, args, "e")
    async with fresh_database(kind, args.postgres, workdir) as url:
        tenant, seq = await prepare(url)
        print(f"{kind}: storing {args.messages:,} messages", file=sys.stderr)
        seeded = await history(url, tenant, seq, args.messages, args.history)
        print(f"{kind}: seeded in {seeded['real_s'] + seeded['copy_s']:.0f} s", file=sys.stderr)
        stored = await phases(url, tenant, args, "s")
    return {
        "seeding": seeded,
        "empty": empty,
        "stored": stored,
        "peak_ratio": stored["peak_mb"] / empty["peak_mb"],
        "idle_ratio": stored["idle_mb"] / empty["idle_mb"],
        "ingest_ratio": stored["ingest"]["per_second"] / empty["ingest"]["per_second"],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            results["SQLite"] = await measure("sqlite", args, Path(tmp))
        if args.postgres:
            results["PostgreSQL"] = await measure("postgres", args, Path(tmp))
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| database | stored messages | idle MB | streams MB | reads MB | ingest MB | peak MB "
        "| end MB | ingest msgs/s | p99 ms | dashboard first load s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for database, result in results.items():
        for name in ("empty", "stored"):
            row = result[name]
            phase = row["phase_max_mb"]
            lines.append(
                f"| {database} | {row['stored_before']:,} | {row['idle_mb']:.0f} | "
                f"{phase['streams']:.0f} | {phase['reads']:.0f} | {phase['ingest']:.0f} | "
                f"{row['peak_mb']:.0f} | {row['end_mb']:.0f} | "
                f"{row['ingest']['per_second']:,.0f} | {row['ingest']['p99_ms']:.0f} | "
                f"{row['pages'][PAGES[0]]['first_s']:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="stored before the run")
    parser.add_argument("--quick", action="store_true", help="10^4 messages, short phases")
    parser.add_argument("--seconds", type=float, default=20.0, help="of webhooks")
    parser.add_argument("--streams", type=int, default=20, help="agent streams connected")
    parser.add_argument("--history", type=int, default=400, help="webhooks through the server")
    parser.add_argument(
        "--postgres", default=os.environ.get("CAREPATH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", dest="postgres", action="store_const", const="")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.seconds, args.streams, args.history = 10_000, 2.0, 5, 100
    results = asyncio.run(run(args))
    print(markdown(results))
    result = {
        "benchmark": "stored_memory",
        **run_info(),
        "parameters": {k: v for k, v in vars(args).items() if k != "postgres"},
        "results": results,
    }
    write_result("stored_memory", result)
    return result


if __name__ == "__main__":
    main()
