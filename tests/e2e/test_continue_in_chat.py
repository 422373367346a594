"""A caller who pressed 1 opens the texted link in a real browser: the widget opens on their case,
shows its history, and what they write there continues that case."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carepath.actions.ingest import do_ingest_inbound
from carepath.channels.widget.continuation import (
    Continuation,
    continuation_token,
    continue_link,
)
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.storage.tables import messages
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import need_browser
from tests.factories import make_company
from tests.inbound import inbound
from tests.live import serving
from tests.services import services_required

if not services_required():
    pytest.importorskip("playwright.async_api", reason="playwright is not installed")
from playwright.async_api import Browser, expect

expect.set_options(timeout=15_000)
CALLER = "+16505550111"


async def _case_of(db: Database, text: str) -> str | None:
    for _ in range(50):
        async with db.engine.connect() as conn:
            found = (
                await conn.execute(select(messages.c.case_id).where(messages.c.text == text))
            ).scalar_one_or_none()
        if found is not None:
            return str(found)
        await asyncio.sleep(0.2)
    return None


async def test_the_texted_link_opens_the_widget_on_the_callers_case(
    app: FastAPI, app_db: Database, browser: Browser, artifacts: Path
) -> None:
    need_browser()
    company = await make_company(app_db)
    # given a customer who texted about their refund (and then phoned and pressed 1)
    texted = await do_ingest_inbound(
        app_db, inbound(company.tenant.id, Channel.SMS, CALLER, "Where is my refund?")
    )
    token = continuation_token(TEST_SECRET, Continuation(company.tenant.id, texted.case.id, CALLER))
    async with serving(app) as base:
        page = await browser.new_page()
        # when they open the link from the text message
        await page.goto(continue_link(base, company.tenant.slug, token))
        # then the chat opens with their conversation so far
        box = page.get_by_label("Your message")
        await expect(box).to_be_visible()
        history = page.locator("#carepath-widget li.msg")
        await expect(history.filter(has_text="Where is my refund?")).to_have_count(1)
        await page.screenshot(path=artifacts / "continue-in-chat.png")
        # and what they write continues the same case
        await box.fill("Continuing here from the link")
        await page.keyboard.press("Enter")
        await expect(history.filter(has_text="Continuing here from the link")).to_have_count(1)
        assert await _case_of(app_db, "Continuing here from the link") == texted.case.id
        await page.close()
