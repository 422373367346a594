"""Typed, time-ordered identifiers: a short prefix that says what it is, then a UUIDv7 in hex."""

from __future__ import annotations

from typing import NewType

import uuid_utils

TenantId = NewType("TenantId", str)
UserId = NewType("UserId", str)
ApiTokenId = NewType("ApiTokenId", str)
SessionId = NewType("SessionId", str)

# Prefixes make a stray id in a log or a support ticket self-explaining.
PREFIXES = {
    "tenant": "ten",
    "user": "usr",
    "api_token": "tok",
    "session": "ses",
    "audit": "aud",
}


def new_id(kind: str) -> str:
    """A new id for `kind`; UUIDv7 keeps ids roughly sorted by creation time (index friendly)."""
    return f"{PREFIXES[kind]}_{uuid_utils.uuid7().hex}"
