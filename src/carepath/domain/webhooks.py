"""Outgoing webhooks for integrators: which events go where, and how each delivery is signed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from carepath.domain.clock import utcnow
from carepath.errors import InvalidInput
from carepath.ids import TenantId, new_id

SIGNATURE_HEADER = "X-Carepath-Signature"
ALL_EVENTS = "*"


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex hmac-sha256 of "<t>." + body>`; the signed timestamp stops replays."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook(
    secret: str, header: str, body: bytes, *, now: int, tolerance_s: int = 300
) -> bool:
    """What a receiver does; shipped so integrators and tests check signatures the same way."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign_webhook(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass(eq=False)
class WebhookEndpoint:
    tenant_id: TenantId
    url: str
    event_types: list[str]
    secret: str = field(default_factory=lambda: f"whsec_{secrets.token_urlsafe(32)}")
    id: str = field(default_factory=lambda: new_id("webhook"))
    active: bool = True
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def create(cls, tenant_id: TenantId, url: str, event_types: list[str]) -> WebhookEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput("a webhook URL must be an absolute http(s) URL", field="url")
        if not event_types:
            raise InvalidInput(
                f"list the event types to send, or {ALL_EVENTS!r}", field="event_types"
            )
        return cls(tenant_id=tenant_id, url=url, event_types=sorted(set(event_types)))

    def wants(self, event_type: str) -> bool:
        return self.active and (ALL_EVENTS in self.event_types or event_type in self.event_types)
