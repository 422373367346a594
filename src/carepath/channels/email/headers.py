"""Reading headers that may be broken, and the Message-IDs that thread email conversations."""

from __future__ import annotations

import hashlib
import re
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage

from carepath.domain.messages import MAX_EXTERNAL_ID_LENGTH

_BRACKETED = re.compile(r"<([^<>\s]+)>")
_TOKEN = re.compile(r"[^<>\s@]+@[^<>\s@]+")
GENERATED_DOMAIN = "generated.carepath.invalid"
# The stdlib's header parsers raise these on some malformed input instead of recording a defect.
HEADER_ERRORS = (HeaderParseError, MessageError, ValueError, IndexError, TypeError, LookupError)


def header(msg: EmailMessage, name: str) -> str | None:
    """The header's (decoded) value, None when absent; a broken one reads as its raw text."""
    try:
        value = msg.get(name)
        return None if value is None else str(value)
    except HEADER_ERRORS:
        wanted = name.lower()
        return next((str(v) for k, v in msg.raw_items() if k.lower() == wanted), None)


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References value, without angle brackets, in
    order. Clients that forget the brackets still get their bare `left@right` ids read."""
    if not value:
        return []
    found = _BRACKETED.findall(value) or _TOKEN.findall(value)
    return [item for item in found if item.isprintable()]


def external_id(message_id: str) -> str:
    """The id a message is stored and matched under: the Message-ID itself, or a digest of one
    longer than the column (the same digest for a reply's reference to it, so threads hold)."""
    if len(message_id) <= MAX_EXTERNAL_ID_LENGTH:
        return message_id
    return f"sha256-{hashlib.sha256(message_id.encode()).hexdigest()}@{GENERATED_DOMAIN}"


def generated_message_id(raw: bytes) -> str:
    """A stable stand-in for a missing Message-ID: the same bytes always get the same id."""
    return f"{hashlib.sha256(raw).hexdigest()[:40]}@{GENERATED_DOMAIN}"
