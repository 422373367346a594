"""The pure model of carepath: entities, value objects and their rules. No I/O, no frameworks."""

from carepath.domain.audit import AuditEntry
from carepath.domain.tenants import Tenant, validate_slug
from carepath.domain.users import ApiToken, LoginSession, User, normalize_email

__all__ = [
    "ApiToken",
    "AuditEntry",
    "LoginSession",
    "Tenant",
    "User",
    "normalize_email",
    "validate_slug",
]
