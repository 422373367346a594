"""Sealing per-tenant channel secrets (provider tokens, mailbox passwords) at rest.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from CAREPATH_SECRET_KEY: a database dump
alone does not reveal them. Changing the secret key makes sealed secrets unreadable; they must
then be entered again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carepath.errors import ConfigurationError


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"carepath.channel-secrets"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secrets: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        if not sealed:
            return {}
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ConfigurationError(
                "channel secrets cannot be read with this CAREPATH_SECRET_KEY; was it changed? "
                "Enter the channel's secrets again."
            ) from exc
        if not isinstance(value, dict):
            raise ConfigurationError("channel secrets are damaged; enter them again")
        return value
