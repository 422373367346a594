"""The server-rendered workspace and console through HTTP, as a browser uses them: login, roles
(403), other tenants (404), customer text always escaped, CSRF on every form post."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from carepath.delivery.registry import build_handlers
from carepath.settings import Settings
from carepath.storage import Database
from carepath.types import Role
from carepath.worker import OutboxWorker
from tests.api.ui_session import (
    HOSTILE,
    HOSTILE_ESCAPED,
    Browser,
    csrf_of,
    hostile_chat,
    log_in,
)
from tests.factories import PASSWORD, Company, bearer, make_company, make_user


@pytest.fixture
async def company(db: Database) -> Company:
    return await make_company(db)


@pytest.fixture
async def agent(app: FastAPI, db: Database, company: Company) -> AsyncIterator[Browser]:
    browser = await log_in(app, company, await make_user(db, company.tenant, Role.AGENT))
    yield browser
    await browser.http.aclose()


@pytest.fixture
async def supervisor(app: FastAPI, db: Database, company: Company) -> AsyncIterator[Browser]:
    browser = await log_in(app, company, await make_user(db, company.tenant, Role.SUPERVISOR))
    yield browser
    await browser.http.aclose()


async def test_a_page_without_a_session_sends_the_browser_to_the_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/app/cases/case_x")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/login?next=/app/cases/case_x"


async def test_a_wrong_password_shows_the_login_again_without_saying_which_part_was_wrong(
    client: httpx.AsyncClient, company: Company
) -> None:
    page = await client.get("/app/login")
    response = await client.post(
        "/app/login",
        data={
            "tenant": company.tenant.slug,
            "email": company.admin.email,
            "password": "not the password",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "carepath_session" not in response.headers.get("set-cookie", "")


async def test_a_login_form_posted_from_elsewhere_is_refused(
    client: httpx.AsyncClient, company: Company
) -> None:
    # given a form that did not come from our login page (no matching cookie)
    response = await client.post(
        "/app/login",
        data={
            "tenant": company.tenant.slug,
            "email": company.admin.email,
            "password": PASSWORD,
            "csrf_token": "forged",
        },
    )
    assert response.status_code == 403
    assert "carepath_session" not in response.headers.get("set-cookie", "")


async def test_logging_out_ends_the_session(agent: Browser) -> None:
    response = await agent.post("/app/logout", {})
    assert response.status_code == 303
    assert (await agent.get("/app")).status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/app/supervisor",
        "/app/supervisor/board",
        "/app/supervisor/users",
        "/app/supervisor/channels",
        "/app/supervisor/strategy",
        "/app?view=open",
    ],
)
async def test_an_agent_cannot_open_a_supervisor_page(agent: Browser, path: str) -> None:
    response = await agent.get(path)
    assert response.status_code == 403
    assert "permission denied" in response.text.lower()


async def test_a_supervisor_opens_the_console(supervisor: Browser) -> None:
    for path in ("/app/supervisor", "/app/supervisor/users", "/app/supervisor/strategy"):
        response = await supervisor.get(path)
        assert response.status_code == 200, (path, response.text)
    # channel accounts hold provider credentials: admins only, as in the API
    assert (await supervisor.get("/app/supervisor/channels")).status_code == 403


async def test_another_tenants_case_is_not_found(
    app: FastAPI, db: Database, agent: Browser
) -> None:
    # given a case of another company
    other = await make_company(db)
    case_id = await hostile_chat(db, other)
    # when our agent opens it, or acts on it
    page = await agent.get(f"/app/cases/{case_id}")
    note = await agent.post(f"/app/cases/{case_id}/note", {"text": "hello"})
    # then it does not exist for them
    assert page.status_code == 404
    assert note.status_code == 404
    assert HOSTILE_ESCAPED not in page.text


async def test_customer_markup_is_shown_as_text_in_every_view(
    db: Database, company: Company, agent: Browser, supervisor: Browser
) -> None:
    # given a customer who wrote markup, and the case taken by our agent
    case_id = await hostile_chat(db, company)
    assert (await agent.post(f"/app/cases/{case_id}/assign", {"assignee_id": "me"})).is_redirect
    # when every view that shows it is rendered
    pages = [
        await agent.get("/app"),
        await agent.get("/app/inbox/rows?view=mine"),
        await agent.get(f"/app/cases/{case_id}"),
        await agent.get(f"/app/cases/{case_id}/timeline"),
        await supervisor.get("/app?view=open"),
        await supervisor.get(f"/app/supervisor/agents/{agent.user.id}"),
    ]
    # then each shows it escaped, never as markup
    for page in pages:
        assert page.status_code == 200, page.text
        assert "<script>alert(1)" not in page.text
        assert "<img src=x" not in page.text
    for page in pages[1:4]:
        assert HOSTILE_ESCAPED in page.text, page.url


async def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(
    db: Database, company: Company, agent: Browser
) -> None:
    case_id = await hostile_chat(db, company)
    refused = await agent.post(f"/app/cases/{case_id}/note", {"text": "forged"}, csrf=False)
    wrong = await agent.http.post(
        f"/app/cases/{case_id}/note", data={"text": "forged", "csrf_token": "x" * 32}
    )
    assert (refused.status_code, wrong.status_code) == (403, 403)
    page = await agent.get(f"/app/cases/{case_id}")
    assert "forged" not in page.text
    # and with the token it goes through
    accepted = await agent.post(f"/app/cases/{case_id}/note", {"text": "checked the order"})
    assert accepted.status_code == 303
    assert "checked the order" in (await agent.get(f"/app/cases/{case_id}")).text


async def test_a_reply_on_a_channel_the_customer_cannot_be_reached_on_says_why(
    db: Database, company: Company, agent: Browser
) -> None:
    # given a web chat customer with no phone number
    case_id = await hostile_chat(db, company)
    # when the agent replies by SMS
    response = await agent.post(f"/app/cases/{case_id}/reply", {"text": "hi", "channel": "sms"})
    # then the page says what was wrong
    assert response.status_code == 422
    assert 'role="alert"' in response.text


async def test_wrap_up_sets_the_intent_records_the_disposition_and_resolves(
    client: httpx.AsyncClient, db: Database, company: Company, agent: Browser
) -> None:
    case_id = await hostile_chat(db, company)
    await agent.post(f"/app/cases/{case_id}/reply", {"text": "Refund sent.", "channel": "chat"})
    response = await agent.post(
        f"/app/cases/{case_id}/wrap-up",
        {"intent": "refund_not_received", "outcome": "resolved", "disposition": "refund issued"},
    )
    assert response.status_code == 303
    case = (await client.get(f"/v1/cases/{case_id}", headers=bearer(company.agent_token))).json()
    assert (case["status"], case["intent"]) == ("resolved", "refund_not_received")
    notes = [m["text"] for m in case["messages"] if m["is_internal_note"]]
    assert notes == ["Wrap-up: resolved. refund issued"]


async def test_presence_and_capacity_in_use_show_in_the_inbox(agent: Browser) -> None:
    response = await agent.http.post(
        "/app/presence",
        data={"presence": "online"},
        headers={"HX-Request": "true", "X-CSRF-Token": agent.csrf},
    )
    assert response.status_code == 200
    assert 'data-presence="online"' in response.text
    assert "messaging 0/3" in response.text


TENANT = """\
channels: [chat, sms, email]
skills: [general, sales]
intents:
  - name: refund_not_received
  - name: upgrade_plan
strategy:
  defaults: {treatment: live, skill: general}
  intents:
    upgrade_plan: {treatment: assisted, skill: sales, sales_opportunity: true}
saved_replies:
  - name: Refund timing
    text: "Refunds reach your account in 5 to 10 working days."
"""


async def _configure(client: httpx.AsyncClient, company: Company, text: str = TENANT) -> None:
    response = await client.put(
        "/v1/tenant/config",
        content=text.encode(),
        headers={**bearer(company.admin_token), "Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text


async def test_saved_replies_from_the_tenant_file_are_offered_in_the_reply_box(
    client: httpx.AsyncClient, db: Database, company: Company, agent: Browser
) -> None:
    await _configure(client, company)
    case_id = await hostile_chat(db, company)
    page = await agent.get(f"/app/cases/{case_id}")
    assert 'id="saved-replies"' in page.text
    assert "Refunds reach your account in 5 to 10 working days." in page.text


async def test_the_strategy_matrix_saves_a_cell_as_a_new_version(
    client: httpx.AsyncClient, company: Company, supervisor: Browser
) -> None:
    await _configure(client, company)
    response = await supervisor.post(
        "/app/supervisor/strategy", {"cell.refund_not_received.sms": "self_serve"}
    )
    assert response.status_code == 303
    treatment = await client.get(
        "/v1/tenant/strategy",
        params={"intent": "refund_not_received", "channel": "sms"},
        headers=bearer(company.agent_token),
    )
    assert treatment.json()["treatment"] == "self_serve"
    # a cell the form leaves blank inherits again
    assert (await supervisor.post("/app/supervisor/strategy", {})).status_code == 303
    treatment = await client.get(
        "/v1/tenant/strategy",
        params={"intent": "refund_not_received", "channel": "sms"},
        headers=bearer(company.agent_token),
    )
    assert treatment.json()["treatment"] == "live"


async def test_the_strategy_matrix_is_refused_with_the_same_errors_as_the_yaml(
    client: httpx.AsyncClient, company: Company, supervisor: Browser
) -> None:
    # given a sales opportunity, which may never be fully automated
    await _configure(client, company)
    # when the matrix sets it to self_serve on chat, and a cell to a treatment that is not one
    form = {"cell.upgrade_plan.chat": "self_serve", "cell.refund_not_received.email": "magic"}
    response = await supervisor.post("/app/supervisor/strategy", form)
    # then nothing is saved and the page lists each error with its key, as the YAML API does
    assert response.status_code == 422
    assert 'data-loc="strategy.intents.refund_not_received.channels.email.treatment"' in (
        response.text
    )
    yaml_form = TENANT.replace(
        "sales_opportunity: true}",
        "sales_opportunity: true, channels: {chat: {treatment: self_serve}}}",
    )
    api = await client.put(
        "/v1/tenant/config", content=yaml_form.encode(), headers=bearer(company.admin_token)
    )
    [expected] = api.json()["error"]["data"]["errors"]
    matrix_only = await supervisor.post(
        "/app/supervisor/strategy", {"cell.upgrade_plan.chat": "self_serve"}
    )
    assert f'data-loc="{expected["loc"]}"' in matrix_only.text
    assert expected["message"] in matrix_only.text
    config = (await client.get("/v1/tenant/config", headers=bearer(company.agent_token))).json()
    assert config["version"] == 1


async def test_the_hand_off_packet_is_shown_first_and_escaped(
    client: httpx.AsyncClient,
    db: Database,
    company: Company,
    settings: Settings,
    agent: Browser,
) -> None:
    # given a tenant whose assistant is not trained: every chat is handed off with a packet
    await _configure(client, company, TENANT.replace("treatment: live", "treatment: assisted"))
    case_id = await hostile_chat(db, company)
    async with httpx.AsyncClient() as http:
        worker = OutboxWorker(db, build_handlers(settings, http), name="test")
        while await worker.run_once():
            pass
    # when the agent opens the case
    page = await agent.get(f"/app/cases/{case_id}")
    # then the packet comes before the timeline, with the customer's words as text
    assert page.status_code == 200
    assert page.text.index('id="handoff"') < page.text.index('id="timeline"')
    assert "Hand-off from the assistant" in page.text
    assert HOSTILE not in page.text
    assert HOSTILE_ESCAPED in page.text


async def test_the_board_counts_waiting_work_and_a_supervisor_reassigns(
    client: httpx.AsyncClient, db: Database, company: Company, supervisor: Browser, agent: Browser
) -> None:
    # given a live chat waiting in the general queue
    await _configure(client, company)
    case_id = await hostile_chat(db, company)
    board = await supervisor.get("/app/supervisor/board")
    assert 'data-queue="general"' in board.text
    assert '<td class="waiting">1</td>' in board.text
    # when the supervisor assigns it to the agent
    response = await supervisor.post(
        f"/app/cases/{case_id}/assign",
        {"assignee_id": agent.user.id, "back": f"/app/supervisor/agents/{agent.user.id}"},
    )
    assert response.headers["location"] == f"/app/supervisor/agents/{agent.user.id}"
    # then nothing waits, and the case is among the agent's open cases
    board = await supervisor.get("/app/supervisor/board")
    assert '<td class="waiting">1</td>' not in board.text
    cases = await supervisor.get(f"/app/supervisor/agents/{agent.user.id}")
    assert f'data-case-id="{case_id}"' in cases.text
    assert f'data-case-id="{case_id}"' in (await agent.get("/app")).text
