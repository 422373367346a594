"""Persisted assignments per second: the dispatcher (a plan per round from a RoutingIndex, committed
in batches under row locks, each decision checked again) against a naive baseline in the same run
(one transaction per assignment: the waiting work read in queue order with ORDER BY, every agent
scanned with choose_agent_naive), on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/dispatch.py [--items 2000 --agents 200 --skills 20]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres | --no-postgres]

Prints a Markdown table and writes benchmarks/results/dispatch.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from recording import run_info, write_result
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from carepath.access import Principal
from carepath.actions.dispatch import Decision, commit_decisions
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.actions.tenants import do_create_tenant
from carepath.actions.work import routing_of
from carepath.domain import User
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.ids import TenantId
from carepath.routing.dispatcher import Dispatcher
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.policy import choose_agent_naive
from carepath.routing.records import AgentProfile, WorkKind, WorkRecord, WorkStatus, seconds
from carepath.routing.tenant_rules import TenantRouting
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.tables import work_items
from carepath.types import Role

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
CONFIG = f"""\
business_hours: {{timezone: UTC, weekly: {json.dumps(DAY)}}}
routing: {{min_proficiency: 1, auto_accept: true}}
strategy: {{defaults: {{treatment: live, skill: general, sla_seconds: 600}}}}
"""


async def seed(db: Database, args: argparse.Namespace) -> TenantId:
    """One tenant: `agents` online agents (5 of `skills` skills each, proficiency 1-5, room for
    12 chats and 4 calls within 16) and `items` waiting cases (80% chat, 20% voice), random
    skill and priority, written in bulk."""
    rng = random.Random(args.seed)  # noqa: S311 - synthetic data, not security
    tenant = await do_create_tenant(db, slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
    await do_apply_tenant_config(db, Principal.for_system(tenant.id, "bench"), CONFIG)
    names = [f"s{n:02d}" for n in range(args.skills)]
    now = datetime.now(UTC)
    async with db.uow() as uow:
        users = [
            User(tenant.id, f"agent{n}@bench.example.com", f"Agent {n}", Role.AGENT, None)
            for n in range(args.agents)
        ]
        uow.session.add_all(users)
        await uow.flush()
        uow.session.add_all(
            AgentProfile(
                tenant_id=tenant.id,
                user_id=user.id,
                skills={s: rng.randint(1, 5) for s in rng.sample(names, min(5, len(names)))},
                capacity={"messaging": 12, "voice": 4},
                total_capacity=16,
                presence=Presence.ONLINE,
                idle_since=now - timedelta(seconds=rng.uniform(0, 600)),
            )
            for user in users
        )
        customers = [Customer.create(tenant.id, now=now) for _ in range(args.items)]
        uow.session.add_all(customers)
        await uow.flush()
        cases = [
            Case.open(
                tenant.id,
                c.id,
                Channel.VOICE if n % 5 == 0 else Channel.CHAT,
                status=CaseStatus.QUEUED,
                now=now,
            )
            for n, c in enumerate(customers)
        ]
        uow.session.add_all(cases)
        await uow.flush()
        uow.session.add_all(
            WorkRecord(
                tenant_id=tenant.id,
                kind=WorkKind.CASE,
                subject_id=case.id,
                case_id=case.id,
                skill=rng.choice(names),
                channel_kind=ChannelKind.of(case.channel),
                enqueued_at=now - timedelta(seconds=rng.uniform(1, 30)),
                priority=rng.randint(0, 3),
                sla_due_at=now + timedelta(seconds=rng.uniform(60, 600)),
            )
            for case in cases
        )
    return tenant.id


async def run_dispatcher(db: Database, tenant_id: TenantId, batch: int) -> int:
    dispatcher = Dispatcher(db, batch=batch)
    assigned = 0
    while (changed := await dispatcher.run_once()) > 0:
        assigned += changed
    return assigned


async def run_naive(db: Database, tenant_id: TenantId, batch: int) -> int:
    """One transaction per assignment: the first waiting item in queue order that any agent
    may take (read with ORDER BY, a page at a time), the agent from a scan of all of them."""
    del batch
    async with db.uow(write=False) as uow:
        routing = await routing_of(uow, tenant_id)
    assigned = 0
    while (decision := await _naive_decision(db, tenant_id, routing)) is not None:
        done = await commit_decisions(db, tenant_id, routing, [decision], lambda: datetime.now(UTC))
        assigned += done.assigned
    return assigned


async def _naive_decision(
    db: Database, tenant_id: TenantId, routing: TenantRouting
) -> Decision | None:
    now = datetime.now(UTC)
    async with db.uow(write=False) as uow:
        profiles = await uow.agents.online(tenant_id)
        loads = await uow.work.loads(tenant_id)
        agents = [p.state(loads.get(p.user_id, {})) for p in profiles]
        offset = 0
        while True:
            query = (
                select(WorkRecord)
                .where(
                    work_items.c.tenant_id == tenant_id,
                    work_items.c.status == WorkStatus.WAITING,
                    work_items.c.enqueued_at <= now,
                )
                .order_by(
                    work_items.c.priority.desc(),
                    work_items.c.sla_due_at.asc().nulls_last(),
                    work_items.c.enqueued_at,
                    work_items.c.id,
                )
                .limit(50)
                .offset(offset)
            )
            page = list((await uow.session.scalars(query)).all())
            for work in page:
                agent = choose_agent_naive(work.item(), agents, seconds(now), routing.rules)
                if agent is not None:
                    return Decision(work.id, agent)
            if len(page) < 50:
                return None
            offset += 50


async def assigned_count(db: Database, tenant_id: TenantId) -> int:
    async with db.uow(write=False) as uow:
        query = select(func.count()).where(
            work_items.c.tenant_id == tenant_id, work_items.c.status == WorkStatus.ASSIGNED
        )
        return int((await uow.session.execute(query)).scalar_one())


async def measure(url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    rows = {}
    for name, implementation in (("dispatcher", run_dispatcher), ("naive", run_naive)):
        db = Database(url)
        try:
            await migrations.upgrade(db)
            tenant_id = await seed(db, args)
            started = time.perf_counter()
            assigned = await implementation(db, tenant_id, args.batch)
            elapsed = time.perf_counter() - started
            assert assigned == await assigned_count(db, tenant_id) == args.items, assigned
        finally:
            await db.dispose()
        rows[name] = {"assigned": assigned, "seconds": elapsed, "per_second": assigned / elapsed}
        print(f"  {name}: {assigned} in {elapsed:.1f}s", file=sys.stderr)
    return rows


@asynccontextmanager
async def fresh_postgres(server: str) -> AsyncIterator[str]:
    name = f"carepath_bench_{uuid.uuid4().hex[:10]}"
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(server)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await asyncpg.connect(dsn, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def run(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite", file=sys.stderr)
        results["SQLite"] = await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.postgres:
        print("PostgreSQL", file=sys.stderr)
        async with fresh_postgres(args.postgres) as url:
            results["PostgreSQL"] = await measure(url, args)
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--skills", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50, help="decisions per transaction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres", default=os.environ.get("CAREPATH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", dest="postgres", action="store_const", const="")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(f"\n{args.items} waiting items, {args.agents} agents, {args.skills} skills\n")
    print(
        "| database | implementation | assignments | seconds | assignments per second | vs naive |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for database, rows in results.items():
        naive = rows["naive"]["per_second"]
        for name, row in rows.items():
            print(
                f"| {database} | {name} | {row['assigned']:,.0f} | {row['seconds']:.1f} | "
                f"{row['per_second']:,.0f} | {row['per_second'] / naive:.1f}x |"
            )
    result = {
        "benchmark": "dispatch",
        **run_info(),
        "parameters": {k: v for k, v in vars(args).items() if k != "postgres"},
        "results": results,
    }
    write_result("dispatch", result)
    return result


if __name__ == "__main__":
    main()
