"""Parsed tenant configurations by (tenant, version), kept per process. A stored version never
changes (applying a file stores the next version), so a new version is a new key and nothing
needs invalidating; the bound only keeps a process with many tenants from growing without end."""

from __future__ import annotations

from collections import OrderedDict

from carepath.tenant_config.model import TenantConfig

DEFAULT_SIZE = 512


class ParsedConfigs:
    """A bounded, least-recently-used map of (tenant id, version) to its validated config.
    Configs are frozen models, so one instance can be handed to every caller."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._items: OrderedDict[tuple[str, int], TenantConfig] = OrderedDict()

    def get(self, tenant_id: str, version: int) -> TenantConfig | None:
        key = (tenant_id, version)
        config = self._items.get(key)
        if config is not None:
            self._items.move_to_end(key)
        return config

    def put(self, tenant_id: str, version: int, config: TenantConfig) -> None:
        self._items[(tenant_id, version)] = config
        self._items.move_to_end((tenant_id, version))
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


# The process's cache: configs are the same whichever database connection read them.
PARSED_CONFIGS = ParsedConfigs()
