"""The per-process cache of parsed tenant configurations: keyed by version, bounded, LRU."""

from __future__ import annotations

import pytest

from carepath.tenant_config import TenantConfig
from carepath.tenant_config.versions import ParsedConfigs


def test_a_version_is_found_only_under_its_own_tenant_and_number() -> None:
    # given one parsed version
    cache = ParsedConfigs(size=4)
    config = TenantConfig()
    cache.put("ten_a", 1, config)
    # then only that exact key finds it
    assert cache.get("ten_a", 1) is config
    assert cache.get("ten_a", 2) is None
    assert cache.get("ten_b", 1) is None


def test_the_least_recently_used_version_goes_first_when_full() -> None:
    # given a full cache whose oldest entry was read again
    cache = ParsedConfigs(size=2)
    first, second, third = TenantConfig(), TenantConfig(), TenantConfig()
    cache.put("ten_a", 1, first)
    cache.put("ten_a", 2, second)
    assert cache.get("ten_a", 1) is first
    # when a third version arrives
    cache.put("ten_a", 3, third)
    # then the entry not read since is dropped, the bound holds
    assert len(cache) == 2
    assert cache.get("ten_a", 2) is None
    assert cache.get("ten_a", 1) is first
    assert cache.get("ten_a", 3) is third


def test_a_cache_must_hold_something() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ParsedConfigs(size=0)
