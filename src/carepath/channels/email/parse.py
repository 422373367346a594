"""Raw email bytes → the fields of one normalized inbound message. Pure: no I/O, no database."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import default

from carepath.channels.email.attachments import AttachmentPolicy
from carepath.channels.email.headers import (
    HEADER_ERRORS,
    external_id,
    generated_message_id,
    header,
    message_ids,
)
from carepath.channels.email.loops import Loop, bounced_message_ids, detect_loop
from carepath.channels.email.text import html_to_text, normalize_text, sanitize_html, trim_reply
from carepath.domain.attachments import Attachment
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import MAX_TEXT_LENGTH
from carepath.errors import InvalidInput

SHORTENED = "\n\n[message shortened]"
NO_TEXT = "(no text)"
# Real mail nests a few levels (a forward of a forward) and has tens of parts; beyond these the
# walks below would be unbounded work (or Python's recursion limit) for a hostile sender.
MAX_MIME_DEPTH = 20
MAX_MIME_PARTS = 500
# Every part opens with a line that starts with "--": counted before parsing, since parsing
# millions of tiny parts takes minutes of CPU. Room left for "-- " signatures and such in text.
MAX_DELIMITER_LINES = 4 * MAX_MIME_PARTS


class MalformedEmail(InvalidInput):
    """Bytes that are not a message carepath can store: no sender, or not an email at all."""

    code = "malformed_email"


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    rejected_reason: str | None  # None: to be stored

    def metadata(self, sha256: str | None) -> Attachment:
        return Attachment(
            filename=self.filename,
            content_type=self.content_type,
            size=len(self.data),
            sha256=sha256,
            stored=sha256 is not None,
            rejected_reason=self.rejected_reason,
        )


@dataclass(frozen=True)
class ParsedEmail:
    """One email. `sender` is None only for automatic mail (`loop` set), which is never stored."""

    message_id: str  # without angle brackets; generated from the bytes when the mail has none
    external_id: str  # what the message is stored and matched under
    sender: IdentityRef | None
    sender_name: str | None
    subject: str | None
    text: str  # what the sender wrote this time: no quoted history, no signature
    original_text: str  # the whole text, quotes and signature included
    html: str | None  # sanitised, for display
    thread_refs: tuple[str, ...]  # References then In-Reply-To, newest last
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: str | None
    attachments: tuple[ParsedAttachment, ...]
    loop: Loop | None
    bounced_ids: tuple[str, ...]  # a bounce's returned Message-IDs


def parse_email(
    raw: bytes, policy: AttachmentPolicy, *, envelope_sender: str | None = None
) -> ParsedEmail:
    """Parse `raw` (RFC 5322 bytes). MalformedEmail when no sender can be read from it.

    `envelope_sender` is the SMTP MAIL FROM when the mail came over SMTP ("" for bounces).
    """
    if not raw.strip():
        raise MalformedEmail("the message is empty", field="message")
    if raw.count(b"\n--") > MAX_DELIMITER_LINES:
        raise MalformedEmail(
            f"more than {MAX_DELIMITER_LINES} lines start with '--' (MIME part boundaries)",
            field="message",
        )
    try:
        msg = message_from_bytes(raw, _class=EmailMessage, policy=default)
    except RecursionError:
        # The stdlib parser recurses once per nested part: thousands of levels exhaust it.
        raise MalformedEmail(_TOO_DEEP, field="message") from None
    if not isinstance(msg, EmailMessage):
        raise MalformedEmail("not an email message", field="message")
    _check_structure(msg)
    address = _from_address(msg)
    loop = detect_loop(msg, address.addr_spec if address else None, envelope_sender=envelope_sender)
    sender = _sender(address, header(msg, "From")) if loop is None else None
    own_id = next(iter(message_ids(header(msg, "Message-ID"))), None) or generated_message_id(raw)
    refs = [*message_ids(header(msg, "References")), *message_ids(header(msg, "In-Reply-To"))]
    plain, html = _body_parts(msg)
    html_raw = _text_of(html) if html is not None else None
    original = normalize_text(_text_of(plain)) if plain is not None else ""
    if not original and html_raw:
        original = html_to_text(html_raw)
    attachments = tuple(_attachments(msg, (plain, html), policy))
    return ParsedEmail(
        message_id=own_id,
        external_id=external_id(own_id),
        sender=sender,
        sender_name=(address.display_name or None) if address else None,
        subject=header(msg, "Subject"),
        text=_message_text(original, header(msg, "Subject"), has_attachments=bool(attachments)),
        original_text=original,
        html=sanitize_html(html_raw) if html_raw else None,
        thread_refs=tuple(dict.fromkeys(external_id(ref) for ref in refs if ref != own_id)),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=header(msg, "Date"),
        attachments=attachments,
        loop=loop,
        bounced_ids=bounced_message_ids(msg) if loop else (),
    )


_TOO_DEEP = f"MIME parts are nested more than {MAX_MIME_DEPTH} levels deep"
_TOO_MANY = f"the message has more than {MAX_MIME_PARTS} MIME parts"


def _check_structure(msg: EmailMessage) -> None:
    """MalformedEmail for nesting or a number of parts that no real mail has."""
    pending: list[tuple[Message, int]] = [(msg, 0)]
    parts = 0
    while pending:
        part, depth = pending.pop()
        parts += 1
        if depth > MAX_MIME_DEPTH:
            raise MalformedEmail(_TOO_DEEP, field="message")
        if parts > MAX_MIME_PARTS:
            raise MalformedEmail(_TOO_MANY, field="message")
        inner = part.get_payload()  # a list for multiparts and attached messages
        if isinstance(inner, list):
            pending.extend((sub, depth + 1) for sub in inner if isinstance(sub, Message))


def _from_address(msg: EmailMessage) -> Address | None:
    try:
        value = msg["From"]
        addresses = getattr(value, "addresses", ()) if value is not None else ()
    except HEADER_ERRORS:
        return None
    return next((a for a in addresses if a.addr_spec and a.addr_spec != "<>"), None)


def _sender(address: Address | None, from_header: str | None) -> IdentityRef:
    if from_header is None:
        raise MalformedEmail("the message has no From address", field="from")
    if address is None:
        raise MalformedEmail(
            f"the From header {from_header[:100]!r} holds no readable address", field="from"
        )
    try:
        return IdentityRef.of(IdentityKind.EMAIL, address.addr_spec)
    except InvalidInput as exc:
        raise MalformedEmail(
            f"the From address {address.addr_spec!r} is not valid: {exc.message}", field="from"
        ) from exc


def _body_parts(msg: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except HEADER_ERRORS:
        return None, None
    return (
        plain if isinstance(plain, EmailMessage) else None,
        html if isinstance(html, EmailMessage) else None,
    )


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (*HEADER_ERRORS, UnicodeError, AssertionError, KeyError):
        pass
    # An unknown or lying charset: read what can be read rather than lose the message.
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _message_text(original: str, subject: str | None, *, has_attachments: bool) -> str:
    text = trim_reply(original) if original else ""
    if not text and not has_attachments:
        text = normalize_text(subject or "") or NO_TEXT  # the whole question may be the subject
    if len(text) > MAX_TEXT_LENGTH:
        text = text[: MAX_TEXT_LENGTH - len(SHORTENED)].rstrip() + SHORTENED
    return text


def _addresses(msg: EmailMessage, name: str) -> tuple[str, ...]:
    try:
        value = msg[name]
        addresses = getattr(value, "addresses", ()) if value is not None else ()
        return tuple(a.addr_spec for a in addresses if a.addr_spec)
    except HEADER_ERRORS:
        return ()


def _leaves(part: EmailMessage) -> Iterator[EmailMessage]:
    """Every non-multipart part; an attached message counts as one part, not its insides."""
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            if isinstance(sub, EmailMessage):
                yield from _leaves(sub)
    else:
        yield part


def _attachments(
    msg: EmailMessage,
    bodies: tuple[EmailMessage | None, EmailMessage | None],
    policy: AttachmentPolicy,
) -> Iterator[ParsedAttachment]:
    index = 0
    for part in _leaves(msg):
        if any(part is body for body in bodies):
            continue
        content_type = _content_type(part)
        data = _payload(part)
        yield ParsedAttachment(
            filename=_filename(part, content_type),
            content_type=content_type,
            data=data,
            rejected_reason=policy.rejection(content_type, len(data), index),
        )
        index += 1


def _content_type(part: EmailMessage) -> str:
    content_type = part.get_content_type()
    try:
        Attachment(filename="x", content_type=content_type, size=0)
    except InvalidInput:
        return "application/octet-stream"
    return content_type


def _payload(part: EmailMessage) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        messages = (
            [m for m in inner if isinstance(m, EmailMessage)] if isinstance(inner, list) else []
        )
        try:
            return b"".join(m.as_bytes(policy=default) for m in messages)
        except (*HEADER_ERRORS, UnicodeError):
            return b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _filename(part: EmailMessage, content_type: str) -> str:
    try:
        name = part.get_filename()
    except HEADER_ERRORS:
        name = None
    if name:
        return name
    if content_type == "message/rfc822":
        return "message.eml"
    return "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
