"""X-Hub-Signature-256 against Meta's published vector, and the subscription handshake."""

from __future__ import annotations

import pytest

from carepath.channels.meta.signature import answer_challenge, sign, verify_signature

# Meta's published example: app secret TEST_APP_SECRET, raw body "test".
SECRET = "TEST_APP_SECRET"
BODY = b"test"
SIGNATURE = "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"


def test_the_published_signature_is_computed() -> None:
    assert sign(SECRET, BODY) == SIGNATURE


def test_the_published_signature_verifies() -> None:
    assert verify_signature(SECRET, BODY, SIGNATURE)


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        ("WRONG_APP_SECRET", BODY, SIGNATURE),
        (SECRET, b"test ", SIGNATURE),  # one byte more: the raw body is what is signed
        (SECRET, BODY, SIGNATURE.removeprefix("sha256=")),
        (SECRET, BODY, SIGNATURE.replace("sha256=", "sha1=")),
        (SECRET, BODY, SIGNATURE.upper()),
        (SECRET, BODY, "sha256=ü"),
        (SECRET, BODY, ""),
        (SECRET, BODY, None),
        ("", BODY, SIGNATURE),
    ],
)
def test_anything_else_is_refused(secret: str, body: bytes, signature: str | None) -> None:
    assert not verify_signature(secret, body, signature)


def handshake(**overrides: str) -> dict[str, str]:
    return {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": "meatyhamhock",
        **overrides,
    }


def test_the_handshake_echoes_the_challenge_for_our_verify_token() -> None:
    assert answer_challenge(handshake(), ["another-token", "meatyhamhock"]) == "1158201444"


@pytest.mark.parametrize(
    ("params", "tokens"),
    [
        (handshake(**{"hub.verify_token": "guess"}), ["meatyhamhock"]),
        (handshake(**{"hub.mode": "unsubscribe"}), ["meatyhamhock"]),
        (handshake(**{"hub.verify_token": ""}), [""]),
        (handshake(**{"hub.challenge": ""}), ["meatyhamhock"]),
        (handshake(), []),
    ],
)
def test_a_wrong_handshake_is_refused(params: dict[str, str], tokens: list[str]) -> None:
    assert answer_challenge(params, tokens) is None
