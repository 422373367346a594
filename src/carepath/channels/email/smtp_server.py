"""The inbound SMTP listener (aiosmtpd): mail for the tenants' addresses, stored before it is
acknowledged, refused with a reason when it cannot be stored."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client import CollectorRegistry

from carepath.channels.email.inbound import EmailCounters, EmailInbox, Outcome
from carepath.channels.email.parse import MalformedEmail
from carepath.domain.channel_accounts import ChannelAccount, normalize_address
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.settings import Settings
from carepath.storage import Database

log = logging.getLogger("carepath.email.smtp")

MAX_RECIPIENTS = 100
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure storing the message; try again later"
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


class InboundHandler:
    """aiosmtpd handler: RCPT only for active email accounts; DATA stored, then 250."""

    def __init__(self, db: Database, inbox: EmailInbox) -> None:
        self.db = db
        self.inbox = inbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            accounts = await self._accounts([address])
        except InvalidInput:
            return "553 5.1.3 Not a valid mailbox address"
        except Exception:
            log.exception("looking up the recipient %s failed", address)
            return TEMPORARY_FAILURE
        if not accounts:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        # aiosmtpd reads the null reverse path `MAIL FROM:<>` (bounces) as "<>".
        mail_from = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        try:
            accounts = await self._accounts(envelope.rcpt_tos)
            if not accounts:
                return "554 5.1.1 No valid recipients"
            delivery = await self.inbox.deliver(
                raw, accounts, source="smtp", envelope_sender=mail_from
            )
        except MalformedEmail as exc:
            log.info("refused a malformed message from %s: %s", session.peer, exc.message)
            return f"554 5.6.0 Malformed message: {_reply_text(exc.message)}"
        except InvalidInput as exc:
            self.inbox.counters.count(Outcome.MALFORMED)
            log.info("refused a message from %s: %s", session.peer, exc.message)
            return f"554 5.6.0 Message refused: {_reply_text(exc.message)}"
        except Exception:
            log.exception("storing a message from %s failed; the sender will retry", session.peer)
            return TEMPORARY_FAILURE
        if delivery.outcome in (Outcome.STORED, Outcome.DUPLICATE):
            return f"250 2.0.0 OK <{_reply_text(delivery.parsed.message_id)}>"
        # Accepted and dropped: refusing automatic mail would only make more of it.
        return f"250 2.0.0 OK, not stored ({delivery.outcome.value})"

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error: %r", error)
        return "421 4.3.0 Local error; closing the connection"

    async def _accounts(self, addresses: Sequence[str]) -> list[ChannelAccount]:
        found = []
        async with self.db.uow(write=False) as uow:
            for address in addresses:
                normalized = normalize_address(Channel.EMAIL, address)
                account = await uow.channel_accounts.by_address(Channel.EMAIL, normalized)
                if account is not None:
                    found.append(account)
        return found


class SmtpListener:
    """A running listener; `await SmtpListener.start(...)`, then `await listener.stop()`."""

    def __init__(self, server: asyncio.Server, handler: InboundHandler) -> None:
        self.server = server
        self.handler = handler

    @classmethod
    async def start(
        cls,
        db: Database,
        inbox: EmailInbox,
        *,
        host: str,
        port: int,
        hostname: str,
        max_message_bytes: int,
        reuse_port: bool = False,
    ) -> SmtpListener:
        """Listen on host:port. `reuse_port` lets several server processes share the port
        (Linux): the kernel spreads connections over them."""
        handler = InboundHandler(db, inbox)
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                handler,
                data_size_limit=max_message_bytes,
                enable_SMTPUTF8=True,
                hostname=hostname,
                ident="carepath ESMTP",
                timeout=120,
                loop=loop,
            )

        server = await loop.create_server(
            protocol, host=host, port=port, reuse_port=reuse_port or None
        )
        listener = cls(server, handler)
        log.info("SMTP listener on %s:%d", host, listener.port)
        return listener

    @classmethod
    async def from_settings(
        cls,
        db: Database,
        settings: Settings,
        inbox: EmailInbox,
        *,
        host: str | None = None,
        port: int | None = None,
        reuse_port: bool = False,
    ) -> SmtpListener:
        return await cls.start(
            db,
            inbox,
            host=host or settings.smtp_listen_host,
            port=(settings.smtp_listen_port or 0) if port is None else port,
            hostname=urlsplit(settings.public_url).hostname or "localhost",
            max_message_bytes=settings.email_max_message_bytes,
            reuse_port=reuse_port and sys.platform.startswith("linux"),
        )

    @property
    def port(self) -> int:
        sockname: Any = self.server.sockets[0].getsockname()
        return int(sockname[1])

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


def _reply_text(text: str) -> str:
    # An SMTP reply is one line of ASCII.
    return _UNPRINTABLE.sub(" ", text)[:200].strip()


async def start_listener(
    db: Database,
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    host: str | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> SmtpListener:
    """The listener as configured (CAREPATH_SMTP_LISTEN_HOST/PORT unless given), counting
    into `registry` (the app's /metrics) when one is given."""
    inbox = EmailInbox.from_settings(db, settings, counters=EmailCounters(registry))
    return await SmtpListener.from_settings(
        db, settings, inbox, host=host, port=port, reuse_port=reuse_port
    )
