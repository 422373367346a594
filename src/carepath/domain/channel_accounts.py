"""A tenant's account on a channel: its inbound address and how carepath sends through it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, normalize_identity
from carepath.domain.properties import clean_properties
from carepath.errors import InvalidInput
from carepath.ids import TenantId, new_id

MAX_CONFIG_BYTES = 8 * 1024
_OPAQUE = re.compile(r"[A-Za-z0-9._:@+-]{1,200}")


def normalize_address(channel: Channel, address: str) -> str:
    """The address providers deliver to: an email address, an E.164 number, or a provider id
    (a WhatsApp phone number id, a page id) — matched exactly on every inbound request."""
    if channel is Channel.EMAIL:
        return normalize_identity(IdentityKind.EMAIL, address)
    if channel in (Channel.SMS, Channel.VOICE):
        return normalize_identity(IdentityKind.PHONE, address)
    address = address.strip()
    if not _OPAQUE.fullmatch(address):
        raise InvalidInput("an address is 1-200 letters, digits or . _ : @ + -", field="address")
    return address


@dataclass(eq=False)
class ChannelAccount:
    tenant_id: TenantId
    channel: Channel
    name: str
    address: str
    config: dict[str, Any] = field(default_factory=dict)
    secrets_sealed: str = ""
    active: bool = True
    id: str = field(default_factory=lambda: new_id("channel_account"))
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def create(
        cls,
        tenant_id: TenantId,
        channel: Channel,
        *,
        name: str,
        address: str,
        config: dict[str, Any] | None = None,
        secrets_sealed: str = "",
    ) -> ChannelAccount:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("a channel account needs a name (1-200 characters)", field="name")
        channel = Channel(channel)
        if not channel.is_conversational:
            raise InvalidInput(f"{channel} carries no conversations", field="channel")
        return cls(
            tenant_id=tenant_id,
            channel=channel,
            name=name,
            address=normalize_address(channel, address),
            config=clean_properties(config or {}, field="config", max_bytes=MAX_CONFIG_BYTES),
            secrets_sealed=secrets_sealed,
        )

    def edit(self, *, name: str, address: str, config: dict[str, Any]) -> None:
        """New name, address and settings, checked as on creation; the channel stays."""
        checked = ChannelAccount.create(
            self.tenant_id, self.channel, name=name, address=address, config=config
        )
        self.name, self.address, self.config = checked.name, checked.address, checked.config
