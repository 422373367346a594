"""Secrets never reach the logs: tokens that travel in URLs (the visitor stream's `?session=`,
survey links `/s/<token>`, continue-in-chat links `?token=`) are masked in every log line,
uvicorn's access log included, before any handler writes it."""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"
_PARAMS = re.compile(
    r"(?i)([?&](?:session|token|continue_token|hash|key|secret|password|signature)=)[^&\s\"']+"
)
_PATHS = re.compile(r"(/s/)[^/?\s\"']+")


def redact(text: str) -> str:
    return _PATHS.sub(rf"\g<1>{MASK}", _PARAMS.sub(rf"\g<1>{MASK}", text))


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """A handler filter: rewrites the message and its arguments, never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        return True
