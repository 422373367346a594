"""Cross-process doorbell: rings travel over Redis pub/sub and fan out locally in each process."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from carepath.errors import ConfigurationError
from carepath.realtime.hub import Listener
from carepath.realtime.local import LocalDoorbell

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "carepath:events:"


class RedisDoorbell:
    """Publishes each ring on `{prefix}{tenant_id}`; one pattern subscription per process hears all.

    `ring` never waits for Redis: it wakes local listeners at once and leaves the seq to a
    background publisher, which keeps only the highest pending seq per tenant and sends them in
    one pipeline. While Redis is unreachable rings are dropped with a warning and the subscriber
    reconnects with jittered exponential backoff; listeners meanwhile fall back to polling the DB.
    """

    def __init__(
        self,
        url: str,
        *,
        channel_prefix: str = CHANNEL_PREFIX,
        timeout_s: float = 2.0,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 10.0,
        keepalive_s: float = 15.0,
        client_name: str = "carepath-doorbell",
    ) -> None:
        self._where = _redact(url)
        self._prefix = channel_prefix
        self._timeout_s = timeout_s
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = reconnect_max_s
        self._keepalive_s = keepalive_s
        self._local = LocalDoorbell()
        try:
            # The subscriber handles every error itself (to log it and back off), so redis-py must
            # not retry and silently resubscribe behind its back.
            self._subscriber: Redis = Redis.from_url(
                url,
                socket_connect_timeout=timeout_s,
                socket_timeout=timeout_s,
                retry=Retry(NoBackoff(), 0, supported_errors=()),
                client_name=client_name,
            )
            # One immediate retry replaces a pooled connection that died with a Redis restart.
            self._publisher: Redis = Redis.from_url(
                url,
                socket_connect_timeout=timeout_s,
                socket_timeout=timeout_s,
                retry=Retry(NoBackoff(), 1),
                client_name=client_name,
            )
        except ValueError as exc:
            raise ConfigurationError(
                f"invalid Redis URL {self._where!r}: {exc}", setting="CAREPATH_REDIS_URL"
            ) from exc
        self._pending: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._connected = False
        self._stopping = False
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        """Whether the subscription is live (for health checks); rings still work without it."""
        return self._connected

    def listener_count(self, tenant_id: str | None = None) -> int:
        return self._local.listener_count(tenant_id)

    async def start(self) -> None:
        """Subscribe in the background; waits for the first attempt, never fails for Redis."""
        if self._started:
            raise RuntimeError("a RedisDoorbell starts once; make a new one")
        self._started = True
        self._tasks = [
            asyncio.create_task(self._subscribe_forever(), name="carepath-doorbell-subscriber"),
            asyncio.create_task(self._publish_forever(), name="carepath-doorbell-publisher"),
        ]
        try:
            async with asyncio.timeout(2 * self._timeout_s):
                await self._settled.wait()
        except TimeoutError:
            logger.warning("Redis doorbell: no subscription to %s yet; still trying", self._where)

    async def stop(self) -> None:
        """Flush pending rings (bounded by `timeout_s`), then cancel and close everything."""
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _subscriber, publisher = tasks
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait([publisher], timeout=self._timeout_s)
        finally:
            for task in tasks:
                task.cancel()
            # A cancellation can be lost: on Python 3.11, asyncio.wait_for (which redis-py sends
            # commands with) swallows one that lands as the send completes, and the task goes
            # back to reading. So the loops also watch _stopping, and closing the connections
            # ends that read; every wait here is bounded, since a stop must never hang shutdown.
            _, pending = await asyncio.wait(tasks, timeout=self._timeout_s)
            await self._subscriber.aclose()
            await self._publisher.aclose()
            if pending:
                _, pending = await asyncio.wait(pending, timeout=self._timeout_s)
            for task in tasks:
                if task in pending:
                    logger.error("Redis doorbell: %s did not stop; left behind", task.get_name())
                elif not task.cancelled() and (exc := task.exception()) is not None:
                    logger.error("Redis doorbell: %s failed", task.get_name(), exc_info=exc)
            self._connected = False

    async def ring(self, tenant_id: str, seq: int) -> None:
        self._local.ring_nowait(tenant_id, seq)
        if not self._tasks:
            return
        pending = self._pending.get(tenant_id)
        if pending is None or seq > pending:
            self._pending[tenant_id] = seq
        self._wake.set()

    def listen(self, tenant_id: str) -> Listener:
        return self._local.listen(tenant_id)

    async def _publish_forever(self) -> None:
        delay = self._reconnect_min_s
        failing = False
        while True:
            if not self._pending:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._pending = self._pending, {}
            try:
                async with asyncio.timeout(self._timeout_s):
                    await self._publish(batch)
            except Exception as exc:
                if self._stopping:
                    return
                if not failing:
                    logger.warning(
                        "Redis doorbell cannot publish to %s (%s); dropping rings, listeners in "
                        "other processes poll the DB until it is back",
                        self._where,
                        _describe(exc),
                    )
                failing = True
                # Rings that arrive during the pause coalesce in _pending and go out after it.
                await asyncio.sleep(_jitter(delay))
                delay = min(2 * delay, self._reconnect_max_s)
                continue
            if failing:
                logger.info("Redis doorbell publishes to %s again", self._where)
                failing = False
                delay = self._reconnect_min_s

    async def _publish(self, batch: dict[str, int]) -> None:
        async with self._publisher.pipeline(transaction=False) as pipe:
            for tenant_id, seq in batch.items():
                pipe.publish(self._prefix + tenant_id, seq)
            await pipe.execute()

    async def _subscribe_forever(self) -> None:
        delay = self._reconnect_min_s
        attempt = 0
        while True:
            error = "subscription ended"
            try:
                await self._subscribe_once()
            except Exception as exc:
                error = _describe(exc)
            if self._stopping:
                return
            if self._connected:
                self._connected = False
                delay = self._reconnect_min_s
                attempt = 0
            attempt += 1
            pause = _jitter(delay)
            logger.warning(
                "Redis doorbell is not subscribed to %s (%s); retrying in %.2f s (attempt %d)",
                self._where,
                error,
                pause,
                attempt,
            )
            self._settled.set()
            await asyncio.sleep(pause)
            delay = min(2 * delay, self._reconnect_max_s)

    async def _subscribe_once(self) -> None:
        """Runs until the connection fails (it raises) or the doorbell stops."""
        loop = asyncio.get_running_loop()
        async with self._subscriber.pubsub() as pubsub:
            await pubsub.psubscribe(_glob_escape(self._prefix) + "*")
            heard = loop.time()
            while not self._stopping:
                message = await pubsub.get_message(timeout=self._keepalive_s)
                now = loop.time()
                if message is not None:
                    heard = now
                    self._handle(message)
                elif now - heard >= 2 * self._keepalive_s:
                    # A half-open TCP connection reads nothing forever; a missing PONG reveals it.
                    raise ConnectionError(f"no reply from Redis for {now - heard:.1f} s")
                else:
                    await pubsub.ping()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "psubscribe":
            # psubscribe() returns once the command is sent; only this reply means that rings
            # published from now on will reach us.
            if not self._connected:
                logger.info("Redis doorbell subscribed to %s", self._where)
            self._connected = True
            self._settled.set()
        elif kind == "pmessage":
            channel = bytes(message["channel"]).decode("utf-8", "replace")
            try:
                seq = int(message["data"])
            except (TypeError, ValueError):
                logger.warning("Redis doorbell: ignoring %r on %s", message["data"], channel)
                return
            self._local.ring_nowait(channel.removeprefix(self._prefix), seq)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _jitter(delay: float) -> float:
    # Spread reconnects so that every worker does not hit a restarted Redis in the same instant.
    return random.uniform(delay / 2, delay)  # noqa: S311 (timing jitter, not a secret)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _redact(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))
