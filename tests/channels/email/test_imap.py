"""Real IMAP: a Dovecot server holds the mail; polling ingests each message once, across
restarts of the poller, UIDVALIDITY changes and several pollers."""

from __future__ import annotations

import asyncio
import imaplib
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from asgi_lifespan import LifespanManager

from carepath.actions.mailboxes import do_lease_mailbox
from carepath.channels.email import EmailCounters, EmailInbox, ImapPoller, Outcome
from carepath.domain.channel_accounts import ChannelAccount
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.repositories.mailboxes import ImapCursor, ImapCursorRepository
from carepath.web import create_app
from tests.channels.email.conftest import SUPPORT, add_email_account, eml
from tests.channels.email.dovecot import Dovecot, need_dovecot
from tests.channels.email.stored import all_cases, all_messages
from tests.conftest import TEST_SECRET
from tests.factories import Company

PASSWORD = "imap-secret-0123"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    need_dovecot()
    with Dovecot() as server:
        server.add_user(SUPPORT, PASSWORD)
        yield server


async def imap_account(
    db: Database, company: Company, dovecot: Dovecot, password: str = PASSWORD
) -> ChannelAccount:
    return await add_email_account(
        db,
        company,
        config={"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_tls": False},
        secrets={"imap_password": password},
    )


def poller(
    db: Database, settings: Settings, name: str, counters: EmailCounters | None = None
) -> ImapPoller:
    inbox = EmailInbox.from_settings(db, settings, counters=counters)
    return ImapPoller(db, inbox, SecretBox(TEST_SECRET), name=name)


async def cursor_of(db: Database, account: ChannelAccount) -> ImapCursor | None:
    async with db.uow(write=False) as uow:
        return await ImapCursorRepository(uow.session).get(account.id)


async def test_each_message_is_ingested_once_across_restarts_of_the_poller(
    db: Database, settings: Settings, company: Company, dovecot: Dovecot
) -> None:
    # given a mailbox with two customer emails
    account = await imap_account(db, company, dovecot)
    dovecot.append(SUPPORT, eml("plain.eml"))
    dovecot.append(SUPPORT, eml("html_only.eml"))
    # when a poller polls, twice
    first = poller(db, settings, "worker-a")
    assert await first.poll_once() == 2
    assert await first.poll_once() == 0
    # then both are stored once, each in its own case
    stored = await all_messages(db)
    assert [m.properties["subject"] for m in stored] == [
        "My refund still hasn't arrived",
        "Question about my order \u2013 #40-1190",
    ]
    assert {m.properties["source"] for m in stored} == {"imap"}
    assert len(await all_cases(db)) == 2
    # when more mail arrives (one of it an auto-reply) and a new poller (a restarted worker)
    # polls: it knows from the database where the last one stopped
    dovecot.append(SUPPORT, eml("reply_with_quote.eml"))
    dovecot.append(SUPPORT, eml("auto_reply.eml"))
    counters = EmailCounters()
    assert await poller(db, settings, "worker-b", counters).poll_once() == 2
    # then only the new customer email is added, and the auto-reply dropped
    stored = await all_messages(db)
    assert len(stored) == 3
    assert len({m.external_id for m in stored}) == 3
    assert counters.value(Outcome.AUTO_REPLY) == 1
    cursor = await cursor_of(db, account)
    assert cursor is not None
    assert cursor.last_uid == 4
    assert cursor.locked_by is None
    # and the mailbox itself was left as it was: nothing marked read
    assert _seen_flags(dovecot) == [False, False, False, False]


def _seen_flags(dovecot: Dovecot) -> list[bool]:
    conn = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    try:
        conn.login(SUPPORT, PASSWORD)
        conn.select("INBOX", readonly=True)
        _, data = conn.fetch("1:*", "(FLAGS)")
        return [b"\\Seen" in item for item in data if isinstance(item, bytes)]
    finally:
        conn.logout()


async def test_a_new_uidvalidity_rereads_the_mailbox_without_storing_anything_twice(
    db: Database, settings: Settings, company: Company, dovecot: Dovecot
) -> None:
    # given a mailbox that was polled
    account = await imap_account(db, company, dovecot)
    dovecot.append(SUPPORT, eml("plain.eml"))
    dovecot.append(SUPPORT, eml("html_only.eml"))
    imap = poller(db, settings, "worker-a")
    await imap.poll_once()
    # when the server renumbers it (a rebuilt mailbox gets a new UIDVALIDITY)
    dovecot.set_uidvalidity(SUPPORT, 4242)
    # then the poller reads it all again, and Message-IDs keep the messages single
    assert await imap.poll_once() == 2
    assert len(await all_messages(db)) == 2
    cursor = await cursor_of(db, account)
    assert cursor is not None
    assert (cursor.uidvalidity, cursor.last_uid) == (4242, 2)


async def test_a_mailbox_leased_to_another_poller_is_left_to_it(
    db: Database, settings: Settings, company: Company, dovecot: Dovecot
) -> None:
    # given a mailbox another worker is polling right now
    account = await imap_account(db, company, dovecot)
    dovecot.append(SUPPORT, eml("plain.eml"))
    assert await do_lease_mailbox(db, account, "worker-a", timedelta(minutes=5)) is not None
    # when a second worker polls, it leaves that mailbox alone
    assert await poller(db, settings, "worker-b").poll_once() == 0
    assert await all_messages(db) == []
    # and once the lease has run out, the second worker takes over
    assert await do_lease_mailbox(db, account, "worker-a", timedelta(seconds=-1)) is not None
    assert await poller(db, settings, "worker-b").poll_once() == 1


async def test_mail_that_can_never_be_stored_is_skipped_and_the_cursor_moves_past_it(
    db: Database, settings: Settings, company: Company, dovecot: Dovecot
) -> None:
    # given a too large and a malformed message before a good one
    await imap_account(db, company, dovecot)
    dovecot.append(SUPPORT, eml("plain.eml") + b"padding to be too large\r\n" * 200)
    dovecot.append(SUPPORT, eml("malformed_no_from.eml"))
    dovecot.append(SUPPORT, eml("html_only.eml"))
    small = settings.model_copy(update={"email_max_message_bytes": 3000})
    counters = EmailCounters()
    imap = poller(db, small, "worker-a", counters)
    # when polled
    assert await imap.poll_once() == 3
    # then the good one is stored, the others counted, and none is tried again
    [message] = await all_messages(db)
    assert message.properties["subject"] == "Question about my order \u2013 #40-1190"
    assert counters.value(Outcome.TOO_LARGE) == 1
    assert counters.value(Outcome.MALFORMED) == 1
    assert await imap.poll_once() == 0


async def test_a_mailbox_that_refuses_the_login_is_reported_and_others_still_polled(
    db: Database,
    settings: Settings,
    company: Company,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given one mailbox with a wrong password and one that works
    await imap_account(db, company, dovecot, password="wrong-password")
    dovecot.add_user("sales@acme-outfitters.example.com", PASSWORD)
    await add_email_account(
        db,
        company,
        "sales@acme-outfitters.example.com",
        config={"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_tls": False},
        secrets={"imap_password": PASSWORD},
    )
    dovecot.append("sales@acme-outfitters.example.com", eml("plain.eml"))
    # when polled
    with caplog.at_level(logging.WARNING, logger="carepath.email.imap"):
        assert await poller(db, settings, "worker-a").poll_once() == 1
    # then the good mailbox was read and the bad one named in the log
    assert len(await all_messages(db)) == 1
    assert any(
        "IMAP mailbox of support@acme-outfitters.example.com" in r.message for r in caplog.records
    )


async def test_the_server_polls_mailboxes_by_itself(
    db: Database, settings: Settings, company: Company, dovecot: Dovecot
) -> None:
    # given a mailbox with mail, and a server polling every 0.1 s
    await imap_account(db, company, dovecot)
    dovecot.append(SUPPORT, eml("plain.eml"))
    app = create_app(settings.model_copy(update={"imap_poll_interval_s": 0.1, "run_worker": True}))
    async with LifespanManager(app):
        # then the mail is stored without anyone asking
        async with asyncio.timeout(10):
            while True:
                if await all_messages(db):
                    break
                await asyncio.sleep(0.05)
