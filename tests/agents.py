"""Agents for routing tests: users with skills and capacity, each signed in with their own HTTP
client (a session cookie each), a routing configuration open around the clock, and events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from carepath.domain import User
from carepath.ids import TenantId
from carepath.storage import Database
from carepath.types import Role
from tests.factories import PASSWORD, Company, bearer, make_user

ALWAYS_OPEN = (
    "{"
    + ", ".join(f'{d}: "00:00-24:00"' for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    + "}"
)


def routing_config(
    *,
    treatment: str = "live",
    skill: str = "returns",
    sla_seconds: int = 300,
    auto_accept: bool = True,
    offer_timeout_s: float = 30,
    sticky_window_s: float = 90,
    min_proficiency: int = 4,
    extra: str = "",
) -> str:
    """A tenant file: open around the clock, chat straight to `skill` agents (bar 4, widening
    to 2 after 60 s, the `general` skill after 120 s)."""
    widening = min(2, min_proficiency)
    return f"""\
business_hours:
  timezone: UTC
  weekly: {ALWAYS_OPEN}
channels: [chat, sms, email, voice]
skills: [general, returns, billing]
routing:
  min_proficiency: {min_proficiency}
  widening: [{{after_s: 60, min_proficiency: {widening}}}]
  fallback_skill: general
  fallback_after_s: 120
  sticky_window_s: {sticky_window_s}
  offer_timeout_s: {offer_timeout_s}
  auto_accept: {str(auto_accept).lower()}
strategy:
  defaults: {{treatment: {treatment}, skill: {skill}, priority: normal, sla_seconds: {sla_seconds}}}
{extra}"""


async def apply_config(client: httpx.AsyncClient, company: Company, text: str) -> httpx.Response:
    return await client.put(
        "/v1/tenant/config",
        content=text.encode(),
        headers={**bearer(company.admin_token), "Content-Type": "application/yaml"},
    )


@dataclass
class SignedIn:
    """An agent's own browser: their session cookie and CSRF header."""

    user: User
    http: httpx.AsyncClient
    csrf: dict[str, str]

    @property
    def id(self) -> str:
        return self.user.id

    async def presence(self, presence: str) -> httpx.Response:
        return await self.http.put(
            "/v1/agents/me/presence", json={"presence": presence}, headers=self.csrf
        )

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.csrf)


class Team:
    """Agents of one company, made and signed in through the API."""

    def __init__(self, app: FastAPI, db: Database, client: httpx.AsyncClient, company: Company):
        self.app, self.db, self.client, self.company = app, db, client, company
        self._open: list[httpx.AsyncClient] = []

    async def agent(
        self,
        skills: Mapping[str, int],
        *,
        capacity: Mapping[str, int] | None = None,
        total_capacity: int | None = None,
        online: bool = True,
    ) -> SignedIn:
        user = await make_user(self.db, self.company.tenant, Role.AGENT)
        body: dict[str, Any] = {"skills": dict(skills)}
        if capacity is not None:
            body["capacity"] = dict(capacity)
        if total_capacity is not None:
            body["total_capacity"] = total_capacity
        profile = await self.client.put(
            f"/v1/agents/{user.id}/profile", json=body, headers=bearer(self.company.admin_token)
        )
        assert profile.status_code == 200, profile.text
        signed_in = await self.sign_in(user)
        if online:
            assert (await signed_in.presence("online")).status_code == 200
        return signed_in

    async def sign_in(self, user: User) -> SignedIn:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="https://testserver"
        )
        self._open.append(http)
        login = await http.post(
            "/v1/auth/login",
            json={"tenant": self.company.tenant.slug, "email": user.email, "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        return SignedIn(user, http, {"X-CSRF-Token": login.json()["csrf_token"]})

    async def close(self) -> None:
        for http in self._open:
            await http.aclose()


@asynccontextmanager
async def team(
    app: FastAPI, db: Database, client: httpx.AsyncClient, company: Company
) -> AsyncIterator[Team]:
    made = Team(app, db, client, company)
    try:
        yield made
    finally:
        await made.close()


async def events_of(db: Database, tenant_id: TenantId, *types: str) -> list[dict[str, Any]]:
    """The payloads of the tenant's events of these types, in order."""
    async with db.uow(write=False) as uow:
        found = await uow.events.after(tenant_id, 0, limit=10_000)
    return [e.payload for e in found if e.type in types]
