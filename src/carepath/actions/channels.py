"""Channel accounts: a tenant's mailbox, number or page on a channel (admin)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.errors import Conflict
from carepath.secretbox import SecretBox
from carepath.storage import Database


async def do_create_channel_account(
    db: Database,
    actor: Principal,
    box: SecretBox,
    *,
    channel: Channel,
    name: str,
    address: str,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> ChannelAccount:
    authorize(actor, Permission.MANAGE_CHANNELS)
    account = ChannelAccount.create(
        actor.tenant_id,
        channel,
        name=name,
        address=address,
        config=config,
        secrets_sealed=box.seal(secrets) if secrets else "",
    )
    taken = Conflict(f"{account.address} is already used by a {channel} account", field="address")
    try:
        async with db.uow() as uow:
            if await uow.channel_accounts.by_address(account.channel, account.address):
                raise taken
            uow.channel_accounts.add(account)
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="channel_account.created",
                    subject=account.id,
                    # secret names only: the values never reach the audit trail
                    data={
                        "channel": channel.value,
                        "address": account.address,
                        "secrets": sorted(secrets or {}),
                    },
                )
            )
    except IntegrityError as exc:
        raise taken from exc
    return account


async def do_set_channel_account_active(
    db: Database, actor: Principal, account_id: str, *, active: bool
) -> ChannelAccount:
    authorize(actor, Permission.MANAGE_CHANNELS)
    async with db.uow() as uow:
        account = scoped(
            actor, await uow.channel_accounts.get(actor.tenant_id, account_id), "channel account"
        )
        if account.active != active:
            account.active = active
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="channel_account.activated" if active else "channel_account.deactivated",
                    subject=account.id,
                )
            )
    return account
