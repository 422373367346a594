"""IMAP polling: every email account with an `imap_host` is read by UID after the last one
ingested; the cursor moves only after a message is stored, so a crash fetches again (harmless:
ingest is idempotent on the Message-ID) instead of losing mail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from carepath.actions.mailboxes import do_advance_mailbox, do_lease_mailbox, do_release_mailbox
from carepath.channels.email.imap_client import ImapConfig, ImapError, ImapMailbox
from carepath.channels.email.inbound import EmailCounters, EmailInbox, Outcome
from carepath.channels.email.parse import MalformedEmail
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.errors import CarepathError, InvalidInput
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.repositories.mailboxes import ImapCursor

log = logging.getLogger("carepath.email.imap")

DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 100  # messages per mailbox per round, so one huge mailbox cannot starve others
PARALLEL_MAILBOXES = 4


class ImapPoller:
    """Polls every IMAP email account once per `poll_once`; `run` repeats it until stopped.

    Each mailbox is leased to one poller at a time (several worker processes may run), and
    read with EXAMINE: carepath never changes it.
    """

    def __init__(
        self,
        db: Database,
        inbox: EmailInbox,
        box: SecretBox,
        *,
        name: str,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.db = db
        self.inbox = inbox
        self.box = box
        self.name = name
        self.lease = lease
        self.batch = batch
        self._slots = asyncio.Semaphore(PARALLEL_MAILBOXES)

    async def poll_once(self) -> int:
        """Poll every IMAP account; how many messages were taken (stored, duplicates, dropped)."""
        async with self.db.uow(write=False) as uow:
            accounts = await uow.channel_accounts.all_active(Channel.EMAIL)
        polled = [a for a in accounts if a.config.get("imap_host")]
        counts = await asyncio.gather(*(self._poll_guarded(a) for a in polled))
        return sum(counts)

    async def poll_account(self, account: ChannelAccount) -> int:
        config = ImapConfig.of(account, self.box.open(account.secrets_sealed))
        if config is None:
            return 0
        cursor = await do_lease_mailbox(self.db, account, self.name, self.lease)
        if cursor is None:
            return 0  # another poller has it right now
        try:
            mailbox = await asyncio.to_thread(ImapMailbox.open, config)
            try:
                return await self._take_new(account, mailbox, cursor)
            finally:
                await asyncio.to_thread(mailbox.close)
        finally:
            await do_release_mailbox(self.db, account.id, self.name)

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        log.info("IMAP poller %s started (every %.0fs)", self.name, interval_s)
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                log.exception("IMAP polling failed; trying again in %.0fs", interval_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
        log.info("IMAP poller %s stopped", self.name)

    async def _poll_guarded(self, account: ChannelAccount) -> int:
        async with self._slots:
            try:
                return await self.poll_account(account)
            except (ImapError, CarepathError) as exc:
                log.warning("IMAP mailbox of %s: %s", account.address, exc)
            except Exception:
                log.exception("IMAP mailbox of %s: polling failed", account.address)
        return 0

    async def _take_new(
        self, account: ChannelAccount, mailbox: ImapMailbox, cursor: ImapCursor
    ) -> int:
        last = cursor.last_uid
        if cursor.uidvalidity != mailbox.uidvalidity:
            if cursor.uidvalidity is not None:
                # UIDs were renumbered: read the mailbox again; Message-IDs weed out what we have.
                log.warning("IMAP mailbox of %s changed UIDVALIDITY; rereading", account.address)
            last = 0
            await self._advance(account, mailbox, 0)
        uids = await asyncio.to_thread(mailbox.uids_after, last)
        taken = 0
        for uid in uids[: self.batch]:
            await self._take(account, mailbox, uid)
            if not await self._advance(account, mailbox, uid):
                log.warning("IMAP mailbox of %s: lease lost; stopping this round", account.address)
                break
            taken += 1
        return taken

    async def _take(self, account: ChannelAccount, mailbox: ImapMailbox, uid: int) -> None:
        """Store one message, or drop it for good with a log line when it can never be stored.
        Anything else (the database is down) raises, and the cursor stays before it."""
        size = await asyncio.to_thread(mailbox.size, uid)
        if size is None:
            return  # expunged since the search
        if size > self.inbox.max_message_bytes:
            self.inbox.counters.count(Outcome.TOO_LARGE)
            log.warning(
                "IMAP mailbox of %s: message UID %d has %d bytes, over the %d limit; skipped",
                account.address,
                uid,
                size,
                self.inbox.max_message_bytes,
            )
            return
        raw = await asyncio.to_thread(mailbox.fetch, uid)
        if raw is None:
            return
        try:
            await self.inbox.deliver(raw, [account], source="imap")
        except MalformedEmail as exc:
            log.warning("IMAP mailbox of %s: UID %d is malformed: %s", account.address, uid, exc)
        except InvalidInput as exc:
            self.inbox.counters.count(Outcome.MALFORMED)
            log.warning("IMAP mailbox of %s: UID %d refused: %s", account.address, uid, exc)

    async def _advance(self, account: ChannelAccount, mailbox: ImapMailbox, uid: int) -> bool:
        return await do_advance_mailbox(
            self.db,
            account.id,
            self.name,
            uidvalidity=mailbox.uidvalidity,
            last_uid=uid,
            lease=self.lease,
        )


class ImapPolling:
    """The poller as a background task (in `carepath serve` and `carepath worker`)."""

    def __init__(self, poller: ImapPoller, interval_s: float) -> None:
        self.poller = poller
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            poller.run(self._stop, interval_s), name=f"imap poller {poller.name}"
        )

    @classmethod
    def start(
        cls,
        db: Database,
        settings: Settings,
        *,
        name: str,
        counters: EmailCounters | None = None,
    ) -> ImapPolling | None:
        """None when polling is turned off (CAREPATH_IMAP_POLL_INTERVAL_S=0)."""
        if settings.imap_poll_interval_s <= 0:
            return None
        inbox = EmailInbox.from_settings(db, settings, counters=counters)
        poller = ImapPoller(db, inbox, SecretBox(settings.secret()), name=name)
        return cls(poller, settings.imap_poll_interval_s)

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning("IMAP poller %s cut short at shutdown", self.poller.name)
