"""Fixtures of the workspace page tests: a company and a signed-in browser per role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from carepath.storage import Database
from carepath.types import Role
from tests.api.ui_session import Browser, log_in
from tests.factories import Company, make_company, make_user


@pytest.fixture
async def company(db: Database) -> Company:
    return await make_company(db)


async def _signed_in(app: FastAPI, db: Database, company: Company, role: Role) -> Browser:
    return await log_in(app, company, await make_user(db, company.tenant, role))


@pytest.fixture
async def agent(app: FastAPI, db: Database, company: Company) -> AsyncIterator[Browser]:
    browser = await _signed_in(app, db, company, Role.AGENT)
    yield browser
    await browser.http.aclose()


@pytest.fixture
async def supervisor(app: FastAPI, db: Database, company: Company) -> AsyncIterator[Browser]:
    browser = await _signed_in(app, db, company, Role.SUPERVISOR)
    yield browser
    await browser.http.aclose()


@pytest.fixture
async def admin(app: FastAPI, db: Database, company: Company) -> AsyncIterator[Browser]:
    browser = await _signed_in(app, db, company, Role.ADMIN)
    yield browser
    await browser.http.aclose()
