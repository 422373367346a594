"""Meta's webhook authentication, shared by WhatsApp, Messenger and Instagram: the subscription
handshake and the X-Hub-Signature-256 HMAC of the raw body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
MAX_CHALLENGE_LENGTH = 200


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends: `sha256=` + hex HMAC-SHA256 of the body with the app secret."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, signature: str | None) -> bool:
    """True if `signature` is Meta's for exactly these bytes (never a re-serialised parse)."""
    if not signature or not app_secret:
        return False
    return hmac.compare_digest(sign(app_secret, body).encode(), signature.strip().encode())


def answer_challenge(params: Mapping[str, str], verify_tokens: Iterable[str]) -> str | None:
    """The `hub.challenge` to echo when Meta's subscription request carries one of our verify
    tokens; None when it must be refused."""
    challenge = params.get("hub.challenge", "")
    token = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not token:
        return None
    if not challenge or len(challenge) > MAX_CHALLENGE_LENGTH or not challenge.isprintable():
        return None
    matches = [
        hmac.compare_digest(expected.encode(), token.encode())
        for expected in verify_tokens
        if expected
    ]
    return challenge if any(matches) else None
