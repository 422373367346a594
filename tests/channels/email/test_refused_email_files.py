"""An email refused at ingest leaves no file behind: its attachments are written only once the
message it would become has been accepted (built and checked)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from carepath.storage import Database
from tests.channels.email.conftest import SUPPORT, Mailroom, smtp_send
from tests.channels.email.stored import all_messages

ATTACHMENT = b"%PDF-1.4 the invoice nobody may keep QJV-77"


def an_email_refused_at_ingest() -> bytes:
    """Parseable, with an accepted attachment, but addressed to so many long addresses that the
    message's properties would exceed their limit: ingest refuses it."""
    msg = EmailMessage()
    msg["From"] = "Ann Smith <ann.smith@example.com>"
    msg["Subject"] = "invoice " + "\N{SNOWMAN}" * 990
    msg["Message-ID"] = "<refused-at-ingest@example.com>"
    line = "\N{SNOWMAN} " * 30 + "\n"
    msg.set_content("Please see the invoice.\n" + line * 140 + "-- \nAnn Smith\n")
    msg.add_alternative("<p>" + line * 90 + "</p>", subtype="html")
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="inv.pdf")
    # One long address per line (under SMTP's 1,000), folded by hand: the library would not.
    addresses = [
        ",\r\n ".join(f"{who * 450}{n}@{who * 480}.example.com" for n in range(10))
        for who in ("x", "y")
    ]
    recipients = f"To: {addresses[0]}\r\nCc: {addresses[1]}\r\n".encode()
    return recipients + msg.as_bytes(policy=SMTP)  # CRLF line ends, as on the wire


def stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_an_email_refused_at_ingest_leaves_no_attachment_file(
    db: Database, mailroom: Mailroom, data_dir: Path
) -> None:
    # when an email with an attachment arrives that ingest refuses
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await smtp_send(mailroom.port, an_email_refused_at_ingest(), to=SUPPORT)
    # then the sender is told, permanently, and nothing is stored: no message, no file
    assert refused.value.smtp_code == 554
    assert b"properties" in refused.value.smtp_error
    assert await all_messages(db) == []
    assert stored_files(data_dir) == []
