"""Typed, time-ordered identifiers: a short prefix that says what it is, then a UUIDv7 in hex."""

from __future__ import annotations

from typing import NewType

import uuid_utils

TenantId = NewType("TenantId", str)
UserId = NewType("UserId", str)
ApiTokenId = NewType("ApiTokenId", str)
SessionId = NewType("SessionId", str)
CustomerId = NewType("CustomerId", str)
IdentityId = NewType("IdentityId", str)
CaseId = NewType("CaseId", str)
ContactId = NewType("ContactId", str)
MessageId = NewType("MessageId", str)
JourneyEventId = NewType("JourneyEventId", str)
MergeId = NewType("MergeId", str)

# Prefixes make a stray id in a log or a support ticket self-explaining.
PREFIXES = {
    "tenant": "ten",
    "user": "usr",
    "api_token": "tok",
    "session": "ses",
    "audit": "aud",
    "outbox": "obx",
    "webhook": "whk",
    "survey": "svy",
    "channel_account": "cha",
    "customer": "cus",
    "identity": "idn",
    "case": "case",
    "contact": "con",
    "message": "msg",
    "journey_event": "jev",
    "merge": "mrg",
    "callback": "cbk",
    "call": "call",
    "work": "wrk",
    "article": "art",
    "kb_search": "kbs",
    "assistant_turn": "atn",
    "early_status": "eds",
}


def new_id(kind: str) -> str:
    """A new id for `kind`; UUIDv7 keeps ids roughly sorted by creation time (index friendly)."""
    return f"{PREFIXES[kind]}_{uuid_utils.uuid7().hex}"
