"""A tenant is one company; everything else belongs to exactly one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(eq=False)
class Tenant:
    slug: str
    name: str
    id: TenantId = field(default_factory=lambda: TenantId(new_id("tenant")))
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def create(cls, slug: str, name: str) -> Tenant:
        name = name.strip()
        if not name:
            raise InvalidInput("a tenant needs a name", field="name")
        return cls(slug=validate_slug(slug), name=name)
