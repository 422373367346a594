"""A company with a trained assistant, a signed-in app customer and the outbox worker, for the
assistant's conversation tests."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from carepath.actions.assistant import do_train_tenant_model
from carepath.delivery.registry import build_handlers
from carepath.domain.clock import utcnow
from carepath.settings import Settings
from carepath.storage import Database
from carepath.worker import OutboxWorker
from tests.channels.widget.visitor import Visitor, open_visitor, signed, site
from tests.factories import Company, bearer, make_company, system

EXAMPLES: dict[str, list[str]] = {
    "refund_not_received": [
        "my refund still hasn't arrived",
        "where is my refund",
        "I returned the item but got no refund",
        "refund not received yet",
        "when will I get my money back",
        "still waiting for my refund",
        "you haven't refunded me",
        "the refund for my return is missing",
    ],
    "order_status": [
        "where is my order",
        "has my order shipped",
        "track my order",
        "when will my order arrive",
        "order status please",
        "my parcel has not come",
        "what is the status of my order",
        "is my package on its way",
    ],
    "upgrade_plan": [
        "I want to upgrade to premium",
        "how do I upgrade my plan",
        "can I switch to the business plan",
        "upgrade my subscription",
        "I'd like a bigger plan",
        "what does premium cost",
        "move me to the pro plan",
        "I want more features, upgrade me",
    ],
    "oos": [
        "what's the weather like on mars",
        "tell me a joke about penguins",
        "who won the football yesterday",
        "asdf qwerty zxcv",
        "recipe for banana bread",
        "what is the capital of peru",
        "sing me a song",
        "how tall is mount everest",
    ],
}


def tenant_yaml(flow_url: str = "http://127.0.0.1:9/none") -> str:
    intents = "\n".join(
        f"  - name: {name}\n    examples:\n" + "\n".join(f'      - "{t}"' for t in texts)
        for name, texts in EXAMPLES.items()
    )
    return f"""
skills: [general, returns, orders, sales]
channels: [chat, app, email]
intents:
{intents}
strategy:
  defaults: {{treatment: assisted, skill: general}}
  intents:
    refund_not_received: {{treatment: assisted, skill: returns, priority: high}}
    order_status: {{treatment: self_serve, skill: orders}}
    upgrade_plan: {{treatment: assisted, skill: sales, sales_opportunity: true}}
flows:
  - intent: order_status
    slots:
      - name: order_number
        ask: "What is your order number? It looks like A12345."
        pattern: "[A-Z][0-9]{{5}}"
        invalid: "That is not an order number."
        max_attempts: 3
    call: {{url: "{flow_url}", timeout_s: 0.5}}
    branches:
      - when: {{field: status, equals: shipped}}
        reply: "Order {{order_number}} shipped on {{response.shipped_on}}."
    reply: "Order {{order_number}} is {{response.status}}."
"""


@dataclass
class World:
    company: Company
    client: httpx.AsyncClient
    db: Database
    settings: Settings
    visitor: Visitor | None = None

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.company.admin_token)

    async def configure(
        self, *, flow_url: str = "http://127.0.0.1:9/none", train: bool = True
    ) -> None:
        put = await self.client.put(
            "/v1/tenant/config", content=tenant_yaml(flow_url), headers=self.admin
        )
        assert put.status_code == 200, put.text
        if train:
            await do_train_tenant_model(
                self.db, system(self.company.tenant), self.settings.data_dir
            )

    async def sign_in(self, user_id: str = "app-user-42") -> Visitor:
        tenant = self.company.tenant
        self.visitor = await open_visitor(
            self.client, tenant, user_id=user_id, hash=signed(tenant, user_id)
        )
        return self.visitor

    async def track(self, name: str, *, hours_ago: float, channel: str = "app") -> None:
        tenant, user = self.company.tenant, "app-user-42"
        event = {
            "type": "app_step",
            "name": name,
            "channel": channel,
            "occurred_at": (utcnow() - timedelta(hours=hours_ago)).isoformat(),
        }
        body = {"user_id": user, "hash": signed(tenant, user), "events": [event]}
        response = await self.client.post("/v1/track", json=body, headers=site(tenant))
        assert response.status_code in (200, 201, 202), response.text

    async def say(self, text: str) -> str:
        """The customer writes in chat; the worker runs until nothing is left. The case id."""
        assert self.visitor is not None
        response = await self.client.post(
            "/v1/visitor/messages",
            json={"client_id": str(uuid.uuid4()), "text": text},
            headers=self.visitor.headers,
        )
        assert response.status_code == 201, response.text
        await self.run_worker()
        return str(response.json()["case_id"])

    async def run_worker(self) -> None:
        async with httpx.AsyncClient() as http:
            worker = OutboxWorker(self.db, build_handlers(self.settings, http), name="test")
            for _ in range(20):
                if await worker.run_once() == 0:
                    return

    async def case(self, case_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/cases/{case_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def bot_said(self, case_id: str) -> list[str]:
        messages = (await self.case(case_id))["messages"]
        return [m["text"] for m in messages if m["author_kind"] == "assistant"]


async def make_world(db: Database, client: httpx.AsyncClient, settings: Settings) -> World:
    return World(await make_company(db), client, db, settings)


@contextlib.asynccontextmanager
async def silent_endpoint() -> AsyncIterator[str]:
    """A real HTTP endpoint that accepts the request and never answers (a timeout)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/orders/status"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
