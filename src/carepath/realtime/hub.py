"""The doorbell interface: "tenant T now has events up to seq N"; the events table is the record."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Protocol


class Doorbell(Protocol):
    """Tells listeners that a tenant's event log grew; they then read the DB from their last seq.

    A ring may be lost (a Redis outage, a restart); a listener only loses latency, because it
    polls the DB when `wait` times out.
    """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ring(self, tenant_id: str, seq: int) -> None:
        """Announce that `tenant_id` has committed events up to `seq`. Never raises for I/O."""
        ...

    def listen(self, tenant_id: str) -> Listener:
        """A listener for one tenant; use it as `async with doorbell.listen(tenant_id) as l:`."""
        ...


class Listener:
    """Remembers the highest seq rung for one tenant while it is entered.

    Only the highest seq is kept, so a listener that is slow to call `wait` costs nothing to the
    ringer and holds no queue. Enter it *before* reading the DB, so that a ring for a commit
    that lands between the read and `wait` is not missed.
    """

    __slots__ = ("_event", "_latest", "_registry", "_tenant_id")

    def __init__(self, tenant_id: str, registry: dict[str, set[Listener]]) -> None:
        self._tenant_id = tenant_id
        self._registry = registry
        self._latest: int | None = None
        self._event: asyncio.Event | None = None

    @property
    def tenant_id(self) -> str:
        return self._tenant_id

    @property
    def latest(self) -> int | None:
        """The highest seq rung since this listener was entered, or None."""
        return self._latest

    async def __aenter__(self) -> Listener:
        if self._event is not None:
            raise RuntimeError("a Listener can be entered only once")
        self._event = asyncio.Event()
        self._registry.setdefault(self._tenant_id, set()).add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        listeners = self._registry.get(self._tenant_id)
        if listeners is not None:
            listeners.discard(self)
            if not listeners:
                # Thousands of tenants come and go; keep the registry to those being listened to.
                del self._registry[self._tenant_id]

    # A timeout here is an ordinary outcome (None: go poll the DB), not an error to raise.
    async def wait(self, after: int, timeout: float) -> int | None:  # noqa: ASYNC109
        """The highest seq rung if it is > `after` (at once if already rung), else None at timeout.

        None means "no ring heard", not "no events": the caller polls the DB anyway.
        """
        event = self._event
        if event is None:
            raise RuntimeError("enter the listener first: `async with doorbell.listen(...)`")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._latest is not None and self._latest > after:
                return self._latest
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            event.clear()
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                continue

    def _ring(self, seq: int) -> None:
        if self._latest is None or seq > self._latest:
            self._latest = seq
            if self._event is not None:
                self._event.set()
