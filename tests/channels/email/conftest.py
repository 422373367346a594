"""Email test fixtures: the captured .eml files, a tenant's support address, the SMTP listener."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from carepath.actions.channels import do_create_channel_account
from carepath.channels.email import EmailCounters, EmailInbox, SmtpListener
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import Company, make_company, system

FIXTURES = Path(__file__).parent / "fixtures"
SUPPORT = "support@acme-outfitters.example.com"


def eml(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def add_email_account(
    db: Database,
    company: Company,
    address: str = SUPPORT,
    *,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> ChannelAccount:
    return await do_create_channel_account(
        db,
        system(company.tenant),
        SecretBox(TEST_SECRET),
        channel=Channel.EMAIL,
        name="Acme Outfitters Support",
        address=address,
        config=config,
        secrets=secrets,
    )


@dataclass
class Mailroom:
    """A tenant with a support address, and carepath's SMTP listener in front of it."""

    company: Company
    account: ChannelAccount
    listener: SmtpListener
    counters: EmailCounters

    @property
    def port(self) -> int:
        return self.listener.port


@pytest.fixture
async def company(db: Database) -> Company:
    return await make_company(db)


@pytest.fixture
async def mailroom(db: Database, settings: Settings, company: Company) -> AsyncIterator[Mailroom]:
    account = await add_email_account(db, company)
    counters = EmailCounters()
    inbox = EmailInbox.from_settings(db, settings, counters=counters)
    listener = await SmtpListener.from_settings(db, settings, inbox, host="127.0.0.1", port=0)
    try:
        yield Mailroom(company, account, listener, counters)
    finally:
        await listener.stop()


async def smtp_send(
    port: int, raw: bytes, *, mail_from: str = "ann.smith@example.com", to: str = SUPPORT
) -> dict[str, tuple[int, bytes]]:
    """Python's smtplib, as any mail server would deliver: refusals raise smtplib's errors."""

    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            return client.sendmail(mail_from, [to], raw)

    return await asyncio.to_thread(send)
