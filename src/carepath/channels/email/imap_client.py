"""A read-only IMAP mailbox (stdlib imaplib, blocking: the poller calls it from a thread)."""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from carepath.domain.channel_accounts import ChannelAccount
from carepath.errors import ConfigurationError

TIMEOUT_S = 30.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server could not be reached, refused the login, or answered something unexpected."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    tls: bool  # implicit TLS (IMAPS, port 993)
    starttls: bool
    mailbox: str

    @classmethod
    def of(cls, account: ChannelAccount, secrets: Mapping[str, Any]) -> ImapConfig | None:
        """The account's mailbox, None when it has no `imap_host` (it gets mail over SMTP)."""
        config = account.config
        host = config.get("imap_host")
        if not host:
            return None
        password = secrets.get("imap_password")
        if not isinstance(password, str) or not password:
            raise ConfigurationError(
                f"email account {account.address} has imap_host but no imap_password secret",
                account_id=account.id,
            )
        tls = bool(config.get("imap_tls", True))
        return cls(
            host=str(host),
            port=int(config.get("imap_port") or (993 if tls else 143)),
            user=str(config.get("imap_user") or account.address),
            password=password,
            tls=tls,
            starttls=bool(config.get("imap_starttls", False)),
            mailbox=str(config.get("imap_mailbox") or "INBOX"),
        )


class ImapMailbox:
    """One logged-in connection with the mailbox selected read-only (EXAMINE): carepath never
    changes the mailbox, not even the \\Seen flags, so people can keep using it."""

    def __init__(self, conn: imaplib.IMAP4, uidvalidity: int) -> None:
        self._conn = conn
        self.uidvalidity = uidvalidity

    @classmethod
    def open(cls, config: ImapConfig) -> ImapMailbox:
        try:
            conn = _connect(config)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ImapError(f"cannot connect to {config.host}:{config.port}: {exc}") from exc
        try:
            conn.login(config.user, config.password)
            status, _ = conn.select(_quoted(config.mailbox), readonly=True)
            if status != "OK":
                raise ImapError(f"mailbox {config.mailbox!r} cannot be opened")
            _, values = conn.response("UIDVALIDITY")
            if not values or not values[0]:
                raise ImapError("the server did not report UIDVALIDITY")
            return cls(conn, int(values[0]))
        except (OSError, imaplib.IMAP4.error, ValueError) as exc:
            _close(conn)
            raise ImapError(f"{config.user} on {config.host}: {exc}") from exc
        except ImapError:
            _close(conn)
            raise

    def uids_after(self, last_uid: int) -> list[int]:
        # "N:*" always includes the newest message, even when its UID is below N: filter.
        data = self._command("SEARCH", "UID", f"{last_uid + 1}:*")
        first = data[0] if data else b""
        found = first.split() if isinstance(first, bytes) else []
        return sorted(uid for uid in map(int, found) if uid > last_uid)

    def size(self, uid: int) -> int | None:
        """RFC822.SIZE of the message; None when it was expunged meanwhile."""
        for item in self._command("FETCH", str(uid), "(RFC822.SIZE)"):
            match = _SIZE.search(item if isinstance(item, bytes) else b"")
            if match:
                return int(match.group(1))
        return None

    def fetch(self, uid: int) -> bytes | None:
        """The whole message (BODY.PEEK: leaves \\Seen alone); None when it was expunged."""
        for item in self._command("FETCH", str(uid), "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def close(self) -> None:
        _close(self._conn)

    def _command(self, command: str, *args: str) -> list[Any]:
        try:
            status, data = self._conn.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ImapError(f"UID {command} failed: {exc}") from exc
        if status != "OK":
            raise ImapError(f"UID {command} answered {status}: {data!r}")
        return list(data)


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if config.tls:
        return imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context, timeout=TIMEOUT_S)
    conn = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_S)
    if config.starttls:
        conn.starttls(ssl_context=context)
    return conn


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        conn.logout()
