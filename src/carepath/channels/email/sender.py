"""Sending replies by SMTP (aiosmtplib) through the account's own server or CAREPATH_SMTP_URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

from carepath.channels.email.compose import compose, message_id_for
from carepath.delivery.messages import Outbound
from carepath.domain.channel_accounts import ChannelAccount
from carepath.errors import ConfigurationError, DeliveryFailed

TIMEOUT_S = 30.0
_SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False  # implicit TLS (port 465)
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://user:pass@host:25, smtp+starttls://…:587 or smtps://…:465."""
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ConfigurationError(
                "CAREPATH_SMTP_URL must look like smtp://user:pass@host:25, "
                "smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465",
                setting="CAREPATH_SMTP_URL",
            )
        tls, starttls = _SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 587 if starttls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            starttls=starttls,
        )

    @classmethod
    def of_account(cls, account: ChannelAccount, secrets: Mapping[str, Any]) -> SmtpServer | None:
        """The account's own server (`smtp_host`, `smtp_port`, `smtp_user`, `smtp_tls`,
        `smtp_starttls`; secret `smtp_password`), None when it has none."""
        config = account.config
        host = config.get("smtp_host")
        if not host:
            return None
        tls = bool(config.get("smtp_tls", False))
        starttls = bool(config.get("smtp_starttls", False))
        password = secrets.get("smtp_password")
        return cls(
            host=str(host),
            port=int(config.get("smtp_port") or (465 if tls else 587 if starttls else 25)),
            username=str(config.get("smtp_user") or account.address) if password else None,
            password=str(password) if password else None,
            tls=tls,
            starttls=starttls,
        )


class SmtpSender:
    """The email ChannelSender. The provider id it returns is the Message-ID, so a customer's
    reply (In-Reply-To it) threads back into the case."""

    def __init__(self, default: SmtpServer | None = None, *, timeout: float = TIMEOUT_S) -> None:
        self.default = default
        self.timeout = timeout

    async def send(self, outbound: Outbound) -> str | None:
        account = outbound.account
        if account is None:
            raise DeliveryFailed(
                "the tenant has no active email account to send from; add one", retryable=True
            )
        server = SmtpServer.of_account(account, outbound.secrets) or self.default
        if server is None:
            raise DeliveryFailed(
                f"no SMTP server for {account.address}: set smtp_host on the account or "
                "CAREPATH_SMTP_URL",
                retryable=True,
            )
        from_name = str(account.config.get("from_name") or account.name)
        mail = compose(outbound, from_address=account.address, from_name=from_name)
        try:
            await aiosmtplib.send(
                mail,
                sender=account.address,
                recipients=[outbound.to],
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.tls,
                start_tls=server.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise DeliveryFailed(
                f"{outbound.to} refused by {server.host}: {refusal.code} {refusal.message}",
                retryable=refusal.code < 500,
            ) from exc
        except (aiosmtplib.SMTPDataError, aiosmtplib.SMTPSenderRefused) as exc:
            raise DeliveryFailed(
                f"{server.host} refused the message: {exc.code} {exc.message}",
                retryable=exc.code < 500,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Unreachable, timed out, or a login refused: worth another try after a fix.
            raise DeliveryFailed(f"{server.host}:{server.port}: {exc}", retryable=True) from exc
        return message_id_for(outbound.message.id, account.address)
