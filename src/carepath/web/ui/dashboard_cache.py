"""A short-lived cache of dashboard figures per tenant and filters, so that a board many
supervisors keep open costs one computation per TTL, not one per page view."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")
TTL_S = 30.0
MAX_ENTRIES = 256


class TtlCache:
    """Values by key for `ttl_s` seconds, the oldest dropped past `max_entries`. Concurrent
    requests for a key being computed wait for that one computation (single flight); a failure
    is not kept, so the next request tries again. Expired values are dropped, on each request
    and by a timer while any are kept: a tenant's tables are large, and an idle board must not
    keep them."""

    def __init__(
        self,
        ttl_s: float = TTL_S,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.computed = 0
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future[Any]] = {}
        self._sweep: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        self.drop_expired()
        found = self._entries.get(key)
        if found is not None and found[0] > self.clock():
            return cast(T, found[1])
        running = self._running.get(key)
        if running is not None:
            return cast(T, await asyncio.shield(running))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            value = await make()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            # Waiters get the error too; none may be waiting, so mark it retrieved.
            future.exception()
            raise
        else:
            future.set_result(value)
            self.computed += 1
            self._put(key, value)
            return value
        finally:
            del self._running[key]

    def _put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self.clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self.ttl_s, self._swept)

    def drop_expired(self) -> None:
        # Every entry lives `ttl_s` from its put, and puts move it last: the expired lead.
        now = self.clock()
        while self._entries and next(iter(self._entries.values()))[0] <= now:
            self._entries.popitem(last=False)

    def _swept(self) -> None:
        self._sweep = None
        self.drop_expired()
        if self._entries:
            first = next(iter(self._entries.values()))[0]
            delay = max(0.0, first - self.clock())
            self._sweep = asyncio.get_running_loop().call_later(delay, self._swept)
