"""The audit trail: who changed what, when; written by actions, never edited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.ids import TenantId, new_id


@dataclass(eq=False)
class AuditEntry:
    tenant_id: TenantId
    actor: str
    action: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_id("audit"))
    at: datetime = field(default_factory=utcnow)
