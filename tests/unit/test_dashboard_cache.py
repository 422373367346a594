"""The dashboard's short-lived cache: one computation per key while fresh, again once stale,
one computation for concurrent requests, failures not kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from carepath.web.ui.dashboard_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_value_is_kept_for_the_ttl_then_computed_again() -> None:
    clock = Clock()
    cache = TtlCache(30, clock=clock)
    made: list[int] = []

    async def make() -> int:
        made.append(len(made))
        return len(made)

    assert await cache.get("k", make) == 1
    clock.now = 29.9
    assert await cache.get("k", make) == 1
    assert await cache.get("other", make) == 2
    clock.now = 30.0
    assert await cache.get("k", make) == 3
    assert cache.computed == 3


async def test_concurrent_requests_share_one_computation() -> None:
    cache = TtlCache()
    release = asyncio.Event()
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "figures"

    waiting = [asyncio.create_task(cache.get("k", slow)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["figures"] * 5
    assert calls == 1


async def test_a_failure_is_not_kept() -> None:
    cache = TtlCache()

    async def broken() -> int:
        raise RuntimeError("database away")

    async def fine() -> int:
        return 7

    with pytest.raises(RuntimeError):
        await cache.get("k", broken)
    assert await cache.get("k", fine) == 7


async def test_the_oldest_entries_go_past_the_limit() -> None:
    cache = TtlCache(max_entries=2)

    def value(text: str) -> Callable[[], Awaitable[str]]:
        async def make() -> str:
            return text

        return make

    for key in ("a", "b", "c"):
        await cache.get(key, value(key))
    assert await cache.get("a", value("again")) == "again"
    assert await cache.get("c", value("again")) == "c"


async def test_expired_entries_are_dropped_on_the_next_request() -> None:
    clock = Clock()
    cache = TtlCache(30, clock=clock)

    async def make() -> str:
        return "tables"

    for key in ("a", "b"):
        await cache.get(key, make)
    clock.now = 15.0
    await cache.get("c", make)
    clock.now = 30.0
    await cache.get("c", make)
    # a and b expired at 30 and are gone; c (until 45) is kept, well below the size limit
    assert len(cache) == 1


async def test_an_idle_cache_drops_its_values_when_they_expire() -> None:
    cache = TtlCache(0.05)

    async def make() -> str:
        return "tables"

    await cache.get("a", make)
    await asyncio.sleep(0.03)
    await cache.get("b", make)
    # no request comes: the timer drops both, each once it expires
    for _ in range(200):
        if not len(cache):
            break
        await asyncio.sleep(0.01)
    assert len(cache) == 0
