"""Small value types shared across layers."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a user or API token may do in its tenant; each role includes those below it."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
