"""Mail that no person wrote: auto-replies, bounces and list mail. Answering it starts mail loops,
so it never opens a case or gets a reply."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import HeaderParser
from email.policy import default

from carepath.channels.email.headers import header, message_ids

_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# Exchange marks its own automatic mail with these (and asks others not to answer it).
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})


class LoopKind(enum.StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BULK = "bulk"


@dataclass(frozen=True)
class Loop:
    kind: LoopKind
    reason: str


def detect_loop(
    msg: EmailMessage, sender: str | None, *, envelope_sender: str | None = None
) -> Loop | None:
    """Why `msg` is automatic mail, or None for a person's mail. `sender` is the From address;
    `envelope_sender` the SMTP MAIL FROM ("" for the null sender), when known."""
    return _bounce(msg, sender) or _auto_reply(msg, envelope_sender) or _bulk(msg)


def bounced_message_ids(msg: EmailMessage) -> tuple[str, ...]:
    """The Message-IDs of the returned messages a delivery report carries (RFC 3464)."""
    found: list[str] = []
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, EmailMessage):
                found.extend(message_ids(header(inner, "Message-ID")))
        elif content_type == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                found.extend(_message_id_in_headers(raw.decode("utf-8", "replace")))
    return tuple(dict.fromkeys(found))


def _bounce(msg: EmailMessage, sender: str | None) -> Loop | None:
    if _is_report(msg, "delivery-status"):
        return Loop(LoopKind.BOUNCE, "delivery status report (multipart/report)")
    if sender and sender.split("@", 1)[0].lower() in _BOUNCE_SENDERS:
        return Loop(LoopKind.BOUNCE, f"sent by {sender}")
    if header(msg, "X-Failed-Recipients"):
        return Loop(LoopKind.BOUNCE, "X-Failed-Recipients")
    return None


def _auto_reply(msg: EmailMessage, envelope_sender: str | None) -> Loop | None:
    auto_submitted = (header(msg, "Auto-Submitted") or "").split(";", 1)[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return Loop(LoopKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if header(msg, name) is not None:
            return Loop(LoopKind.AUTO_REPLY, name)
    if (header(msg, "Precedence") or "").strip().lower() == "auto_reply":
        return Loop(LoopKind.AUTO_REPLY, "Precedence: auto_reply")
    suppress = {
        value.strip().lower()
        for value in (header(msg, "X-Auto-Response-Suppress") or "").split(",")
    }
    if suppress & _SUPPRESS_VALUES:
        return Loop(LoopKind.AUTO_REPLY, "X-Auto-Response-Suppress")
    if _is_report(msg, "disposition-notification"):
        return Loop(LoopKind.AUTO_REPLY, "read receipt (multipart/report)")
    # RFC 3834: automatic responses go out with a null return path; so do bounces.
    return_path = header(msg, "Return-Path")
    if envelope_sender == "" or (return_path is not None and return_path.strip() == "<>"):
        return Loop(LoopKind.AUTO_REPLY, "null return path")
    return None


def _bulk(msg: EmailMessage) -> Loop | None:
    precedence = (header(msg, "Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return Loop(LoopKind.BULK, f"Precedence: {precedence}")
    for name in ("List-Id", "List-Unsubscribe"):
        if header(msg, name) is not None:
            return Loop(LoopKind.BULK, name)
    return None


def _is_report(msg: EmailMessage, report_type: str) -> bool:
    if msg.get_content_type() != "multipart/report":
        return False
    return str(msg.get_param("report-type", "")).lower() == report_type


def _message_id_in_headers(text: str) -> list[str]:
    headers = HeaderParser(_class=EmailMessage, policy=default).parsestr(text)
    return message_ids(header(headers, "Message-ID"))
