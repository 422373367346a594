"""The Redis doorbell on a real Redis: across instances, across processes, through outages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from carepath.realtime import Listener, RedisDoorbell
from tests import services

# Short timeouts and backoff keep every outage test well under two seconds.
FAST: dict[str, Any] = {"timeout_s": 0.5, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}


@pytest.fixture
def redis_url() -> str:
    return services.need_redis()


@pytest.fixture
def prefix() -> str:
    """A channel prefix of this test's own, so runs sharing the Redis do not hear each other."""
    return f"carepath-test:{uuid.uuid4().hex[:12]}:"


@contextlib.asynccontextmanager
async def running(url: str, prefix: str, **options: Any) -> AsyncIterator[RedisDoorbell]:
    doorbell = RedisDoorbell(url, channel_prefix=prefix, **{**FAST, **options})
    await doorbell.start()
    try:
        yield doorbell
    finally:
        await doorbell.stop()


async def heard_eventually(ringer: RedisDoorbell, listener: Listener, *, within: float) -> int:
    """Ring newer seqs again and again until the listener hears one (a reconnect is under way)."""
    deadline = time.monotonic() + within
    seq = max(listener.latest or 0, 1000)
    while time.monotonic() < deadline:
        seq += 1
        await ringer.ring(listener.tenant_id, seq)
        if (heard := await listener.wait(seq - 1, timeout=0.05)) is not None:
            return heard
    pytest.fail(f"no ring heard within {within} s")


def subscribed(doorbell: RedisDoorbell) -> bool:
    # A function, so mypy does not carry a narrowed `connected` across an outage.
    return doorbell.connected


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_ring_on_one_instance_wakes_listeners_of_that_tenant_on_another(
    redis_url: str, prefix: str
) -> None:
    # given two doorbells, as in two worker processes, with listeners for two tenants on B
    async with (
        running(redis_url, prefix) as a,
        running(redis_url, prefix) as b,
        b.listen("t1") as on_b,
        b.listen("t2") as other_tenant,
        a.listen("t1") as on_a,
    ):
        assert a.connected
        assert b.connected
        waiting = asyncio.create_task(on_b.wait(0, timeout=1.0))
        await asyncio.sleep(0)
        # when A rings for t1
        await a.ring("t1", 42)
        # then the listener on B wakes, the one on A too, and t2's listener does not
        assert await waiting == 42
        assert await on_a.wait(0, timeout=0) == 42
        assert await other_tenant.wait(0, timeout=0.1) is None


async def test_wait_returns_at_once_for_a_ring_heard_before_it(redis_url: str, prefix: str) -> None:
    async with (
        running(redis_url, prefix) as a,
        running(redis_url, prefix) as b,
        b.listen("t1") as listener,
    ):
        await a.ring("t1", 5)
        await a.ring("t1", 4)
        # given the ring has crossed Redis (a later wait hears it)
        assert await listener.wait(0, timeout=1.0) == 5
        # then a second wait is answered without waiting, and a seq already read times out
        started = time.monotonic()
        assert await listener.wait(4, timeout=5.0) == 5
        assert time.monotonic() - started < 0.05
        assert await listener.wait(5, timeout=0.1) is None


async def test_a_ring_from_another_process_is_heard(redis_url: str, prefix: str) -> None:
    child = (
        "import asyncio, sys\n"
        "from carepath.realtime import RedisDoorbell\n"
        "async def main() -> None:\n"
        "    doorbell = RedisDoorbell(sys.argv[1], channel_prefix=sys.argv[2])\n"
        "    await doorbell.start()\n"
        "    await doorbell.ring(sys.argv[3], int(sys.argv[4]))\n"
        "    await doorbell.stop()\n"
        "asyncio.run(main())\n"
    )
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    async with running(redis_url, prefix) as doorbell, doorbell.listen(tenant) as listener:
        # when a separate Python process rings and exits (warnings as errors, dev mode)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "dev",
            "-W",
            "error",
            "-c",
            child,
            redis_url,
            prefix,
            tenant,
            "9",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(5):
            out, err = await process.communicate()
        # then it exited cleanly (no unclosed connection, no pending task) and we heard it
        assert process.returncode == 0, err.decode()
        assert (out, err) == (b"", b"")
        assert await listener.wait(0, timeout=1.0) == 9


async def test_with_redis_down_ring_does_not_raise_and_listeners_time_out(
    caplog: pytest.LogCaptureFixture, prefix: str
) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    caplog.set_level(logging.WARNING, logger="carepath.realtime.redis")
    started = time.monotonic()
    async with (
        running(url, prefix) as a,
        running(url, prefix) as b,
        a.listen("t1") as same_process,
        b.listen("t1") as other_process,
    ):
        # given start() came back without Redis
        assert not a.connected
        # when A rings
        await a.ring("t1", 3)
        # then nothing raised, A's own listener woke, B's timed out (it will poll the DB)
        assert await same_process.wait(0, timeout=0) == 3
        assert await other_process.wait(0, timeout=0.2) is None
    assert time.monotonic() - started < 1.5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("not subscribed" in message for message in warnings), warnings
    assert any("cannot publish" in message for message in warnings), warnings


async def test_a_redis_that_accepts_but_never_answers_does_not_hold_up_ring_or_stop(
    prefix: str,
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        async with running(url, prefix, timeout_s=0.3) as doorbell, doorbell.listen("t1") as me:
            ring_started = time.monotonic()
            await doorbell.ring("t1", 1)
            assert time.monotonic() - ring_started < 0.05
            assert await me.wait(0, timeout=0) == 1
        assert time.monotonic() - started < 1.5


async def test_the_subscriber_reconnects_after_redis_drops_its_connection(
    caplog: pytest.LogCaptureFixture, redis_url: str, prefix: str
) -> None:
    caplog.set_level(logging.WARNING, logger="carepath.realtime.redis")
    name = f"carepath-test-{uuid.uuid4().hex[:8]}"
    admin = Redis.from_url(redis_url)
    try:
        async with (
            running(redis_url, prefix) as a,
            running(redis_url, prefix, client_name=name) as b,
            b.listen("t1") as listener,
        ):
            # when Redis kills B's subscription connection
            clients = await admin.client_list()
            ids = [c["id"] for c in clients if c["name"] == name and int(c["psub"]) > 0]
            assert len(ids) == 1
            await admin.client_kill_filter(_id=ids[0])
            # then B resubscribes by itself and hears A again
            assert await heard_eventually(a, listener, within=1.5) > 1000
            assert b.connected
    finally:
        await admin.aclose()
    assert any("not subscribed" in r.getMessage() for r in caplog.records)


async def test_stop_returns_when_the_subscriber_loses_its_cancellation(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, prefix: str
) -> None:
    # Python 3.11's asyncio.wait_for, which redis-py sends commands with, swallows a cancellation
    # that lands as the send completes; the subscriber then goes back to a blocking read.
    subscribe_once = RedisDoorbell._subscribe_once

    async def loses_its_cancellation(doorbell: RedisDoorbell) -> None:
        try:
            await subscribe_once(doorbell)
        except asyncio.CancelledError:
            async with doorbell._subscriber.pubsub() as pubsub:
                await pubsub.psubscribe(prefix + "*")
                await pubsub.get_message(timeout=4)

    monkeypatch.setattr(RedisDoorbell, "_subscribe_once", loses_its_cancellation)
    doorbell = RedisDoorbell(redis_url, channel_prefix=prefix, **FAST)
    await doorbell.start()
    assert doorbell.connected
    subscriber = doorbell._tasks[0]
    # when it stops, then it returns within its bounds and the subscriber has ended
    started = time.monotonic()
    async with asyncio.timeout(3):
        await doorbell.stop()
    assert time.monotonic() - started < 3 * FAST["timeout_s"]
    assert subscriber.done()
    assert not doorbell.connected


class Outage:
    """A TCP relay to Redis that can be cut and restored on the same port, like a restart."""

    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._path = parts.path
        self._server: asyncio.Server | None = None
        self._relays: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        # Frozen: connections stay open but nothing gets through, like a peer that vanished
        # without closing (a NAT timeout, a failover).
        self.frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self._path}"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.close()
                with contextlib.suppress(ConnectionError):
                    await w.wait_closed()
            self._relays.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if not self.frozen:
                    writer.write(data)
                    await writer.drain()
        writer.close()


async def test_after_a_redis_outage_rings_flow_again_both_ways(
    caplog: pytest.LogCaptureFixture, redis_url: str, prefix: str
) -> None:
    caplog.set_level(logging.INFO, logger="carepath.realtime.redis")
    outage = Outage(redis_url)
    await outage.up()
    try:
        # given A publishes and B subscribes through a Redis that is about to go away
        async with (
            running(outage.url, prefix) as a,
            running(outage.url, prefix) as b,
            b.listen("t1") as listener,
        ):
            assert await heard_eventually(a, listener, within=1.0) > 1000
            # when Redis goes down
            await outage.down()
            # (far above heard_eventually's seqs, one of which may still be on its way)
            await a.ring("t1", 10**6)
            assert await listener.wait(10**6 - 1, timeout=0.2) is None
            assert not subscribed(b)
            # and comes back on the same address
            await outage.up()
            # then B resubscribes and A publishes again
            assert await heard_eventually(a, listener, within=1.5) > 1001
            assert subscribed(b)
    finally:
        await outage.down()
    messages = [r.getMessage() for r in caplog.records]
    assert any("cannot publish" in m for m in messages), messages
    assert any("publishes to" in m and "again" in m for m in messages), messages


async def test_a_silent_half_open_connection_is_detected_by_keepalive_and_replaced(
    caplog: pytest.LogCaptureFixture, redis_url: str, prefix: str
) -> None:
    caplog.set_level(logging.WARNING, logger="carepath.realtime.redis")
    outage = Outage(redis_url)
    await outage.up()
    try:
        async with (
            running(redis_url, prefix) as a,
            running(outage.url, prefix, keepalive_s=0.1) as b,
            b.listen("t1") as listener,
        ):
            # given an idle subscription stays up on its PINGs
            await asyncio.sleep(0.35)
            assert subscribed(b)
            assert caplog.records == []
            # when the connection goes silent without closing
            outage.frozen = True
            for _ in range(50):
                if not subscribed(b):
                    break
                await asyncio.sleep(0.02)
            assert not subscribed(b)
            # then B notices the missing PONG, and once the path is back it hears rings again
            outage.frozen = False
            assert await heard_eventually(a, listener, within=1.5) > 1000
    finally:
        await outage.down()
    assert any("no reply from Redis" in r.getMessage() for r in caplog.records)
