"""The one access gate: who a request is, what each role may do, and tenant scoping of every object.

Routes and CLI commands ask here; nothing else decides permissions. An object of another tenant is
reported as not found, never as forbidden, so ids cannot be probed across tenants.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, TypeVar

from carepath.errors import NotFound, PermissionDenied
from carepath.ids import ApiTokenId, TenantId, UserId
from carepath.types import Role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (web session), an API token, or carepath itself (CLI)."""

    tenant_id: TenantId
    role: Role
    user_id: UserId | None = None
    token_id: ApiTokenId | None = None
    system: str | None = None

    @classmethod
    def for_system(cls, tenant_id: TenantId, name: str) -> Principal:
        """carepath acting on an operator's behalf (CLI, demo seeding, the worker)."""
        return cls(tenant_id=tenant_id, role=Role.ADMIN, system=name)

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        if self.user_id:
            return f"user:{self.user_id}"
        if self.token_id:
            return f"token:{self.token_id}"
        return f"system:{self.system or 'carepath'}"


class Permission(enum.StrEnum):
    READ_TENANT = "read_tenant"
    READ_USERS = "read_users"
    MANAGE_USERS = "manage_users"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_WEBHOOKS = "manage_webhooks"
    READ_AUDIT = "read_audit"
    READ_CUSTOMERS = "read_customers"
    UPDATE_CUSTOMERS = "update_customers"
    MERGE_CUSTOMERS = "merge_customers"
    READ_CASES = "read_cases"
    WORK_CASES = "work_cases"
    ASSIGN_CASES = "assign_cases"
    MANAGE_CHANNELS = "manage_channels"
    READ_TENANT_CONFIG = "read_tenant_config"
    MANAGE_TENANT_CONFIG = "manage_tenant_config"
    READ_AGENTS = "read_agents"
    MANAGE_AGENTS = "manage_agents"
    READ_ARTICLES = "read_articles"
    MANAGE_ARTICLES = "manage_articles"
    SUPERVISE = "supervise"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    READ_CASE_AUDIT = "read_case_audit"


# The least role that holds each permission; roles include those below them (types.Role).
_REQUIRED_ROLE: dict[Permission, Role] = {
    Permission.READ_TENANT: Role.AGENT,
    Permission.READ_USERS: Role.SUPERVISOR,
    Permission.MANAGE_USERS: Role.ADMIN,
    Permission.MANAGE_TOKENS: Role.ADMIN,
    Permission.MANAGE_WEBHOOKS: Role.ADMIN,
    Permission.READ_AUDIT: Role.ADMIN,
    Permission.READ_CUSTOMERS: Role.AGENT,
    # Trait edits and identify/track from a backend token: agents keep profiles current.
    Permission.UPDATE_CUSTOMERS: Role.AGENT,
    # Agents are the first to spot a duplicate (same person on email and phone); every merge
    # is audited and can be undone, so it needs no supervisor.
    Permission.MERGE_CUSTOMERS: Role.AGENT,
    Permission.READ_CASES: Role.AGENT,
    Permission.WORK_CASES: Role.AGENT,
    Permission.ASSIGN_CASES: Role.SUPERVISOR,
    Permission.MANAGE_CHANNELS: Role.ADMIN,
    # Supervisors maintain the strategy map (SPEC: "maintains the contact strategy map").
    Permission.READ_TENANT_CONFIG: Role.AGENT,
    Permission.MANAGE_TENANT_CONFIG: Role.SUPERVISOR,
    # Supervisors watch who is online and how loaded; admins set skills and capacity.
    Permission.READ_AGENTS: Role.SUPERVISOR,
    Permission.MANAGE_AGENTS: Role.ADMIN,
    # Agents read drafts too; supervisors own what customers are told (and the gap report).
    Permission.READ_ARTICLES: Role.AGENT,
    Permission.MANAGE_ARTICLES: Role.SUPERVISOR,
    # The supervisor console (live board, any agent's cases, admin pages) in the web UI.
    Permission.SUPERVISE: Role.SUPERVISOR,
    # Personal data requests (access, erasure) are the data controller's: admins only.
    Permission.EXPORT_PERSONAL_DATA: Role.ADMIN,
    Permission.ERASE_PERSONAL_DATA: Role.ADMIN,
    # Who read or changed a case: supervisors check their team's access.
    Permission.READ_CASE_AUDIT: Role.SUPERVISOR,
}


def can(principal: Principal, permission: Permission) -> bool:
    return principal.role.includes(_REQUIRED_ROLE[permission])


def authorize(principal: Principal, permission: Permission) -> None:
    if not can(principal, permission):
        raise PermissionDenied(
            f"your role ({principal.role}) may not {permission.value.replace('_', ' ')}",
            permission=permission.value,
            required_role=_REQUIRED_ROLE[permission].value,
        )


class TenantOwned(Protocol):
    @property
    def tenant_id(self) -> TenantId: ...


T = TypeVar("T", bound=TenantOwned)


def scoped(principal: Principal, obj: T | None, kind: str) -> T:
    """`obj` if it exists and is in the caller's tenant; otherwise NotFound, whichever it was."""
    if obj is None or obj.tenant_id != principal.tenant_id:
        raise NotFound(f"{kind} not found", kind=kind)
    return obj
