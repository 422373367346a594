"""The demo's order system: what the "where is my order" flow calls."""

from __future__ import annotations

import httpx

from carepath.demo import company
from carepath.demo.shop import STATUSES, create_shop, order_status
from carepath.tenant_config import parse_tenant_config


async def ask(body: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_shop())
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        return await client.post("/orders/status", json=body)


async def test_an_order_has_the_same_status_every_time_and_dates_once_shipped() -> None:
    answer = await ask({"order_number": "A10042"})
    assert answer.status_code == 200
    assert answer.json() == order_status("A10042") == order_status("A10042")
    seen = {order_status(f"A{n:05d}")["status"] for n in range(10000, 10040)}
    assert seen == set(STATUSES)
    for n in range(10000, 10040):
        status = order_status(f"A{n:05d}")
        assert ("shipped_on" in status) is (status["status"] != "processing")
        assert ("expected_on" in status) is (status["status"] == "shipped")


async def test_a_malformed_order_number_or_body_is_refused() -> None:
    assert (await ask({"order_number": "10042"})).status_code == 422
    assert (await ask({"order": "A10042"})).status_code == 422
    assert (await ask(["A10042"])).status_code == 422


def test_the_company_flow_calls_the_order_system_where_the_demo_runs_it() -> None:
    config = parse_tenant_config(company.config_source("http://127.0.0.1:5123"))
    (flow,) = config.flows
    assert flow.intent == "delivery_status"
    assert flow.call is not None
    assert str(flow.call.url) == "http://127.0.0.1:5123/orders/status"
    assert company.order_number(42) == "A10042"
