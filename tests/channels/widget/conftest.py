"""A real server for the visitor protocol tests; the outbox worker stays off so that each test
sees exactly the events it caused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from carepath.settings import Settings
from carepath.storage import Database
from tests.live import serving


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"run_worker": False})


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        yield client


@pytest.fixture
def app_db(app: FastAPI, db: Database) -> Database:
    """The server's own database handle: its commits ring the server's doorbell."""
    served: Database = app.state.carepath.db
    return served
