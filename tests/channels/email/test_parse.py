"""Captured emails → the normalized message: sender, threading, text, HTML, attachments, loops."""

from __future__ import annotations

import time

import pytest

from carepath.channels.email import AttachmentPolicy, MalformedEmail, parse_email
from carepath.channels.email.headers import external_id, generated_message_id, message_ids
from carepath.channels.email.loops import LoopKind
from carepath.channels.email.text import html_to_text, trim_reply
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import MAX_TEXT_LENGTH
from carepath.settings import Settings
from tests.channels.email.conftest import eml

POLICY = AttachmentPolicy.from_settings(Settings())


def test_a_plain_mail_gives_sender_name_subject_and_message_id() -> None:
    parsed = parse_email(eml("plain.eml"), POLICY)
    assert parsed.sender == IdentityRef(IdentityKind.EMAIL, "ann.smith@example.com")
    assert parsed.sender_name == "Ann Smith"
    assert parsed.external_id == "CAFx3k2dQ7p1=Ann+refund@mail.example.com"
    assert parsed.subject == "My refund still hasn't arrived"
    assert parsed.text.startswith("Hello,\n\nI returned a pair of hiking boots")
    assert "still hasn\u2019t arrived" in parsed.text  # quoted-printable UTF-8 decoded
    assert parsed.thread_refs == ()
    assert parsed.loop is None
    assert parsed.to == ("support@acme-outfitters.example.com",)


def test_an_html_only_mail_becomes_text_and_its_html_is_sanitised() -> None:
    parsed = parse_email(eml("html_only.eml"), POLICY)
    assert parsed.subject == "Question about my order \u2013 #40-1190"  # RFC 2047 decoded
    assert parsed.text.startswith("Hi Acme team,")
    assert "* Trail jacket, size M" in parsed.text
    assert "send me a return label" in parsed.text
    # nothing of the title, the style sheet or the script becomes text
    for leaked in ("Order question", "font-family", "document.cookie"):
        assert leaked not in parsed.text
    assert parsed.html is not None
    for dangerous in ("<script", "onload", "onclick", "onerror", "<style"):
        assert dangerous not in parsed.html
    assert '<a href="https://acme-outfitters.example.com/returns"' in parsed.html


def test_attachments_are_kept_within_the_allowlist_and_the_rest_recorded_as_rejected() -> None:
    parsed = parse_email(eml("multipart_with_attachment.eml"), POLICY)
    assert parsed.text.endswith("Regards,\nCarla Díaz")  # the text/plain alternative, latin-1
    assert parsed.html is not None
    assert "<p>Hello,</p>" in parsed.html
    receipt, installer = parsed.attachments
    assert (receipt.filename, receipt.content_type) == ("receipt-40-1201.pdf", "application/pdf")
    assert receipt.data.startswith(b"%PDF-1.4")
    assert receipt.rejected_reason is None
    assert installer.filename == "fix-tracking.exe"
    assert installer.rejected_reason == "application/x-msdownload files are not accepted"
    assert parsed.cc == ("carla.work@example.org",)


def test_an_attachment_over_the_size_limit_is_rejected_with_the_limit_named() -> None:
    small = AttachmentPolicy(max_bytes=100, types=("application/pdf",))
    receipt = parse_email(eml("multipart_with_attachment.eml"), small).attachments[0]
    assert receipt.rejected_reason == "larger than the 100 bytes limit (193 bytes)"


def test_a_reply_loses_its_quoted_history_and_signature_but_keeps_them_in_the_original() -> None:
    parsed = parse_email(eml("reply_with_quote.eml"), POLICY)
    assert parsed.text == (
        "Thank you, the refund arrived this morning.\n\n"
        "One more question: can I exchange the socks too?"
    )
    assert "Senior Buyer" in parsed.original_text
    assert "> Your refund was issued today" in parsed.original_text
    # References (oldest first) then In-Reply-To: the newest reference is last
    assert parsed.thread_refs == (
        "CAFx3k2dQ7p1=Ann+refund@mail.example.com",
        "msg_0195712345abcdef0123456789abcdef@acme-outfitters.example.com",
    )


def test_an_auto_reply_is_recognised() -> None:
    parsed = parse_email(eml("auto_reply.eml"), POLICY)
    assert parsed.loop is not None
    assert parsed.loop.kind is LoopKind.AUTO_REPLY
    assert parsed.loop.reason == "Auto-Submitted: auto-replied"
    assert parsed.sender is None


def test_a_bounce_is_recognised_with_the_message_id_it_returns() -> None:
    parsed = parse_email(eml("bounce.eml"), POLICY)
    assert parsed.loop is not None
    assert parsed.loop.kind is LoopKind.BOUNCE
    assert parsed.bounced_ids == (
        "msg_0195712345abcdef0123456789abcdef@acme-outfitters.example.com",
    )


def test_mailing_list_mail_is_recognised() -> None:
    parsed = parse_email(eml("mailing_list.eml"), POLICY)
    assert parsed.loop is not None
    assert parsed.loop.kind is LoopKind.BULK


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Auto-Submitted: auto-generated", LoopKind.AUTO_REPLY),
        ("X-Autoreply: yes", LoopKind.AUTO_REPLY),
        ("X-Autorespond: Out of office", LoopKind.AUTO_REPLY),
        ("Precedence: bulk", LoopKind.BULK),
        ("Precedence: junk", LoopKind.BULK),
        ("List-Unsubscribe: <mailto:leave@lists.example.org>", LoopKind.BULK),
        ("Return-Path: <>", LoopKind.AUTO_REPLY),
        ("X-Failed-Recipients: someone@example.com", LoopKind.BOUNCE),
    ],
)
def test_each_automatic_mail_header_is_recognised(header: str, kind: LoopKind) -> None:
    raw = (
        f"From: someone@example.com\r\nTo: support@acme.example\r\n{header}\r\n"
        "Subject: hi\r\n\r\nhello\r\n"
    ).encode()
    parsed = parse_email(raw, POLICY)
    assert parsed.loop is not None
    assert parsed.loop.kind is kind


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"])
def test_mail_from_the_mail_system_is_a_bounce(sender: str) -> None:
    raw = f"From: {sender}\r\nSubject: failure\r\n\r\nundeliverable\r\n".encode()
    parsed = parse_email(raw, POLICY)
    assert parsed.loop is not None
    assert parsed.loop.kind is LoopKind.BOUNCE


def test_the_null_envelope_sender_marks_automatic_mail() -> None:
    parsed = parse_email(eml("plain.eml"), POLICY, envelope_sender="")
    assert parsed.loop is not None
    assert parsed.loop.reason == "null return path"
    assert parse_email(eml("plain.eml"), POLICY, envelope_sender="ann@example.com").loop is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (eml("malformed_no_from.eml"), "no From address"),
        (b"", "empty"),
        (b"\x00\x01\x02 binary garbage \xff\xfe", "no From address"),
        (b"From: not an address\r\n\r\nhello\r\n", "is not valid"),
        (b"From: ann@\r\n\r\nhello\r\n", "holds no readable address"),
    ],
)
def test_a_malformed_message_is_refused_with_a_clear_error(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedEmail, match=problem) as refused:
        parse_email(raw, POLICY)
    assert refused.value.code == "malformed_email"


def test_a_missing_message_id_is_generated_stably_from_the_bytes() -> None:
    raw = b"From: ann@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    first, again = parse_email(raw, POLICY), parse_email(raw, POLICY)
    assert first.external_id == again.external_id == generated_message_id(raw)
    assert parse_email(raw + b"more\r\n", POLICY).external_id != first.external_id


def test_a_mail_with_only_a_subject_uses_it_as_text() -> None:
    raw = b"From: ann@example.com\r\nSubject: Where is my refund?\r\n\r\n"
    assert parse_email(raw, POLICY).text == "Where is my refund?"


def test_a_very_long_mail_is_shortened_to_the_message_limit() -> None:
    body = ("All work and no play makes Jack a dull boy. " * 1000).encode()
    raw = b"From: jack@example.com\r\nSubject: long\r\n\r\n" + body
    text = parse_email(raw, POLICY).text
    assert len(text) == MAX_TEXT_LENGTH
    assert text.endswith("[message shortened]")


def test_message_ids_are_read_with_or_without_brackets_and_long_ones_digested() -> None:
    assert message_ids("<a@b> <c@d>\r\n <e@f>") == ["a@b", "c@d", "e@f"]
    assert message_ids("bare@example.com") == ["bare@example.com"]
    assert message_ids(None) == []
    long_id = "x" * 300 + "@example.com"
    assert external_id(long_id) == external_id(long_id) != long_id
    assert len(external_id(long_id)) <= 255


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Yes please.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\n\nOld text",
            "Yes please.",
        ),
        (
            "Sounds good.\n\n________________________________\nFrom: Acme Support\nOld",
            "Sounds good.",
        ),
        (
            "Danke!\n\nAm 04.03.2025 um 10:00 schrieb Acme Support <s@acme.example>:\n> alt",
            "Danke!",
        ),
        ("Thanks\n\nSent from my iPhone", "Thanks"),
        ("Fine by me.\n\nFrom: Acme Support <s@acme.example>\nSent: Monday\nOld", "Fine by me."),
        ("See below\n> quoted line\nmy answer", "See below\nmy answer"),
        ("> only a quote\n> nothing else", "> only a quote\n> nothing else"),
    ],
)
def test_quoted_history_of_the_common_clients_is_trimmed(text: str, expected: str) -> None:
    assert trim_reply(text) == expected


def test_an_html_only_reply_loses_the_quote_its_mail_client_added() -> None:
    html = (
        '<div dir="ltr">Yes, please send the label.<div><br></div><div>Ann</div></div>'
        '<div class="gmail_quote"><div class="gmail_attr">On Thu, Mar 6, 2025 at 4:02 PM Acme '
        "&lt;support@acme.example&gt; wrote:<br></div><blockquote>Shall we send a label?"
        "</blockquote></div>"
    )
    raw = (
        "From: ann@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode()
    assert parse_email(raw, POLICY).text == "Yes, please send the label.\n\nAnn"


def test_html_tables_and_lists_keep_their_layout_as_text() -> None:
    text = html_to_text("<table><tr><td>Boots</td><td>€89</td></tr></table><ol><li>one</li></ol>")
    assert "Boots  €89" in text
    assert "1. one" in text


def test_parsing_is_fast_enough_for_a_busy_mailbox() -> None:
    raws = [eml(name) for name in ("plain.eml", "html_only.eml", "multipart_with_attachment.eml")]
    started = time.perf_counter()
    for _ in range(100):
        for raw in raws:
            parse_email(raw, POLICY)
    per_mail_ms = (time.perf_counter() - started) / 300 * 1000
    assert per_mail_ms < 50, f"{per_mail_ms:.2f} ms per mail"
