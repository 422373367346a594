"""Helpers for the live WhatsApp, Messenger and Instagram tests: carepath and the Graph API
emulator on loopback ports, webhooks signed the way Meta signs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from carepath.actions.channels import do_create_channel_account
from carepath.channels.meta.signature import SIGNATURE_HEADER, sign
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.emulator import create_emulator
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.tables import cases, customers, messages
from carepath.web import create_app
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, system
from tests.live import free_port, serving

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "meta-verify-token-for-tests"


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[str]:
    async with serving(create_emulator(), lifespan=True) as url:
        yield url


@contextlib.asynccontextmanager
async def carepath(database_url: str, data_dir: Path, emulator_url: str) -> AsyncIterator[str]:
    """A real carepath server (with its in-process outbox worker) sending to the emulator."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        graph_api_url=emulator_url,
    )
    async with serving(create_app(settings), port, lifespan=True) as url:
        yield url


async def add_account(
    db: Database,
    company: Company,
    channel: Channel,
    address: str,
    *,
    access_token: str,
    app_secret: str = APP_SECRET,
) -> ChannelAccount:
    return await do_create_channel_account(
        db,
        system(company.tenant),
        SecretBox(TEST_SECRET),
        channel=channel,
        name=f"{channel} {address}",
        address=address,
        secrets={
            "app_secret": app_secret,
            "verify_token": VERIFY_TOKEN,
            "access_token": access_token,
        },
    )


async def post_signed(
    url: str, payload: Any, *, secret: str = APP_SECRET, **headers: str
) -> httpx.Response:
    """POST like Meta: the raw bytes sent are the bytes signed."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with httpx.AsyncClient() as http:
        return await http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, body),
                **headers,
            },
        )


async def count(db: Database, table: object) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def nothing_stored(db: Database) -> bool:
    return (await count(db, messages), await count(db, customers), await count(db, cases)) == (
        0,
        0,
        0,
    )


async def only_case(server: str, company: Company) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        [case] = (await api.get("/v1/cases")).json()["items"]
        detail: dict[str, Any] = (await api.get(f"/v1/cases/{case['id']}")).json()
    return detail


async def customer_of(server: str, company: Company, customer_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        customer: dict[str, Any] = (await api.get(f"/v1/customers/{customer_id}")).json()
    return customer


async def message_of(server: str, company: Company, case_id: str, message_id: str) -> Any:
    async with httpx.AsyncClient(base_url=server, headers=bearer(company.agent_token)) as api:
        detail = (await api.get(f"/v1/cases/{case_id}")).json()
    return next(m for m in detail["messages"] if m["id"] == message_id)


async def wait_for_delivery(
    server: str, company: Company, case_id: str, message_id: str, status: str
) -> dict[str, Any]:
    """The message once its delivery status is `status` (or as it is after 10 s)."""
    message: dict[str, Any] = {}
    for _ in range(100):
        message = await message_of(server, company, case_id, message_id)
        if message["delivery_status"] == status:
            break
        await asyncio.sleep(0.1)
    return message


async def recorded(emulator_url: str, kind: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        found: list[dict[str, Any]] = (
            await http.get(f"{emulator_url}/_emulator/requests", params={"kind": kind})
        ).json()
    return found
