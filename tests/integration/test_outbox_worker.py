"""The outbox worker with real receivers: retries with backoff, giving up, leases, many workers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from carepath.actions import do_create_webhook, do_delete_webhook
from carepath.delivery import HandlerContext
from carepath.delivery.registry import build_handlers, http_client
from carepath.domain import Tenant
from carepath.domain.clock import utcnow
from carepath.domain.events import Event
from carepath.domain.outbox import MAX_ATTEMPTS, OutboxItem, OutboxStatus
from carepath.errors import DeliveryFailed
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.tables import outbox
from carepath.worker import OutboxWorker
from tests import services
from tests.factories import make_tenant, system
from tests.processes import free_port
from tests.receiver import Receiver


class Clock:
    """The worker's time, moved by the test so backoffs and leases pass without sleeping."""

    def __init__(self) -> None:
        # A little ahead, so items the test makes after this are due at once.
        self.now = utcnow() + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now

    def advance_to(self, when: datetime) -> None:
        self.now = max(self.now, when)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def webhook_worker(
    db: Database, settings: Settings, http: httpx.AsyncClient, clock: Clock
) -> OutboxWorker:
    return OutboxWorker(db, build_handlers(settings, http), name="test-worker", clock=clock)


async def emit(db: Database, tenant: Tenant, type_: str = "case.updated") -> Event:
    async with db.uow() as uow:
        return await uow.events.append(tenant.id, type_, {"case_id": "case_1", "status": "open"})


async def subscribe(db: Database, tenant: Tenant, url: str) -> str:
    endpoint = await do_create_webhook(
        db, system(tenant), url=url, event_types=["*"], allow_private=True
    )
    return endpoint.id


async def only_item(db: Database, tenant: Tenant) -> OutboxItem:
    async with db.uow(write=False) as uow:
        page = await uow.outbox.list(tenant.id, status=None, limit=10, cursor=None)
    assert len(page.items) == 1
    return page.items[0]


async def enqueue(db: Database, tenant: Tenant, kind: str, count: int = 1) -> list[str]:
    # The worker's own contract, below the webhook layer: any kind, any payload.
    items = [OutboxItem(tenant_id=tenant.id, kind=kind, payload={"n": n}) for n in range(count)]
    async with db.uow() as uow:
        for item in items:
            uow.outbox.add(item)
    return [item.id for item in items]


async def test_a_failing_receiver_gets_the_event_again_with_backoff_until_it_accepts(
    db: Database, webhook_worker: OutboxWorker, clock: Clock
) -> None:
    # given a receiver that fails twice before it accepts, subscribed to everything
    tenant = await make_tenant(db)
    async with Receiver([503, 500]) as receiver:
        await subscribe(db, tenant, receiver.url)
        event = await emit(db, tenant)

        # when the worker runs: the first attempt fails and is put off by 1-2 s
        assert await webhook_worker.run_once() == 1
        first = await only_item(db, tenant)
        assert (first.status, first.attempts) == (OutboxStatus.PENDING, 1)
        assert first.last_error is not None
        assert "HTTP 503" in first.last_error
        assert timedelta(seconds=1) <= first.available_at - clock.now <= timedelta(seconds=2)
        # and nothing is due again until then
        assert await webhook_worker.run_once() == 0

        # the second attempt fails too and waits longer (2-4 s)
        clock.advance_to(first.available_at)
        assert await webhook_worker.run_once() == 1
        second = await only_item(db, tenant)
        assert second.attempts == 2
        assert timedelta(seconds=2) <= second.available_at - clock.now <= timedelta(seconds=4)

        # the third is accepted
        clock.advance_to(second.available_at)
        assert await webhook_worker.run_once() == 1
        assert await webhook_worker.run_once() == 0

    # then the receiver saw the same event three times and accepted it once
    assert receiver.answered == [503, 500, 200]
    assert {r.headers["x-carepath-event-id"] for r in receiver.requests} == {str(event.seq)}
    assert len({r.body for r in receiver.requests}) == 1
    done = await only_item(db, tenant)
    assert (done.status, done.attempts, done.last_error) == (OutboxStatus.DONE, 3, None)
    assert done.done_at == clock.now
    assert done.locked_until is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (408, OutboxStatus.PENDING),
        (429, OutboxStatus.PENDING),
        (500, OutboxStatus.PENDING),
        (502, OutboxStatus.PENDING),
        (400, OutboxStatus.DEAD),
        (401, OutboxStatus.DEAD),
        (404, OutboxStatus.DEAD),
        (410, OutboxStatus.DEAD),
        (302, OutboxStatus.DEAD),
    ],
)
async def test_a_refusal_is_retried_only_when_trying_again_can_help(
    db: Database, webhook_worker: OutboxWorker, status: int, outcome: OutboxStatus
) -> None:
    # given a receiver that refuses with `status`
    tenant = await make_tenant(db)
    async with Receiver([status], reply=b"no such hook here") as receiver:
        await subscribe(db, tenant, receiver.url)
        await emit(db, tenant)
        # when the worker delivers
        assert await webhook_worker.run_once() == 1
    # then the item waits for a retry or is dead, saying why
    item = await only_item(db, tenant)
    assert item.status == outcome
    assert item.last_error is not None
    assert f"HTTP {status}" in item.last_error
    assert "no such hook here" in item.last_error


async def test_a_delivery_gives_up_after_its_last_attempt(
    db: Database, webhook_worker: OutboxWorker, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # given a receiver that is down for good
    tenant = await make_tenant(db)
    async with Receiver([503] * MAX_ATTEMPTS) as receiver:
        await subscribe(db, tenant, receiver.url)
        await emit(db, tenant)
        # when the worker tries each time the item comes due
        for _ in range(MAX_ATTEMPTS):
            assert await webhook_worker.run_once() == 1
            clock.advance_to((await only_item(db, tenant)).available_at)
        # then after the last attempt it is dead, and stays so
        clock.advance(timedelta(days=1))
        assert await webhook_worker.run_once() == 0
    item = await only_item(db, tenant)
    assert (item.status, item.attempts) == (OutboxStatus.DEAD, MAX_ATTEMPTS)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert any(f"gave up after {MAX_ATTEMPTS} attempts" in r.getMessage() for r in caplog.records)


async def test_a_dead_delivery_is_not_tried_again(
    db: Database, webhook_worker: OutboxWorker, clock: Clock
) -> None:
    # given a delivery refused with 404
    tenant = await make_tenant(db)
    async with Receiver([404]) as receiver:
        await subscribe(db, tenant, receiver.url)
        await emit(db, tenant)
        assert await webhook_worker.run_once() == 1
        # when a day passes
        clock.advance(timedelta(days=1))
        # then nothing is due, and the receiver heard once
        assert await webhook_worker.run_once() == 0
    assert len(receiver.requests) == 1
    assert (await only_item(db, tenant)).status == OutboxStatus.DEAD


async def test_a_receiver_that_is_down_is_retried(
    db: Database, webhook_worker: OutboxWorker
) -> None:
    # given an endpoint where nothing listens
    tenant = await make_tenant(db)
    await subscribe(db, tenant, f"http://127.0.0.1:{free_port()}/hook")
    await emit(db, tenant)
    # when the worker delivers
    assert await webhook_worker.run_once() == 1
    # then the connection failure is retryable
    item = await only_item(db, tenant)
    assert item.status == OutboxStatus.PENDING
    assert item.last_error is not None
    assert "ConnectError" in item.last_error


async def test_a_deleted_endpoint_gets_nothing_and_its_delivery_says_so(
    db: Database, webhook_worker: OutboxWorker
) -> None:
    # given an event queued for an endpoint that is then deleted
    tenant = await make_tenant(db)
    async with Receiver() as receiver:
        endpoint_id = await subscribe(db, tenant, receiver.url)
        await emit(db, tenant)
        await do_delete_webhook(db, system(tenant), endpoint_id)
        # when the worker runs
        assert await webhook_worker.run_once() == 1
    # then nothing was sent and the delivery is dead with the reason
    assert receiver.requests == []
    item = await only_item(db, tenant)
    assert item.status == OutboxStatus.DEAD
    assert item.last_error == "not sent: the webhook endpoint was deleted"


async def test_an_item_no_handler_of_this_worker_knows_waits_for_one_that_does(
    db: Database, webhook_worker: OutboxWorker, clock: Clock
) -> None:
    # given an item of a kind this worker cannot handle (a channel it has no sender for, or a
    # newer version's kind during a rolling deploy)
    tenant = await make_tenant(db)
    await enqueue(db, tenant, "carrier_pigeon")
    # when the worker runs, it leaves the item alone: not leased, not attempted, not dead
    assert await webhook_worker.run_once() == 0
    item = await only_item(db, tenant)
    assert (item.status, item.attempts, item.locked_by) == (OutboxStatus.PENDING, 0, None)

    # and a worker that knows the kind takes it
    async def pigeon(item: OutboxItem, ctx: HandlerContext) -> None:
        return None

    assert await OutboxWorker(db, {"carrier_pigeon": pigeon}, name="p", clock=clock).run_once() == 1


async def test_an_unexpected_exception_in_a_handler_is_a_retryable_failure(
    db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # given a handler with a bug
    async def broken(item: OutboxItem, ctx: HandlerContext) -> None:
        raise RuntimeError(f"bug while handling {item.payload['n']}")

    tenant = await make_tenant(db)
    await enqueue(db, tenant, "job")
    worker = OutboxWorker(db, {"job": broken}, name="w", clock=clock)
    # when the worker runs it
    assert await worker.run_once() == 1
    # then the item waits for a retry, the error is recorded, and the traceback logged
    item = await only_item(db, tenant)
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert item.last_error == "RuntimeError: bug while handling 0"
    assert any(r.exc_info and "failed unexpectedly" in r.getMessage() for r in caplog.records)


async def test_an_item_of_a_worker_that_died_runs_again_when_its_lease_expires(
    db: Database, clock: Clock
) -> None:
    # given an item leased by a worker that then died without recording anything
    tenant = await make_tenant(db)
    await enqueue(db, tenant, "job")
    async with db.uow() as uow:
        claimed = await uow.outbox.claim(
            worker="died",
            now=clock.now,
            lease=timedelta(seconds=60),
            limit=10,
            skip_locked=False,
            kinds=["job"],
        )
    assert len(claimed) == 1
    ran: list[str] = []

    async def job(item: OutboxItem, ctx: HandlerContext) -> None:
        ran.append(ctx.worker)

    survivor = OutboxWorker(db, {"job": job}, name="survivor", clock=clock)
    # when another worker looks before the lease ends, it leaves the item alone
    clock.advance(timedelta(seconds=59))
    assert await survivor.run_once() == 0
    # and after it ends, it runs the item
    clock.advance(timedelta(seconds=2))
    assert await survivor.run_once() == 1
    # then the item ran (again) and is done
    assert ran == ["survivor"]
    item = await only_item(db, tenant)
    assert (item.status, item.attempts, item.locked_by) == (OutboxStatus.DONE, 2, "survivor")


async def test_a_worker_that_lost_its_lease_does_not_overwrite_the_result(
    db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # given a slow worker holding an item, and a second worker
    tenant = await make_tenant(db)
    await enqueue(db, tenant, "job")
    slow_started = asyncio.Event()
    slow_may_finish = asyncio.Event()
    ran: list[str] = []

    async def job(item: OutboxItem, ctx: HandlerContext) -> None:
        ran.append(ctx.worker)
        if ctx.worker == "slow":
            slow_started.set()
            await slow_may_finish.wait()
            raise DeliveryFailed("gave up late", retryable=False)

    lease = timedelta(seconds=30)
    slow = OutboxWorker(db, {"job": job}, name="slow", clock=clock, lease=lease)
    fast = OutboxWorker(db, {"job": job}, name="fast", clock=clock, lease=lease)
    slow_run = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(slow_started.wait(), 10)
    # while the lease holds, the other worker does not take the item
    assert await fast.run_once() == 0

    # when the lease expires, the other worker takes it over and succeeds
    clock.advance(lease + timedelta(seconds=1))
    assert await fast.run_once() == 1
    # and the slow worker then finishes with a failure
    slow_may_finish.set()
    assert await asyncio.wait_for(slow_run, 10) == 1

    # then the success stands: the stale result was dropped
    assert ran == ["slow", "fast"]
    item = await only_item(db, tenant)
    assert (item.status, item.attempts, item.locked_by) == (OutboxStatus.DONE, 2, "fast")
    assert item.last_error is None
    assert any("lease lost" in r.getMessage() for r in caplog.records)


async def test_run_keeps_going_until_stopped(db: Database) -> None:
    # given a worker running in the background
    tenant = await make_tenant(db)
    handled = asyncio.Queue[int]()

    async def job(item: OutboxItem, ctx: HandlerContext) -> None:
        await handled.put(item.payload["n"])

    worker = OutboxWorker(db, {"job": job}, name="loop", idle_sleep=0.02)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    # when items arrive while it idles
    await asyncio.sleep(0.05)
    await enqueue(db, tenant, "job", count=3)
    # then it handles them, and stops when asked
    got = [await asyncio.wait_for(handled.get(), 10) for _ in range(3)]
    assert sorted(got) == [0, 1, 2]
    stop.set()
    await asyncio.wait_for(running, 10)


async def test_run_outlives_database_errors_and_carries_on_when_the_database_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given a worker started on a database that is not usable yet (no schema)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'late.db'}")
    handled = asyncio.Queue[int]()

    async def job(item: OutboxItem, ctx: HandlerContext) -> None:
        await handled.put(item.payload["n"])

    worker = OutboxWorker(db, {"job": job}, name="patient", idle_sleep=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        # then it logs the failures and keeps trying, backing off
        for _ in range(1000):
            if sum("claiming failed" in r.getMessage() for r in caplog.records) >= 2:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the worker did not report the database errors")
        assert not running.done()
        # when the database becomes usable and work arrives, it does the work
        await migrations.upgrade(db)
        await enqueue(db, await make_tenant(db), "job")
        assert await asyncio.wait_for(handled.get(), 15) == 0
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        await db.dispose()


# --- several workers at once --------------------------------------------------------------------


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
async def database_url_for_workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A database of its own, so each worker can have its own connection pool on it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}"
        return
    async with services.fresh_postgres_database(services.need_postgres()) as url:
        yield url


async def test_several_workers_run_every_item_exactly_once(database_url_for_workers: str) -> None:
    # given 300 due items and 3 workers, each with its own database pool (as separate processes)
    items = 300
    setup = Database(database_url_for_workers)
    await migrations.upgrade(setup)
    pools = [Database(database_url_for_workers) for _ in range(3)]
    try:
        tenant = await make_tenant(setup)
        ids = await enqueue(setup, tenant, "count", count=items)
        calls: Counter[str] = Counter()
        by_worker: Counter[str] = Counter()
        in_flight: Counter[str] = Counter()
        overlaps: list[str] = []

        async def count(item: OutboxItem, ctx: HandlerContext) -> None:
            in_flight[item.id] += 1
            if in_flight[item.id] > 1:
                overlaps.append(item.id)
            try:
                await asyncio.sleep(0.001 * (item.payload["n"] % 4))  # let the others interleave
                calls[item.id] += 1
                by_worker[ctx.worker] += 1
            finally:
                in_flight[item.id] -= 1

        workers = [
            OutboxWorker(pool, {"count": count}, name=f"w{i}", batch=10, idle_sleep=0.02)
            for i, pool in enumerate(pools)
        ]
        stop = asyncio.Event()
        started = time.monotonic()
        # when they run concurrently until every item is done
        running = [asyncio.create_task(w.run(stop)) for w in workers]
        deadline = started + 90
        while await _done(setup) < items:
            assert time.monotonic() < deadline, f"only {await _done(setup)} of {items} done"
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running), 30)
        async with setup.uow(write=False) as uow:
            attempts = (await uow.session.execute(select(outbox.c.attempts))).scalars().all()
    finally:
        for pool in [*pools, setup]:
            await pool.dispose()
    print(f"{items} items, 3 workers: {elapsed:.2f}s ({dict(by_worker)})")

    # then every item ran exactly once, never twice at the same time, and all are done
    assert overlaps == []
    assert set(calls) == set(ids)
    assert set(calls.values()) == {1}
    if not database_url_for_workers.startswith("sqlite"):
        # Sharing is PostgreSQL's (SKIP LOCKED). SQLite takes one writer at a time with no
        # fairness between connections: one worker may lease every batch, which is correct.
        assert sorted(by_worker) == ["w0", "w1", "w2"], by_worker
    assert sorted(set(attempts)) == [1]
    assert elapsed < 60


async def _done(db: Database) -> int:
    async with db.uow(write=False) as uow:
        query = select(func.count()).where(outbox.c.status == OutboxStatus.DONE)
        return int((await uow.session.execute(query)).scalar_one())
