"""Several dispatchers, as separate processes, on one PostgreSQL database: 1,000 work items and 50
agents whose work ends while the dispatchers run. Every item is assigned exactly once, no agent is
ever above capacity (checked from the assignment records), nothing is left stuck, and a dispatcher
killed with SIGKILL mid-run leaves nothing behind that its offers' timeout does not clear."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from carepath.access import Principal
from carepath.actions.agents import do_set_agent_profile, do_set_presence
from carepath.actions.cases import do_resolve_case
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.actions.work import enqueue_case
from carepath.actions.work_offers import do_accept_work
from carepath.domain.cases import Case, Priority
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.domain.events import Event
from carepath.errors import Conflict
from carepath.ids import TenantId, UserId
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.records import WorkRecord, WorkStatus
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.tables import events, work_items
from carepath.tenant_config import Treatment, TreatmentKind
from carepath.types import Role
from tests import services
from tests.agents import routing_config
from tests.factories import make_company, make_user, system

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SKILLS = ("general", "returns", "billing")
DISPATCHER = (
    "import asyncio, sys\n"
    "from carepath.routing.dispatcher import serve\n"
    "asyncio.run(serve(sys.argv[1], name=sys.argv[2], idle_sleep=0.02))\n"
)


@dataclass(frozen=True)
class Capacity:
    messaging: int
    voice: int
    total: int


@dataclass
class Setup:
    db: Database
    url: str
    tenant_id: TenantId
    capacity: dict[UserId, Capacity]


@pytest.fixture
async def shared_postgres() -> AsyncIterator[str]:
    async with services.fresh_postgres_database(services.need_postgres()) as url:
        yield url


async def set_up(url: str, *, items: int, agents: int, auto_accept: bool) -> Setup:
    """A tenant with `agents` online agents (all skills, random proficiency and capacity) and
    `items` queued cases, 80% chat and 20% voice, of random skill and priority."""
    rng = random.Random(7)
    db = Database(url, pool_size=10)
    await migrations.upgrade(db)
    company = await make_company(db)
    tenant_id = company.tenant.id
    config = routing_config(
        auto_accept=auto_accept, offer_timeout_s=2, sticky_window_s=0, min_proficiency=1
    )
    await do_apply_tenant_config(db, system(company.tenant), config)
    capacity: dict[UserId, Capacity] = {}
    # Users concurrently: hashing their passwords is most of the setup.
    users = await asyncio.gather(*(make_user(db, company.tenant) for _ in range(agents)))
    for user in users:
        voice = rng.randint(0, 1)
        messaging = rng.randint(1, 3)
        total = min(3, messaging + voice)
        await do_set_agent_profile(
            db,
            system(company.tenant),
            user.id,
            skills={s: rng.randint(1, 5) for s in SKILLS},
            capacity={"messaging": messaging, "voice": voice},
            total_capacity=total,
        )
        await do_set_presence(db, as_agent(tenant_id, user.id), Presence.ONLINE)
        capacity[user.id] = Capacity(messaging, voice, total)
    for start in range(0, items, 50):
        async with db.uow() as uow:
            for n in range(start, min(items, start + 50)):
                customer = Customer.create(tenant_id)
                uow.customers.add(customer)
                await uow.flush()  # no ORM relationships: the customer before its case
                channel = Channel.VOICE if n % 5 == 0 else Channel.CHAT
                case = Case.open(tenant_id, customer.id, channel)
                uow.cases.add(case)
                await uow.flush()
                skill, priority = rng.choice(SKILLS), rng.choice(list(Priority))
                treatment = Treatment(
                    TreatmentKind.LIVE, skill, priority, 600, False, False, ("test",)
                )
                await enqueue_case(uow, case, treatment)
    return Setup(db, url, tenant_id, capacity)


def as_agent(tenant_id: TenantId, user_id: UserId) -> Principal:
    return Principal(tenant_id=tenant_id, role=Role.AGENT, user_id=user_id)


@contextmanager
def dispatchers(url: str, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    procs = [
        subprocess.Popen([sys.executable, "-c", DISPATCHER, url, f"d{n}"], env=env)
        for n in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_dispatcher(url: str, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return subprocess.Popen([sys.executable, "-c", DISPATCHER, url, name], env=env)


async def all_work(db: Database, tenant_id: TenantId) -> list[WorkRecord]:
    async with db.uow(write=False) as uow:
        query = select(WorkRecord).where(work_items.c.tenant_id == tenant_id)
        return list((await uow.session.scalars(query)).all())


async def finish_some(setup: Setup, rng: random.Random) -> int:
    """Agents end part of the work they hold (resolving the case), a few at a time."""
    held = [w for w in await all_work(setup.db, setup.tenant_id) if w.status is WorkStatus.ASSIGNED]
    chosen = rng.sample(held, min(len(held), 20))

    async def resolve(work: WorkRecord) -> None:
        assert work.assigned_to is not None
        await do_resolve_case(setup.db, as_agent(setup.tenant_id, work.assigned_to), work.case_id)

    await asyncio.gather(*(resolve(w) for w in chosen))
    return len(chosen)


async def accept_offers(setup: Setup) -> int:
    """Agents accept what is offered to them (an expired offer is refused: skipped)."""
    work = await all_work(setup.db, setup.tenant_id)
    offered = [w for w in work if w.status is WorkStatus.OFFERED]
    slots = asyncio.Semaphore(8)

    async def accept(work: WorkRecord) -> int:
        assert work.offered_to is not None
        async with slots:
            try:
                await do_accept_work(setup.db, as_agent(setup.tenant_id, work.offered_to), work.id)
            except Conflict:
                return 0
        return 1

    return sum(await asyncio.gather(*(accept(w) for w in offered)))


async def run_until_done(setup: Setup, deadline_s: float, *, accept: bool) -> None:
    rng = random.Random(11)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        work = await all_work(setup.db, setup.tenant_id)
        if all(w.status is WorkStatus.DONE for w in work):
            return
        if accept:
            await accept_offers(setup)
        await finish_some(setup, rng)
        await asyncio.sleep(0.01)
    left = Counter(w.status.value for w in await all_work(setup.db, setup.tenant_id))
    pytest.fail(f"not all work done within {deadline_s} s: {dict(left)}")


async def check_records(setup: Setup) -> None:
    """Each item assigned exactly once; no agent ever above capacity, by kind or in total."""
    work = await all_work(setup.db, setup.tenant_id)
    assert all(w.status is WorkStatus.DONE and w.assigned_to is not None for w in work)
    async with setup.db.uow(write=False) as uow:
        query = select(Event).where(
            events.c.tenant_id == setup.tenant_id, events.c.type == "work.assigned"
        )
        assigned = Counter(e.payload["work_id"] for e in (await uow.session.scalars(query)).all())
    assert len(assigned) == len(work)
    assert set(assigned.values()) == {1}, "an item was assigned more than once"
    timeline: dict[UserId, list[tuple[datetime, int, ChannelKind]]] = defaultdict(list)
    for w in work:
        assert w.assigned_to is not None
        assert w.assigned_at is not None
        assert w.finished_at is not None
        timeline[w.assigned_to].append((w.assigned_at, 1, w.channel_kind))
        timeline[w.assigned_to].append((w.finished_at, -1, w.channel_kind))
    for agent, changes in timeline.items():
        cap = setup.capacity[agent]
        held = {ChannelKind.MESSAGING: 0, ChannelKind.VOICE: 0}
        # At the same instant, work that ended frees its slot before new work takes one.
        for _at, delta, kind in sorted(changes, key=lambda c: (c[0], c[1])):
            held[kind] += delta
            assert held[ChannelKind.MESSAGING] <= cap.messaging, (agent, held, cap)
            assert held[ChannelKind.VOICE] <= cap.voice, (agent, held, cap)
            assert sum(held.values()) <= cap.total, (agent, held, cap)


@pytest.mark.timeout(600)
async def test_three_dispatcher_processes_assign_each_item_once_within_capacity(
    shared_postgres: str,
) -> None:
    # given 1,000 queued items and 50 online agents
    setup = await set_up(shared_postgres, items=1000, agents=50, auto_accept=True)
    try:
        # when three dispatcher processes run while agents finish their work
        with dispatchers(shared_postgres, 3) as procs:
            await run_until_done(setup, 240, accept=False)
            assert all(p.poll() is None for p in procs), "a dispatcher died"
        # then every item was assigned once, and nobody was ever above capacity
        await check_records(setup)
    finally:
        await setup.db.dispose()


@pytest.mark.timeout(600)
async def test_a_dispatcher_killed_mid_run_leaves_nothing_stuck(shared_postgres: str) -> None:
    # given offers that must be accepted within 2 s, and two dispatchers
    setup = await set_up(shared_postgres, items=300, agents=50, auto_accept=False)
    try:
        steady = start_dispatcher(shared_postgres, "steady")
        doomed = start_dispatcher(shared_postgres, "doomed")
        try:
            # when one is killed with SIGKILL while both run, five times over, and nobody
            # answers the offers in flight meanwhile
            for _ in range(5):
                await asyncio.sleep(random.uniform(0.5, 1.5))
                doomed.kill()
                doomed.wait()
                doomed = start_dispatcher(shared_postgres, "doomed")
            doomed.kill()
            doomed.wait()
            await asyncio.sleep(2.5)
            # then, once the offers' timeout has passed, none is left open past its expiry
            await asyncio.sleep(1.0)
            stale = [
                w
                for w in await all_work(setup.db, setup.tenant_id)
                if w.status is WorkStatus.OFFERED
                and w.offer_expires_at is not None
                and (time.time() - w.offer_expires_at.timestamp()) > 1.0
            ]
            assert stale == []
            # and the survivor finishes everything with the agents accepting their offers
            await run_until_done(setup, 180, accept=True)
            assert steady.poll() is None
        finally:
            steady.send_signal(signal.SIGTERM)
            steady.wait(timeout=20)
        await check_records(setup)
    finally:
        await setup.db.dispose()
