"""Rate limits and login lockout, counted by the `limits` library: in memory for one process, in
Redis (CAREPATH_REDIS_URL) so that every process of a deployment shares the same counts.

Two kinds of question are asked here: "may this client make one more call of this kind?"
(`hit`, which counts the call) and "is this login locked out?" (`check_login` before the password
is even looked at, `login_failed` after a wrong one). Both answer with `RateLimited`, whose data
carries `retry_after_s`; the web layer turns that into 429 and a Retry-After header.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from carepath.errors import RateLimited
from carepath.settings import Settings

log = logging.getLogger("carepath.ratelimits")

KEY_PREFIX = "carepath-limits"
T = TypeVar("T")


@dataclass(frozen=True)
class LimitPolicy:
    """The numbers, from settings: `login` and `public` are per client address ("10/minute")."""

    enabled: bool = True
    login: str = "20/minute"
    public: str = "120/minute"
    lockout_failures: int = 5
    lockout_address_failures: int = 20
    lockout_s: int = 900


def storage_for(redis_url: str | None) -> tuple[Storage, ConnectionPool | None]:
    """Memory, or Redis through a pool of our own (limits' Redis storage has no close)."""
    if not redis_url:
        return MemoryStorage(), None
    pool = ConnectionPool.from_url(redis_url)
    storage = RedisStorage(
        "async+" + redis_url,
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=KEY_PREFIX,
        connection_pool=pool,  # type: ignore[arg-type]  # passed through to redis-py
    )
    return storage, pool


class RateLimits:
    """One per app. Counters live in `storage`; a moving window so no burst slips in at a
    window's edge, and a lockout lasts until the oldest counted failure is `lockout_s` old."""

    def __init__(
        self, policy: LimitPolicy, storage: Storage, pool: ConnectionPool | None = None
    ) -> None:
        self.policy = policy
        self.storage = storage
        self.pool = pool
        self.limiter = MovingWindowRateLimiter(storage)
        self.login_rate = parse(policy.login)
        self.public_rate = parse(policy.public)
        self.account_lockout = RateLimitItemPerSecond(policy.lockout_failures, policy.lockout_s)
        self.address_lockout = RateLimitItemPerSecond(
            policy.lockout_address_failures, policy.lockout_s
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()

    async def hit(self, kind: str, address: str) -> None:
        """Count one call of `kind` ("login", or a public group) from `address`, or refuse it."""
        item = self.login_rate if kind == "login" else self.public_rate
        if not self.policy.enabled:
            return
        if not await self._safely(self.limiter.hit(item, kind, address), default=True):
            retry = await self._retry_after(item, kind, address)
            raise RateLimited(
                f"too many requests; try again in {retry} s",
                retry_after_s=retry,
                limit=str(item),
            )

    async def check_login(self, address: str, tenant: str, email: str) -> None:
        """Refuse a login while this account, or this address, is locked out."""
        if not self.policy.enabled:
            return
        for item, keys in self._lockouts(address, tenant, email):
            if not await self._safely(self.limiter.test(item, *keys), default=True):
                retry = await self._retry_after(item, *keys)
                raise RateLimited(
                    "too many failed logins; try again later",
                    code="login_locked",
                    retry_after_s=retry,
                )

    async def login_failed(self, address: str, tenant: str, email: str) -> None:
        if not self.policy.enabled:
            return
        for item, keys in self._lockouts(address, tenant, email):
            await self._safely(self.limiter.hit(item, *keys), default=True)

    def _lockouts(
        self, address: str, tenant: str, email: str
    ) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        # Case-folded: "Ann@X.com" and "ann@x.com" are the same account to the lockout too.
        account = ("lockout-account", tenant.strip().lower(), email.strip().lower())
        return [(self.account_lockout, account), (self.address_lockout, ("lockout-ip", address))]

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self._safely(self.limiter.get_window_stats(item, *keys), default=None)
        if stats is None:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _safely(self, call: Awaitable[T], *, default: T) -> T:
        """A counter store that is down lets calls through (logged): passwords and signatures
        still protect every route, and an outage of Redis must not lock every user out."""
        try:
            return await call
        except StorageError as exc:
            reason = type(exc.storage_error).__name__
            log.warning("rate limit storage unavailable, not limiting: %s", reason)
            return default


def rate_limits_for(settings: Settings) -> RateLimits:
    policy = LimitPolicy(
        enabled=settings.rate_limits,
        login=settings.rate_limit_login,
        public=settings.rate_limit_public,
        lockout_failures=settings.login_lockout_failures,
        lockout_address_failures=settings.login_lockout_address_failures,
        lockout_s=settings.login_lockout_s,
    )
    return RateLimits(policy, *storage_for(settings.redis_url))
