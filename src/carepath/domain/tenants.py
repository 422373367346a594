"""A tenant is one company; everything else belongs to exactly one."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carepath.domain.clock import utcnow
from carepath.errors import InvalidInput
from carepath.ids import TenantId, new_id

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def validate_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            "a tenant slug is 1-40 lowercase letters, digits or inner hyphens (e.g. acme-bank)",
            field="slug",
        )
    return slug


SURVEY_KINDS = ("csat", "nps", "ces")


def _public_key() -> str:
    return f"pk_{secrets.token_urlsafe(18)}"


def _identity_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(eq=False)
class Tenant:
    """A company, with its conversation policy.

    `public_key` identifies the tenant to browsers and apps (it is not a secret);
    `identity_secret` is shared with the tenant's own backend, which signs user ids with it so a
    browser cannot claim to be someone else (HMAC-SHA256, see domain.identify).
    """

    slug: str
    name: str
    id: TenantId = field(default_factory=lambda: TenantId(new_id("tenant")))
    created_at: datetime = field(default_factory=utcnow)
    public_key: str = field(default_factory=_public_key)
    identity_secret: str = field(default_factory=_identity_secret)
    # Refuse unverified identify calls from browsers instead of treating them as anonymous hints.
    verification_required: bool = False
    # A message about a case resolved less than this long ago reopens it; later, a new case.
    reopen_window_days: int = 7
    # A contact (one session on one channel) ends after this much silence.
    contact_gap_minutes: int = 30
    survey_kinds: list[str] = field(default_factory=lambda: ["csat"])

    @classmethod
    def create(cls, slug: str, name: str) -> Tenant:
        name = name.strip()
        if not name:
            raise InvalidInput("a tenant needs a name", field="name")
        return cls(slug=validate_slug(slug), name=name)

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.reopen_window_days)

    @property
    def contact_gap(self) -> timedelta:
        return timedelta(minutes=self.contact_gap_minutes)

    def set_surveys(self, kinds: list[str]) -> None:
        unknown = sorted(set(kinds) - set(SURVEY_KINDS))
        if unknown:
            raise InvalidInput(
                f"unknown survey kinds {unknown}; use {SURVEY_KINDS}", field="surveys"
            )
        self.survey_kinds = [k for k in SURVEY_KINDS if k in kinds]
