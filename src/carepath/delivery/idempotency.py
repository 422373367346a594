"""The Idempotency-Key header carepath puts on every provider send.

A worker killed after the provider accepted a message but before the outbox recorded it runs
the item again (delivery is at least once). The key is the outbox item's id, the same on every
attempt: a provider that honours it (the IETF httpapi Idempotency-Key draft; Telnyx, and the
local emulator) answers the repeat with the first send's result instead of sending again.
Providers that ignore it (Twilio's Messages API and Meta's Graph API document no such key) may
deliver a duplicate in that window; docs/reliability.md says which.
"""

from __future__ import annotations

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_header(key: str) -> dict[str, str]:
    """The header for one send, or none when there is no key (a send outside the outbox)."""
    return {IDEMPOTENCY_HEADER: key} if key else {}
