"""The SMS webhook's tenant and number, kept a short while per process (issue #13).

Every webhook reads the tenant and its account for the number called before the signature
check: one round trip and one pooled connection per message, under load 100+ a second, for rows
that almost never change. Found pairs are kept `webhook_account_cache_s` seconds
(CAREPATH_WEBHOOK_ACCOUNT_CACHE_S, 0 turns it off): for that long this process still accepts
a number that was just deactivated or moved, and still sees the tenant's former settings.
The signature is checked on every request all the same, and a request that fails it against a
kept account is checked once more against the account read fresh: an auth token rotated
meanwhile is honoured at once (a forged request costs the read it did before the cache).
Misses are never kept: an unknown tenant or number is read each time, so a number just added
is found at once.

Written here, not taken from a library: no TTL cache is among the dependencies and this is a
dict in insertion order. Not the dashboard's `web/ui/dashboard_cache.TtlCache` either: that one
keeps whatever its computation returns, misses included, and has no way to replace an entry
with a fresh read. One event loop per process and no await inside, so no lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.storage import Database

MAX_ENTRIES = 4096

Key = tuple[str, Channel, str]
Found = tuple[Tenant, ChannelAccount]


class WebhookAccounts:
    """(tenant ref, channel, number) -> the tenant and its active account, found recently.

    The objects handed out are shared by concurrent requests: detached from their closed read
    (nothing lazy left to load) and only read downstream (the signature, `do_ingest_inbound`).
    """

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, Found]] = OrderedDict()

    async def find(
        self, db: Database, tenant_ref: str, channel: Channel, number: str, *, fresh: bool = False
    ) -> tuple[Tenant | None, ChannelAccount | None]:
        """The tenant and its account for `number`, from the cache or in one read (`fresh`:
        read whatever the cache holds, and keep what was read instead)."""
        key = (tenant_ref, channel, number)
        found = None if fresh else self.get(key)
        if found is not None:
            return found
        async with db.lone_read() as uow:  # one statement: no transaction
            tenant, account = await uow.channel_accounts.with_tenant(tenant_ref, channel, number)
        if tenant is not None and account is not None:
            self.put(key, (tenant, account))
        return tenant, account

    def get(self, key: Key) -> Found | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, found = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        return found

    def put(self, key: Key, found: Found) -> None:
        if self.ttl_s <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self.ttl_s, found)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)  # the oldest: expired soonest anyway

    def __len__(self) -> int:
        return len(self._entries)
