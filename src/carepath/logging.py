"""Logging setup: readable lines for people, one JSON object per line for log pipelines."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": _FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {
            "mask_cards": {"()": "carepath.log_masking.CardMaskingFilter"},
            # Tokens in URLs (access log lines): see carepath.log_redaction.
            "redact_secrets": {"()": "carepath.log_redaction.RedactSecrets"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["mask_cards", "redact_secrets"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's own loggers go through the same handler and format.
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # At DEBUG aiosqlite logs every statement with its parameters: stored secrets
            # (session CSRF tokens, webhook secrets) would be written out.
            "aiosqlite": {"level": "INFO"},
        },
    }


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(json=json, level=level))
