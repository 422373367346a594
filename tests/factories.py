"""Test data made through the real actions, never written straight into tables."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from carepath.access import Principal
from carepath.actions import do_create_api_token, do_create_tenant, do_create_user
from carepath.domain import Tenant, User
from carepath.storage import Database
from carepath.types import Role

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


async def make_tenant(db: Database, slug: str | None = None) -> Tenant:
    n = next(_counter)
    return await do_create_tenant(db, slug=slug or f"tenant-{n}", name=f"Company {n}")


def system(tenant: Tenant) -> Principal:
    return Principal.for_system(tenant.id, "tests")


async def make_user(
    db: Database, tenant: Tenant, role: Role = Role.AGENT, *, email: str | None = None
) -> User:
    n = next(_counter)
    return await do_create_user(
        db,
        system(tenant),
        email=email or f"user{n}@example.com",
        display_name=f"User {n}",
        role=role,
        password=PASSWORD,
    )


async def make_token(db: Database, tenant: Tenant, role: Role = Role.ADMIN) -> str:
    created = await do_create_api_token(db, system(tenant), name=f"{role} token", role=role)
    return created.plaintext


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Company:
    """A tenant with an admin user and a token per role: the usual cast of a test."""

    tenant: Tenant
    admin: User
    admin_token: str
    supervisor_token: str
    agent_token: str


async def make_company(db: Database, slug: str | None = None) -> Company:
    tenant = await make_tenant(db, slug)
    return Company(
        tenant=tenant,
        admin=await make_user(db, tenant, Role.ADMIN),
        admin_token=await make_token(db, tenant, Role.ADMIN),
        supervisor_token=await make_token(db, tenant, Role.SUPERVISOR),
        agent_token=await make_token(db, tenant, Role.AGENT),
    )
