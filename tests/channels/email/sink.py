"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it is sent: the customer's mail
provider at the other end of carepath's outbound email."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, _class=EmailMessage, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class MailSink:
    """`async with MailSink() as sink:` listens on a free port; `sink.port`, `sink.received`.
    Recipients in `refuse` are answered `550` at RCPT."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.received: list[Received] = []
        self.refuse = refuse
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> MailSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="mx.example.com", loop=loop), "127.0.0.1", 0
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[Received]:
        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received[:count]

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        async with self._arrived:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=envelope.original_content or b"",
                )
            )
            self._arrived.notify_all()
        return "250 2.0.0 OK"
