"""A real Chromium (Debian's, never a downloaded one) driven by Playwright against a real server.

Skipped with the reason when Playwright or /usr/bin/chromium is missing, unless
CAREPATH_TEST_REQUIRE_SERVICES=1 (CI), where that fails the run instead.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from carepath.settings import Settings
from carepath.storage import Database
from tests.services import services_required

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def need_browser() -> None:
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing:
        message = "end-to-end tests need " + " and ".join(missing)
        if services_required():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The demo customer site, which embeds the widget, is served in demo mode only.
    return settings.model_copy(update={"demo_mode": True, "cookie_secure": False})


@pytest.fixture
def app_db(app: FastAPI, db: Database) -> Database:
    served: Database = app.state.carepath.db
    return served


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
