"""An agent's day in a real browser: logs in, goes online, a chat is routed to them live, they read
the hand-off packet, reply by SMS from the same case (the provider emulator receives it) and wrap
up, while a supervisor watches the board change. Customer markup stays text throughout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.agents import do_set_agent_profile
from carepath.actions.channels import do_create_channel_account
from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.domain import User
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.emulator import create_emulator
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.types import Role
from carepath.web import create_app
from tests.agents import ALWAYS_OPEN
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import need_browser
from tests.factories import PASSWORD, Company, make_company, make_user, system
from tests.inbound import inbound
from tests.live import free_port, serving
from tests.services import services_required

if not services_required():
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Browser, Dialog, Page, expect

expect.set_options(timeout=20_000)

OUR_NUMBER = "+16505550199"
CUSTOMER_PHONE = "+16505550100"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
# Chat is assisted; with no trained model the assistant hands every chat off with its packet.
TENANT = f"""\
channels: [chat, sms, email, whatsapp]
skills: [general]
routing: {{auto_accept: true}}
business_hours:
  timezone: UTC
  weekly: {ALWAYS_OPEN}
strategy:
  defaults: {{treatment: assisted, skill: general, sla_seconds: 600}}
saved_replies:
  - name: On its way
    text: "Your refund was sent today; it reaches your card in 5 working days."
"""


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    async with serving(create_emulator(), lifespan=True) as url:
        yield url


@pytest.fixture
async def server(settings: Settings, emulator_url: str) -> AsyncIterator[tuple[FastAPI, str]]:
    """A real server with its worker (outbox, assistant, dispatcher) sending SMS to the emulator."""
    port = free_port()
    app = create_app(
        settings.model_copy(
            update={
                "run_worker": True,
                "twilio_api_url": emulator_url,
                "public_url": f"http://127.0.0.1:{port}",
            }
        )
    )
    async with serving(app, port, lifespan=True) as base:
        yield app, base


async def _company(db: Database) -> tuple[Company, User, User]:
    company = await make_company(db)
    actor = system(company.tenant)
    await do_apply_tenant_config(db, actor, TENANT)
    await do_create_channel_account(
        db,
        actor,
        SecretBox(TEST_SECRET),
        channel=Channel.SMS,
        name="Support line",
        address=OUR_NUMBER,
        config={"account_sid": "AC" + "1" * 32},
        secrets={"auth_token": "sms-auth-token-for-tests"},
    )
    agent = await make_user(db, company.tenant, Role.AGENT)
    await do_set_agent_profile(
        db, actor, agent.id, skills={"general": 5}, capacity={"messaging": 3, "voice": 1}
    )
    supervisor = await make_user(db, company.tenant, Role.SUPERVISOR)
    return company, agent, supervisor


async def _log_in(page: Page, base: str, company: Company, user: User) -> None:
    await page.goto(f"{base}/app")
    await expect(page).to_have_url(f"{base}/app/login?next=/app")
    await page.get_by_label("Company").fill(company.tenant.slug)
    await page.get_by_label("Email").fill(user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{base}/app")
    await expect(page.locator("#live-state")).to_have_text("live")


async def _sms_sent(emulator_url: str, body: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            recorded = (await http.get(f"{emulator_url}/_emulator/requests")).json()
            sent = [
                r
                for r in recorded
                if r["kind"] == "twilio.message" and r["form"].get("Body") == body
            ]
            if sent:
                return sent
            await asyncio.sleep(0.1)
    return []


async def test_an_agent_takes_a_routed_chat_replies_by_sms_and_wraps_up(
    server: tuple[FastAPI, str],
    db: Database,
    emulator_url: str,
    browser: Browser,
    artifacts: Path,
) -> None:
    need_browser()
    app, base = server
    served: Database = app.state.carepath.db
    company, agent, supervisor = await _company(db)
    dialogs: list[str] = []

    def no_dialogs(dialog: Dialog) -> None:
        dialogs.append(dialog.message)

    agent_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await agent_context.new_page()
    page.on("dialog", no_dialogs)
    boss_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    boss = await boss_context.new_page()
    boss.on("dialog", no_dialogs)

    # given an agent who logs in and goes online
    await _log_in(page, base, company, agent)
    await page.get_by_label("Presence").select_option("online")
    await expect(page.locator("#presence .dot")).to_have_class("dot online")
    await expect(page.locator("#inbox-rows")).to_contain_text("Nothing here right now.")
    # and a supervisor watching the board
    await _log_in(boss, base, company, supervisor)
    await boss.goto(f"{base}/app/supervisor")
    await expect(boss.locator("#live-state")).to_have_text("live")
    agent_row = boss.locator(f'tr[data-agent-id="{agent.id}"]')
    await expect(agent_row.locator(".presence")).to_contain_text("online")
    await expect(agent_row.locator(".load").first).to_have_text("0/3")
    await page.evaluate("window.notReloaded = true")
    await page.screenshot(path=artifacts / "workspace-inbox-online.png")

    # when a customer (who also gave their phone number) writes in chat, markup and all
    message = inbound(
        company.tenant.id,
        Channel.CHAT,
        "visitor-7",
        f"My refund has not arrived {HOSTILE}",
        other_identities=(IdentityRef.of(IdentityKind.PHONE, CUSTOMER_PHONE),),
    )
    ingested = await do_ingest_inbound(served, message)

    # then the assistant hands it off, routing gives it to the agent, and it appears live
    row = page.locator("#inbox-rows tr.case-row")
    await expect(row).to_have_count(1)
    await expect(row.locator(".preview")).to_contain_text("<script>alert(1)</script>")
    await expect(row.locator(".badge.unread")).to_be_visible()
    assert await page.evaluate("window.notReloaded") is True
    # and the supervisor's board shows the agent holding it
    await expect(agent_row.locator(".load").first).to_have_text("1/3")
    await boss.screenshot(path=artifacts / "workspace-board.png")
    await page.screenshot(path=artifacts / "workspace-inbox-live.png")

    # when the agent opens it from the keyboard
    await page.keyboard.press("j")
    await page.keyboard.press("Enter")
    await expect(page.locator("#handoff")).to_be_visible()
    # then the hand-off packet is on top, and the customer's words are text everywhere
    await expect(page.locator("#handoff")).to_contain_text("Hand-off from the assistant")
    await expect(page.locator("#timeline .entry.inbound .text")).to_have_text(
        f"My refund has not arrived {HOSTILE}"
    )
    assert await page.locator("#timeline img").count() == 0
    await page.screenshot(path=artifacts / "workspace-case-handoff.png", full_page=True)

    # when they reply by SMS from the same case, using a saved reply
    await page.keyboard.press("r")
    await expect(page.locator("#reply-text")).to_be_focused()
    await page.get_by_label("Saved reply").select_option(label="On its way")
    await page.locator("#reply-channel").select_option("sms")
    saved = "Your refund was sent today; it reaches your card in 5 working days."
    await expect(page.locator("#reply-text")).to_have_value(saved)
    await page.get_by_role("button", name="Send reply").click()
    # then the provider emulator receives the SMS to the customer's number
    [sms] = await _sms_sent(emulator_url, saved)
    assert (sms["form"]["To"], sms["form"]["From"]) == (CUSTOMER_PHONE, OUR_NUMBER)
    outbound = page.locator("#timeline .entry.outbound")
    await expect(outbound.locator(".channel")).to_have_text("sms")

    # when they wrap up (e) as resolved with a disposition note
    await page.keyboard.press("e")
    await expect(page.locator("#wrap-note")).to_be_focused()
    await page.locator("#wrap-note").fill("Refund confirmed by SMS")
    await page.get_by_label("Intent").fill("refund_not_received")
    await page.get_by_role("button", name="Wrap up (e)").click()
    # then they are back at an empty inbox and the supervisor sees the load drop
    await expect(page).to_have_url(f"{base}/app")
    await expect(page.locator("#inbox-rows")).to_contain_text("Nothing here right now.")
    await expect(agent_row.locator(".load").first).to_have_text("0/3")
    await page.screenshot(path=artifacts / "workspace-wrapped-up.png")
    async with served.uow(write=False) as uow:
        case = await uow.cases.get(company.tenant.id, ingested.case.id)
    assert case is not None
    assert (case.status, case.intent) == ("resolved", "refund_not_received")
    assert dialogs == []
    await agent_context.close()
    await boss_context.close()


async def test_an_offer_appears_live_and_the_agent_declines_then_accepts_it(
    server: tuple[FastAPI, str], db: Database, browser: Browser, artifacts: Path
) -> None:
    need_browser()
    app, base = server
    served: Database = app.state.carepath.db
    company, agent, _ = await _company(db)
    # given routing that offers work instead of assigning it, to a single agent
    offering = TENANT.replace("auto_accept: true", "auto_accept: false, offer_timeout_s: 120")
    await do_apply_tenant_config(db, system(company.tenant), offering.replace("assisted", "live"))
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await _log_in(page, base, company, agent)
    await page.get_by_label("Presence").select_option("online")
    await expect(page.locator("#presence .dot")).to_have_class("dot online")
    await page.evaluate("window.notReloaded = true")
    # when a chat comes in
    first = await do_ingest_inbound(
        served, inbound(company.tenant.id, Channel.CHAT, "visitor-8", f"Where is it {HOSTILE}")
    )
    # then it is offered to them live, customer text as text, with their capacity in use
    offer = page.locator(f'#offers .offer[data-case-id="{first.case.id}"]')
    await expect(offer).to_contain_text(f"Where is it {HOSTILE}")
    await expect(page.locator('#presence .load[data-kind="messaging"]')).to_have_text(
        "messaging 1/3"
    )
    assert await page.evaluate("window.notReloaded") is True
    await page.screenshot(path=artifacts / "workspace-offer.png")
    # when they decline it, it leaves their page (nobody else to offer it to: it waits)
    await offer.get_by_role("button", name="Decline").click()
    await expect(offer).to_have_count(0)
    await expect(page.locator('#presence .load[data-kind="messaging"]')).to_have_text(
        "messaging 0/3"
    )
    # when a second chat is offered, and they accept it: its case opens, theirs
    second = await do_ingest_inbound(
        served, inbound(company.tenant.id, Channel.CHAT, "visitor-9", "Second question")
    )
    offer = page.locator(f'#offers .offer[data-case-id="{second.case.id}"]')
    await offer.get_by_role("button", name="Accept").click()
    await expect(page).to_have_url(f"{base}/app/cases/{second.case.id}")
    async with served.uow(write=False) as uow:
        case = await uow.cases.get(company.tenant.id, second.case.id)
    assert case is not None
    assert (case.status, case.assignee_id) == ("assigned", agent.id)
    await context.close()
