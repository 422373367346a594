"""A stored version of a tenant's configuration file (the last one applied is in force)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.ids import TenantId


@dataclass(eq=False)
class TenantConfigVersion:
    tenant_id: TenantId
    version: int
    document: dict[str, Any]  # the validated configuration, as JSON
    source: str  # the YAML as applied, for review and diffs
    applied_by: str
    applied_at: datetime = field(default_factory=utcnow)
