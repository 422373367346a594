"""X-Twilio-Signature: verified with the twilio SDK's own RequestValidator.

Twilio signs the full URL it called (scheme, host, port, path, query) plus the sorted POST
parameters with the account's auth token (HMAC-SHA1, base64); JSON bodies are covered by a
`bodySHA256` query parameter instead. Behind a proxy the URL Twilio called is not the one
carepath sees, so it is rebuilt from CAREPATH_PUBLIC_URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def webhook_url(public_url: str, path: str, query: str) -> str:
    """The URL as Twilio called it, from the public base URL and the request's path and query."""
    url = public_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


class _Params:
    """A read-only multi-dict view the SDK understands (it asks for `getlist`)."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[str]:
        return iter({k for k, _ in self._items})

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name]


def verify_signature(
    auth_token: str,
    url: str,
    params: Sequence[tuple[str, str]] | str,
    signature: str | None,
) -> bool:
    """True if `signature` is Twilio's for this URL and form (or JSON body, as a str)."""
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    values: Mapping[str, str] | _Params | str = (
        params if isinstance(params, str) else _Params(params)
    )
    return bool(validator.validate(url, values, signature))


def sign(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """What Twilio would send: for the emulator and tests, by the SDK too."""
    return str(RequestValidator(auth_token).compute_signature(url, _Params(params)))
