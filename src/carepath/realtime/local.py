"""In-process doorbell: rings reach the listeners of this process only (one worker)."""

from __future__ import annotations

from carepath.realtime.hub import Listener


class LocalDoorbell:
    """Rings reach only listeners in this process; use `RedisDoorbell` when several workers run."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ring(self, tenant_id: str, seq: int) -> None:
        self.ring_nowait(tenant_id, seq)

    def ring_nowait(self, tenant_id: str, seq: int) -> None:
        """`ring` for callers outside a coroutine; it never waits, whatever the listeners do."""
        for listener in self._listeners.get(tenant_id, ()):
            listener._ring(seq)

    def listen(self, tenant_id: str) -> Listener:
        return Listener(tenant_id, self._listeners)

    def listener_count(self, tenant_id: str | None = None) -> int:
        """How many listeners are entered, for one tenant or for all (a gauge for metrics)."""
        if tenant_id is not None:
            return len(self._listeners.get(tenant_id, ()))
        return sum(len(listeners) for listeners in self._listeners.values())
