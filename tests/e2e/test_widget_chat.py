"""A visitor chats in a real browser: identifies with a valid hash, is answered by an agent
through the API, loses the connection and gets it back with nothing lost or doubled."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carepath.domain.identities import IdentityKind
from carepath.storage import Database
from carepath.storage.tables import messages
from tests.e2e.conftest import need_browser
from tests.factories import bearer, make_company
from tests.live import free_port, serving
from tests.services import services_required

if not services_required():
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Browser, Locator, Page, expect

expect.set_options(timeout=15_000)


def widget(page: Page) -> Locator:
    return page.locator("#carepath-widget")


def said(page: Page, text: str) -> Locator:
    """The conversation's entries showing `text` (Playwright's CSS pierces the shadow root)."""
    return widget(page).locator("li.msg").filter(has=page.locator("p.text", has_text=text))


async def _stored(db: Database, text: str) -> int:
    async with db.engine.connect() as conn:
        query = select(func.count()).select_from(messages).where(messages.c.text == text)
        return int((await conn.execute(query)).scalar_one())


async def _read_receipts(db: Database, *texts: str) -> list[str | None]:
    """The delivery states of these replies once they are all read, or after 10 s."""
    query = select(messages.c.delivery_status).where(messages.c.text.in_(texts))
    for _ in range(50):
        async with db.engine.connect() as conn:
            states = [row[0] for row in await conn.execute(query)]
        if states and all(state == "read" for state in states):
            break
        await asyncio.sleep(0.2)
    return states


async def _reply(base: str, token: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=base, headers=bearer(token)) as api:
        cases = (await api.get("/v1/cases", params={"channel": "chat"})).json()["items"]
        assert len(cases) == 1
        response = await api.post(f"/v1/cases/{cases[0]['id']}/replies", json={"text": text})
        assert response.status_code == 201, response.text


async def test_a_visitor_chats_through_a_dropped_connection_and_loses_nothing(
    app: FastAPI, app_db: Database, browser: Browser, artifacts: Path
) -> None:
    need_browser()
    company = await make_company(app_db)
    port = free_port()
    context = await browser.new_context()
    page = await context.new_page()
    async with serving(app, port) as base:
        # given a signed-in customer on the company's site, identified with a valid hash
        await page.goto(f"{base}/t/{company.tenant.slug}/demo?user=u-42&name=Dana%20Reyes")
        await expect(page.locator("body")).to_have_attribute("data-identified", "verified")
        # when she opens the chat (by keyboard) and writes
        launcher = widget(page).get_by_role("button", name=re.compile("^Chat with us"))
        await launcher.focus()
        await page.keyboard.press("Enter")
        box = page.get_by_label("Your message")
        await expect(box).to_be_focused()
        await box.fill("My refund has not arrived")
        await page.keyboard.press("Enter")
        await expect(said(page, "My refund has not arrived").locator(".meta")).to_contain_text(
            "Sent"
        )
        # and an agent answers through the API
        await _reply(base, company.agent_token, "Sorry about that, Dana. Checking now.")
        # then she sees the answer, with who wrote it
        answer = said(page, "Sorry about that, Dana. Checking now.")
        await expect(answer).to_have_count(1)
        await expect(answer.locator(".author")).to_have_text(company.tenant.name)
        await expect(widget(page).get_by_role("log")).to_be_visible()
        await page.screenshot(path=artifacts / "widget-chat-answered.png")
        # when the connection drops: the browser goes offline and the server goes away
        await context.set_offline(True)
    # while it is down she writes again: the message waits in the page
    await box.fill("Are you still there?")
    await page.keyboard.press("Enter")
    waiting = said(page, "Are you still there?")
    await expect(waiting.locator(".meta")).to_have_text("Sending…")
    await page.screenshot(path=artifacts / "widget-chat-offline.png")
    async with serving(app, port) as base:
        # and the agent answers while she is still offline
        await _reply(base, company.agent_token, "Yes, still here.")
        # when the connection comes back
        await context.set_offline(False)
        # then her message is sent once, the answer arrives once, nothing is doubled
        await expect(waiting.locator(".meta")).to_contain_text("Sent")
        await expect(said(page, "Yes, still here.")).to_have_count(1)
        await expect(said(page, "Are you still there?")).to_have_count(1)
        await expect(said(page, "My refund has not arrived")).to_have_count(1)
        await expect(said(page, "Sorry about that, Dana. Checking now.")).to_have_count(1)
        await expect(widget(page).locator("li.msg")).to_have_count(4)
        await page.screenshot(path=artifacts / "widget-chat-reconnected.png")
        # the chat is open, so the replies count as read: no unread badge
        await expect(widget(page).locator(".badge")).to_be_hidden()
        assert await _stored(app_db, "Are you still there?") == 1
        assert await _stored(app_db, "My refund has not arrived") == 1
        # and the agent learns both replies were read, the one read offline included
        read = await _read_receipts(
            app_db, "Sorry about that, Dana. Checking now.", "Yes, still here."
        )
        assert read == ["read", "read"]
        # and a wrong hash is refused, leaving her conversation as it was
        refused = await page.evaluate(
            """() => carepath.identify({userId: "u-42", hash: "0".repeat(64)})
                .then(() => "accepted", (error) => error.data.reason)"""
        )
        assert refused == "invalid_hash"
        await expect(widget(page).locator("li.msg")).to_have_count(4)
        # and Escape closes the chat, handing focus back to its button
        await box.focus()
        await page.keyboard.press("Escape")
        await expect(box).to_be_hidden()
        await expect(launcher).to_be_focused()
    await context.close()


async def test_a_page_with_a_wrong_hash_is_refused_and_stays_anonymous(
    app: FastAPI, app_db: Database, browser: Browser, artifacts: Path
) -> None:
    need_browser()
    company = await make_company(app_db)
    async with serving(app) as base:
        page = await browser.new_page()
        # given the company's page, signing a user in with a hash that does not match
        await page.goto(f"{base}/t/{company.tenant.slug}/demo")
        outcome = await page.evaluate(
            """() => carepath.identify({userId: "u-42", name: "Mallory", hash: "ab".repeat(32)})
                .then(() => "accepted", (error) => error.data.reason)"""
        )
        # then identify is refused, and the widget chats as an anonymous visitor
        assert outcome == "invalid_hash"
        await widget(page).get_by_role("button", name=re.compile("^Chat with us")).click()
        await page.get_by_label("Your message").fill("hello")
        await page.get_by_role("button", name="Send").click()
        await expect(said(page, "hello").locator(".meta")).to_contain_text("Sent")
        await page.screenshot(path=artifacts / "widget-chat-refused-hash.png")
        # and "call me" asks for a number and a time, and confirms the request
        await widget(page).get_by_role("button", name="Call me").click()
        await expect(page.get_by_label("Phone number (international)")).to_be_focused()
        await page.get_by_label("Phone number (international)").fill("+44 20 7946 0958")
        await page.get_by_role("button", name="Request call").click()
        await expect(widget(page).get_by_role("status").first).to_contain_text(
            "We will call +442079460958 as soon as possible"
        )
        await page.close()
    async with app_db.uow(write=False) as uow:
        assert await uow.identities.find(company.tenant.id, IdentityKind.APP_USER, "u-42") is None
