"""The "continue in chat" link texted to a caller: a short-lived signed token. Expired, forged or
another company's links get a clear page and no session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from carepath.channels.widget.continuation import (
    CONTINUE_SALT,
    Continuation,
    continuation_token,
)
from carepath.ids import CaseId
from carepath.storage import Database
from tests.channels.voice_live import (
    CALLER,
    add_numbers,
    api_get,
    call_form,
    carepath,
    new_sid,
    post_signed,
)
from tests.conftest import TEST_SECRET
from tests.factories import Company, make_company


class TwoHoursAgo(TimestampSigner):
    """Signs as if it were two hours ago: how a link looks once it has expired."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


@pytest.fixture
async def server(db: Database, database_url: str, data_dir: Path) -> AsyncIterator[str]:
    # Nothing here reaches a provider: the emulator's address is never called.
    async with carepath(database_url, data_dir, "http://127.0.0.1:9") as url:
        yield url


@pytest.fixture
async def company(db: Database) -> Company:
    company = await make_company(db)
    await add_numbers(db, company)
    return company


async def called(server: str, company: Company) -> CaseId:
    """A customer phoned: their case is the one a link would continue."""
    url = f"{server}/webhooks/twilio/{company.tenant.slug}/voice"
    assert (await post_signed(url, call_form(new_sid()))).status_code == 200
    [case] = (await api_get(server, company, "/v1/cases"))["items"]
    return CaseId(case["id"])


async def open_page_and_session(
    server: str, company: Company, token: str
) -> tuple[httpx.Response, httpx.Response]:
    async with httpx.AsyncClient(base_url=server) as browser:
        page = await browser.get(f"/t/{company.tenant.slug}/continue", params={"token": token})
        session = await browser.post(
            "/v1/visitor/session",
            json={"visitor_id": "v-1", "continue_token": token},
            headers={"X-Carepath-Key": company.tenant.public_key},
        )
    return page, session


async def test_an_expired_link_says_so_and_opens_no_session(server: str, company: Company) -> None:
    case_id = await called(server, company)
    old = URLSafeTimedSerializer(TEST_SECRET, salt=CONTINUE_SALT, signer=TwoHoursAgo)
    token = str(old.dumps([company.tenant.id, case_id, CALLER]))
    page, session = await open_page_and_session(server, company, token)
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert "data-carepath-continue" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert session.status_code == 401
    assert session.json()["error"]["data"]["reason"] == "continue_expired"


@pytest.mark.parametrize("damage", ["flip", "cut", "empty"])
async def test_a_forged_or_broken_link_says_so_and_opens_no_session(
    server: str, company: Company, damage: str
) -> None:
    case_id = await called(server, company)
    token = continuation_token(TEST_SECRET, Continuation(company.tenant.id, case_id, CALLER))
    broken = {
        "flip": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "cut": token[: len(token) // 2],
        "empty": "",
    }[damage]
    page, session = await open_page_and_session(server, company, broken)
    assert page.status_code == 400
    assert "This link does not work" in page.text
    assert session.status_code in (401, 422)  # an empty token is not even a token


async def test_a_link_of_another_company_opens_nothing_here(
    server: str, company: Company, db: Database
) -> None:
    case_id = await called(server, company)
    other = await make_company(db)
    token = continuation_token(TEST_SECRET, Continuation(company.tenant.id, case_id, CALLER))
    page, session = await open_page_and_session(server, other, token)
    assert page.status_code == 400
    assert session.status_code == 401
    assert session.json()["error"]["data"]["reason"] == "invalid_continue_token"


async def test_a_valid_link_of_an_unknown_company_address_is_not_found(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as browser:
        page = await browser.get("/t/no-such-company/continue", params={"token": "x"})
    assert page.status_code == 404
