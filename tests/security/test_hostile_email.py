"""Hostile email over real SMTP into carepath's listener: malformed MIME, bad encodings, invalid
UTF-8 headers, absurd nesting, thousands of parts, oversized attachments and attachment bombs.
Each is refused with a permanent 5xx and a reason (a 4xx would make the sender retry it for
days), or stored as one message within the limits; nothing is half stored; the listener keeps
taking mail."""

from __future__ import annotations

import asyncio
import base64
import io
import smtplib
import time
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from carepath.channels.email import EmailCounters, EmailInbox, SmtpListener
from carepath.domain.messages import Message
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.files import AttachmentStore
from tests.channels.email.conftest import SUPPORT, add_email_account, eml, smtp_send
from tests.channels.email.stored import all_messages
from tests.factories import make_company
from tests.reliability_report import record
from tests.security.apps import SECTION
from tests.security.test_hostile_input import row_counts

MAX_MESSAGE = 2 * 1024 * 1024
MAX_ATTACHMENT = 256 * 1024
HEAD = (
    b"From: Ann Smith <ann.smith@example.com>\r\n"
    b"To: support@acme-outfitters.example.com\r\n"
    b"MIME-Version: 1.0\r\n"
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Listener:
    port: int
    files: Path


@pytest.fixture
async def listener(db: Database, settings: Settings) -> AsyncIterator[Listener]:
    company = await make_company(db)
    await add_email_account(db, company)
    small = settings.model_copy(
        update={
            "email_max_message_bytes": MAX_MESSAGE,
            "email_max_attachment_bytes": MAX_ATTACHMENT,
        }
    )
    inbox = EmailInbox.from_settings(db, small, counters=EmailCounters())
    server = await SmtpListener.from_settings(db, small, inbox, host="127.0.0.1", port=0)
    try:
        yield Listener(server.port, small.data_dir / "attachments")
    finally:
        await server.stop()


def mail(n: int, headers: bytes, body: bytes) -> bytes:
    return HEAD + b"Message-ID: <hostile-%d@example.com>\r\n" % n + headers + b"\r\n" + body


def multipart(n: int, parts: list[bytes], *, subject: bytes = b"parts") -> bytes:
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"
    headers = b"Subject: " + subject + b'\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
    return mail(n, headers, body)


def attachment(content_type: str, name: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (
        f"Content-Type: {content_type}\r\n"
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + encoded


def nested(n: int, depth: int) -> bytes:
    """`depth` multiparts, each the only part of the one around it, a text at the bottom."""
    inner = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(1, depth)
    )
    closing = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(depth)))
    headers = b'Subject: nested\r\nContent-Type: multipart/mixed; boundary="n0"\r\n'
    return mail(n, headers, b"--n0\r\n" + inner + text_part(b"hi") + closing)


def zip_bomb(expanded: int) -> bytes:
    """A small .docx-shaped archive that would inflate to `expanded` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("word/document.xml", b"\0" * expanded)
    return out.getvalue()


def text_part(text: bytes) -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text


BOMB = zip_bomb(64 * 1024 * 1024)
# Each: name, raw bytes, and the SMTP code expected (250: stored, exactly one new message).
CASES: list[tuple[str, bytes, int]] = [
    (
        "boundary that never appears",
        mail(
            1,
            b'Subject: lost\r\nContent-Type: multipart/mixed; boundary="abc"\r\n',
            b"--xyz\r\n\r\nhi",
        ),
        250,
    ),
    (
        "multipart never closed",
        mail(
            2, b'Subject: open\r\nContent-Type: multipart/mixed; boundary="b"\r\n', b"--b\r\n\r\nhi"
        ),
        250,
    ),
    (
        "multipart without a boundary",
        mail(3, b"Subject: none\r\nContent-Type: multipart/mixed\r\n", b"--b\r\n\r\nhi\r\n--b--"),
        250,
    ),
    (
        "invalid base64 body",
        mail(4, b"Subject: b64\r\nContent-Transfer-Encoding: base64\r\n", b"!!not*base64$$\r\n"),
        250,
    ),
    (
        "broken quoted-printable",
        mail(
            5,
            b"Subject: qp\r\nContent-Transfer-Encoding: quoted-printable\r\n",
            b"=ZZ=F=\r\n=C3=28",
        ),
        250,
    ),
    (
        "unknown charset",
        mail(
            6, b"Subject: cs\r\nContent-Type: text/plain; charset=x-klingon\r\n", b"qapla\xff\xfe"
        ),
        250,
    ),
    (
        "UTF-8 body that is not UTF-8",
        mail(
            7,
            b"Subject: u8\r\nContent-Type: text/plain; charset=utf-8\r\n",
            b"broken \xc3\x28 \xff",
        ),
        250,
    ),
    (
        "invalid UTF-8 in Subject and display name",
        b"From: \xff\xfe Ann \xe9\xc3 <ann.smith@example.com>\r\n"
        b"To: support@acme-outfitters.example.com\r\nMessage-ID: <hostile-8@example.com>\r\n"
        b"Subject: \xff\xfe\xc3\x28 refund\r\n\r\nbody",
        250,
    ),
    (
        "broken encoded words",
        mail(9, b"Subject: =?utf-8?B?!!!?= =?x-nope?Q?abc?= =?utf-8?Q?=FF=FE?=\r\n", b"body"),
        250,
    ),
    (
        "NUL bytes in headers, body and file name",
        multipart(
            10,
            [text_part(b"bo\0dy"), attachment("text/plain", "a\0b.txt", b"x\0y")],
            subject=b"nul\0subject",
        ),
        250,
    ),
    (
        "invalid UTF-8 in the From address",
        b"From: ann@\xff\xfe.example.com\r\nTo: support@acme-outfitters.example.com\r\n"
        b"Subject: hi\r\n\r\nbody",
        554,
    ),
    ("MIME nested 5 deep", nested(12, 5), 250),
    ("MIME nested 200 deep", nested(13, 200), 554),
    ("MIME nested 5,000 deep", nested(14, 5000), 554),
    (
        "5,000 parts",
        multipart(15, [text_part(b"part %d" % i) for i in range(5000)]),
        554,
    ),
    ("600 parts", multipart(23, [text_part(b"part %d" % i) for i in range(600)]), 554),
    (
        "150,000 empty parts (1 MB)",
        multipart(22, [b""] * 150_000),
        554,
    ),
    (
        "60 attachments",
        multipart(16, [attachment("text/plain", f"{i}.txt", b"file %d" % i) for i in range(60)]),
        250,
    ),
    (
        "an attachment over the attachment limit",
        multipart(
            17,
            [text_part(b"see file"), attachment("application/pdf", "big.pdf", b"%PDF" * 100_000)],
        ),
        250,
    ),
    (
        "a message over the message limit (a huge base64 part)",
        multipart(18, [attachment("application/pdf", "huge.pdf", b"\0" * (MAX_MESSAGE + 1))]),
        552,
    ),
    (
        "a zip bomb as a Word document",
        multipart(19, [text_part(b"my contract"), attachment(DOCX, "contract.docx", BOMB)]),
        250,
    ),
    (
        "a zip bomb as application/zip",
        multipart(20, [attachment("application/zip", "b.zip", BOMB)]),
        250,
    ),
    ("the empty message", b"\r\n", 554),
    ("not an email at all", (b"\x00\x01\x02\xff" * 50 + b"\r\n") * 20, 554),
    ("a 4,000-byte line", mail(21, b"Subject: long\r\n", b"A" * 4000), 500),
]


def files_in(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def send(port: int, raw: bytes) -> tuple[int, bytes]:
    """(code, reply) of DATA; 250 when taken."""
    try:
        await smtp_send(port, raw)
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refused:
        # (SMTPSenderRefused: a client that announces SIZE is refused at MAIL FROM)
        reply = refused.smtp_error
        return refused.smtp_code, reply if isinstance(reply, bytes) else reply.encode()
    return 250, b""


async def test_hostile_email_is_refused_or_stored_within_limits(
    db: Database, listener: Listener
) -> None:
    refused = stored = 0
    slowest = 0.0
    for name, raw, expected in CASES:
        before, files_before = await row_counts(db), files_in(listener.files)
        started = time.monotonic()
        code, reply = await send(listener.port, raw)
        slowest = max(slowest, time.monotonic() - started)
        assert code == expected, f"{name}: {code} {reply!r}"
        # bounded work: parsing 150,000 parts used to take ~10 s of CPU per message
        assert time.monotonic() - started < 5, name
        after, new_files = await row_counts(db), files_in(listener.files) - files_before
        if code == 250:
            stored += 1
            assert after["messages"] == before["messages"] + 1, name
            message = (await all_messages(db))[-1]
            assert_within_limits(message, new_files, name)
        else:
            refused += 1
            # a permanent refusal that says why, and nothing of it kept
            assert len(reply) > 20, f"{name}: no reason in {reply!r}"
            assert after == before, name
            assert new_files == set(), name
    # the listener is still up and takes an ordinary email
    assert await smtp_send(listener.port, eml("plain.eml")) == {}
    assert (await all_messages(db))[-1].text.startswith("Hello,")
    await assert_bombs_kept_opaque(db, listener.files)
    record(
        "hostile-email",
        section=SECTION,
        what="Hostile email sent over real SMTP to the listener (2 MB message, 256 KB attachment "
        "limits): broken or missing MIME boundaries, invalid base64 and quoted-printable, unknown "
        "and lying charsets, invalid UTF-8 and NUL in headers, MIME nested 5 / 200 / 5,000 deep, "
        "600, 5,000 and 150,000 parts, 60 attachments, oversized attachment and message, zip bombs "
        "(64 MB inflated) as .docx and .zip.",
        counts={
            "emails_sent": len(CASES) + 1,
            "refused_5xx": refused,
            "stored": stored,
            "slowest_answer_s": round(slowest, 2),
        },
        result="each refused with a permanent 5xx and its reason, storing nothing (row counts, "
        "files), or stored as one message with attachments within the limits; archives are "
        "kept as the opaque bytes received, never inflated; the listener kept taking mail",
    )


def assert_within_limits(message: Message, new_files: set[Path], name: str) -> None:
    attachments = message.attachment_values
    kept = [a for a in attachments if a.stored]
    assert len(kept) <= 50, name
    assert all(a.size <= MAX_ATTACHMENT for a in kept), name
    assert all(f.stat().st_size <= MAX_ATTACHMENT for f in new_files), name
    assert "\0" not in message.text, name
    assert all(a.rejected_reason for a in attachments if not a.stored), name


async def assert_bombs_kept_opaque(db: Database, root: Path) -> None:
    store = AttachmentStore(root)
    found = {}
    for message in await all_messages(db):
        for item in message.attachment_values:
            if item.filename in ("contract.docx", "b.zip"):
                found[item.filename] = item
    docx, archive = found["contract.docx"], found["b.zip"]
    # the Word document is an allowed type: its bytes, exactly as sent, not inflated
    assert docx.stored
    assert docx.sha256 is not None
    assert store.read(docx.sha256) == BOMB
    assert docx.size == len(BOMB) < MAX_ATTACHMENT
    # a bare archive is not an allowed type: recorded, not stored
    assert not archive.stored
    assert archive.rejected_reason == "application/zip files are not accepted"


def test_the_bomb_is_a_bomb() -> None:
    # what makes the zip case meaningful: small on the wire, huge if anything inflated it
    with zipfile.ZipFile(io.BytesIO(BOMB)) as archive:
        assert archive.infolist()[0].file_size == 64 * 1024 * 1024
    assert len(BOMB) < 128 * 1024


async def test_the_listener_stays_up_through_concurrent_hostile_mail(
    db: Database, listener: Listener
) -> None:
    hostile = [raw for _, raw, code in CASES if code == 554][:4] * 2

    def deliver(raw: bytes) -> int:
        try:
            with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
                client.sendmail("ann.smith@example.com", [SUPPORT], raw)
        except smtplib.SMTPDataError as refused:
            return refused.smtp_code
        return 250

    # The senders get threads of their own: the listener parses in the loop's default pool.
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(len(hostile)) as senders:
        codes = await asyncio.gather(*(loop.run_in_executor(senders, deliver, r) for r in hostile))
    assert codes == [554] * len(hostile)
    assert await smtp_send(listener.port, eml("plain.eml")) == {}
    assert len(await all_messages(db)) == 1
