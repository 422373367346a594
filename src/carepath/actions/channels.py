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


async def do_update_channel_account(
    db: Database,
    actor: Principal,
    box: SecretBox,
    account_id: str,
    *,
    name: str,
    address: str,
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
) -> ChannelAccount:
    """Rename, re-address or reconfigure an account, validated as on creation. `secrets` are
    merged into the sealed ones (a token rotated, others kept); None keeps them all."""
    authorize(actor, Permission.MANAGE_CHANNELS)
    try:
        async with db.uow() as uow:
            found = await uow.channel_accounts.get(actor.tenant_id, account_id)
            account = scoped(actor, found, "channel account")
            account.edit(name=name, address=address, config=config)
            taken = await uow.channel_accounts.by_address(account.channel, account.address)
            if taken is not None and taken.id != account.id:
                raise _taken(account)
            if secrets:
                kept = box.open(account.secrets_sealed) if account.secrets_sealed else {}
                account.secrets_sealed = box.seal({**kept, **secrets})
            await uow.audit.record(
                AuditEntry(
                    tenant_id=actor.tenant_id,
                    actor=actor.actor,
                    action="channel_account.updated",
                    subject=account.id,
                    data={"address": account.address, "secrets": sorted(secrets or {})},
                )
            )
    except IntegrityError as exc:
        raise _taken(account) from exc
    return account


def _taken(account: ChannelAccount) -> Conflict:
    return Conflict(
        f"{account.address} is already used by a {account.channel} account", field="address"
    )
