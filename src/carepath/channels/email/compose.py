"""An outbound reply as an email (pure): threading headers that mail clients understand, and a
Message-ID derived from carepath's message id so that a resend is recognisably the same mail."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from carepath.delivery.messages import Outbound
from carepath.domain.messages import AuthorKind

MAX_REFERENCES = 20
_MESSAGE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw)\s*:", re.IGNORECASE)


def message_id_for(carepath_message_id: str, from_address: str) -> str:
    """`<message id>@<sending domain>`, without brackets: stable across resends."""
    return f"{carepath_message_id}@{from_address.rpartition('@')[2]}"


def compose(outbound: Outbound, *, from_address: str, from_name: str | None) -> EmailMessage:
    message = outbound.message
    mail = EmailMessage()
    mail["Message-ID"] = f"<{message_id_for(message.id, from_address)}>"
    mail["Date"] = format_datetime(message.created_at)
    local, _, domain = from_address.rpartition("@")
    mail["From"] = Address(display_name=from_name or "", username=local, domain=domain)
    mail["To"] = outbound.to
    mail["Subject"] = subject_for(outbound.case.subject)
    thread = [ref for ref in outbound.thread if _MESSAGE_ID.fullmatch(ref)][-MAX_REFERENCES:]
    if thread:
        mail["In-Reply-To"] = f"<{thread[-1]}>"
        mail["References"] = " ".join(f"<{ref}>" for ref in thread)
    if message.author_kind is AuthorKind.SYSTEM:
        # Survey questions and the like: auto-responders must not answer them (RFC 3834).
        mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    return mail


def subject_for(case_subject: str | None) -> str:
    if not case_subject:
        return "Re: your message"
    if _REPLY_PREFIX.match(case_subject):
        return case_subject
    return f"Re: {case_subject}"
