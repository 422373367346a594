"""X-Twilio-Signature against the twilio SDK's own published test vectors.

Vectors from twilio-python's tests/unit/test_request_validator.py: auth token "12345", URL
https://mycompany.com/myapp.php?foo=1&bar=2 and its documented parameters.
"""

from __future__ import annotations

import pytest

from carepath.channels.twilio.signature import sign, verify_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_the_documented_signature_is_computed() -> None:
    assert sign(TOKEN, URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_documented_signature_verifies() -> None:
    assert verify_signature(TOKEN, URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # a port in the URL Twilio called, though it signed without one (https)
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # signed with the http port included
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # signed with the default https port added
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        # signed with the default http port added
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_port_variants_verify(url: str, signature: str) -> None:
    assert verify_signature(TOKEN, url, PARAMS, signature)


def test_repeated_keys_are_signed_in_sorted_order() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert sign(TOKEN, URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert verify_signature(TOKEN, URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_a_json_body_is_covered_by_its_sha256_in_the_url() -> None:
    body = '{"property": "value", "boolean": true}'
    body_hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = f"{URL}&bodySHA256={body_hash}"
    assert verify_signature(TOKEN, url, body, "a9nBmqA0ju/hNViExpshrM61xv4=")
    assert not verify_signature(
        TOKEN, url, body.replace("true", "false"), "a9nBmqA0ju/hNViExpshrM61xv4="
    )


@pytest.mark.parametrize(
    ("token", "params", "signature"),
    [
        ("wrong-token", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (TOKEN, [*PARAMS, ("Extra", "1")], "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (TOKEN, PARAMS, None),
        (TOKEN, PARAMS, ""),
        ("", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
)
def test_anything_else_is_refused(
    token: str, params: list[tuple[str, str]], signature: str | None
) -> None:
    assert not verify_signature(token, URL, params, signature)
