"""The supervisor dashboard in a real browser: every page draws its charts with the plotly.js the
server itself serves, with no console error and no request to anything but the server.
Screenshots: test-artifacts/dashboard-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.storage import Database
from carepath.types import Role
from carepath.web.ui.dashboard import DASHBOARD_PAGES
from tests.analytics_history import load_generated
from tests.factories import PASSWORD, make_company, make_user, system
from tests.live import serving
from tests.services import services_required

if not services_required():
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Browser, ConsoleMessage, Request, expect

expect.set_options(timeout=20_000)

TENANT = """\
channels: [chat, app, email, sms, whatsapp, messenger, voice, web]
skills: [general]
intents:
  - {name: order_status, description: "Where is my order"}
  - {name: return_item, description: "Return an item"}
  - {name: billing_dispute, description: "A charge is wrong"}
strategy:
  defaults: {treatment: assisted, skill: general}
  channel_defaults:
    voice: {treatment: live}
    web: {treatment: self_serve}
  intents:
    order_status: {treatment: self_serve}
"""


@pytest.fixture
async def base(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


async def test_every_dashboard_page_draws_offline_without_errors(
    browser: Browser, base: str, db: Database, artifacts: Path
) -> None:
    # given a company with four weeks of generated history and a strategy map
    company = await make_company(db)
    await do_apply_tenant_config(db, system(company.tenant), TENANT)
    await load_generated(db, company.tenant.id, customers_n=300)
    supervisor = await make_user(db, company.tenant, Role.SUPERVISOR)

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} at {message.location}")

    def on_request(request: Request) -> None:
        if not request.url.startswith((base, "data:", "blob:")):
            elsewhere.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", on_request)
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    # when the supervisor logs in and opens each page from the console's navigation
    await page.goto(f"{base}/app/login?next=/app/supervisor/dashboard")
    await page.get_by_label("Company").fill(company.tenant.slug)
    await page.get_by_label("Email").fill(supervisor.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{base}/app/supervisor/dashboard")

    await expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    for path in DASHBOARD_PAGES:
        await page.goto(f"{base}{path}")
        figures = page.locator("[data-figure]")
        # then each chart is drawn by plotly.js
        assert await figures.count() > 0, path
        await expect(page.locator("[data-figure] .main-svg").first).to_be_visible()
        drawn = page.locator("[data-figure].js-plotly-plot")
        await expect(drawn).to_have_count(await figures.count())
        name = path.rsplit("/", 1)[-1]
        await page.screenshot(path=str(artifacts / f"dashboard-{name}.png"), full_page=True)

    # and a filter narrows the movement matrix to returns
    await page.goto(f"{base}/app/supervisor/dashboard/movement")
    await page.get_by_label("Intent").select_option("return_item")
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(f"{base}/app/supervisor/dashboard/movement?" + _query())
    await expect(page.locator("#chart-movement.js-plotly-plot")).to_be_visible()

    assert errors == [], "\n".join(errors)
    assert elsewhere == []
    await context.close()


def _query() -> str:
    return "from=&to=&channel=&intent=return_item&segment=&handled_by=&hours=24"
