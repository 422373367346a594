"""Errors with stable codes. The web layer maps them to HTTP; nothing here knows about HTTP."""

from __future__ import annotations

from typing import Any


class CarepathError(Exception):
    """Base of every expected failure: a machine-readable code, a message for people, and data."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data: dict[str, Any] = data

    def __str__(self) -> str:
        return self.message


class NotFound(CarepathError):
    """The object does not exist, or belongs to another tenant (we never tell which)."""

    code = "not_found"


class AuthenticationRequired(CarepathError):
    """No credentials, or credentials that do not check out."""

    code = "authentication_required"


class PermissionDenied(CarepathError):
    """Authenticated, but this role may not do this."""

    code = "permission_denied"


class InvalidInput(CarepathError):
    """Input that passed the schema but breaks a domain rule."""

    code = "invalid_input"


class Conflict(CarepathError):
    """The change collides with the current state (a duplicate name, a stale version)."""

    code = "conflict"


class IllegalTransition(Conflict):
    """A status change that the state machine does not allow."""

    code = "illegal_transition"


class RateLimited(CarepathError):
    """Too many requests from one caller; `retry_after_s` in the data says when to try again."""

    code = "rate_limited"


class ConfigurationError(CarepathError):
    """Settings or environment that cannot work; raised at start, before serving anything."""

    code = "configuration_error"


class DeliveryFailed(CarepathError):
    """Background work (a webhook, a message to a provider) did not get through this time.

    `retryable` says whether trying again later can help (a timeout, a 503) or not (a 404).
    """

    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool, **data: Any) -> None:
        super().__init__(message, retryable=retryable, **data)
        self.retryable = retryable
