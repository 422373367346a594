"""The in-process doorbell: who wakes, when, and that nobody waits on a slow listener."""

from __future__ import annotations

import asyncio
import time

import pytest

from carepath.errors import ConfigurationError
from carepath.realtime import LocalDoorbell, RedisDoorbell, make_doorbell


async def test_a_ring_wakes_a_waiting_listener_of_the_same_tenant_only() -> None:
    # given a listener for each of two tenants, both waiting
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1") as mine, doorbell.listen("t2") as other:
        waiting_mine = asyncio.create_task(mine.wait(0, timeout=1.0))
        waiting_other = asyncio.create_task(other.wait(0, timeout=0.2))
        await asyncio.sleep(0)
        # when tenant t1 rings
        await doorbell.ring("t1", 7)
        # then t1's listener wakes with the seq, and t2's times out
        assert await waiting_mine == 7
        assert await waiting_other is None


async def test_wait_returns_at_once_for_a_ring_that_came_before_it() -> None:
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1") as listener:
        await doorbell.ring("t1", 3)
        started = time.monotonic()
        assert await listener.wait(2, timeout=5.0) == 3
        assert time.monotonic() - started < 0.1


async def test_wait_times_out_with_none_when_nothing_newer_rang() -> None:
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1") as listener:
        await doorbell.ring("t1", 5)
        # a seq the caller has already read does not count
        started = time.monotonic()
        assert await listener.wait(5, timeout=0.1) is None
        assert 0.09 < time.monotonic() - started < 0.5
        assert await listener.wait(5, timeout=0) is None


async def test_a_ring_before_the_listener_was_entered_is_not_seen() -> None:
    # given a ring nobody listened for (the caller reads the DB after entering, so it is safe)
    doorbell = LocalDoorbell()
    await doorbell.ring("t1", 1)
    async with doorbell.listen("t1") as listener:
        assert listener.latest is None
        assert await listener.wait(0, timeout=0.05) is None


async def test_every_listener_of_a_tenant_wakes() -> None:
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1") as a, doorbell.listen("t1") as b, doorbell.listen("t1") as c:
        waits = [asyncio.create_task(x.wait(10, timeout=1.0)) for x in (a, b, c)]
        await asyncio.sleep(0)
        await doorbell.ring("t1", 11)
        assert await asyncio.gather(*waits) == [11, 11, 11]


async def test_a_slow_listener_keeps_only_the_highest_seq_and_does_not_hold_up_rings() -> None:
    # given a listener that is busy elsewhere and not waiting
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1") as listener:
        # when thousands of rings arrive, out of order
        started = time.monotonic()
        for seq in [*range(1, 10_000), 5]:
            await doorbell.ring("t1", seq)
        # then ringing took no time and the listener sees just the highest seq
        assert time.monotonic() - started < 1.0
        assert listener.latest == 9_999
        assert await listener.wait(0, timeout=0) == 9_999


async def test_a_listener_leaves_the_registry_when_it_exits() -> None:
    doorbell = LocalDoorbell()
    async with doorbell.listen("t1"), doorbell.listen("t2"):
        assert doorbell.listener_count("t1") == 1
        assert doorbell.listener_count() == 2
    assert doorbell.listener_count() == 0
    # a ring for a tenant nobody listens to is a no-op
    await doorbell.ring("t1", 1)


async def test_wait_outside_the_context_manager_is_a_programming_error() -> None:
    listener = LocalDoorbell().listen("t1")
    with pytest.raises(RuntimeError, match="enter the listener first"):
        await listener.wait(0, timeout=0.01)


async def test_make_doorbell_picks_redis_only_when_a_url_is_set() -> None:
    assert isinstance(make_doorbell(None), LocalDoorbell)
    assert isinstance(make_doorbell(""), LocalDoorbell)
    # no connection is made until start()
    assert isinstance(make_doorbell("redis://127.0.0.1:1/0"), RedisDoorbell)


async def test_an_invalid_redis_url_is_a_configuration_error_without_the_password() -> None:
    with pytest.raises(ConfigurationError, match="invalid Redis URL") as raised:
        make_doorbell("http://user:hunter2@127.0.0.1/0")
    assert "hunter2" not in str(raised.value)
