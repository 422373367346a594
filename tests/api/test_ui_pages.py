"""The server-rendered workspace and console through HTTP, as a browser uses them: login, roles
(403), other tenants (404), customer text always escaped, CSRF on every form post."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.agents import do_set_agent_profile
from carepath.actions.ingest import do_ingest_inbound
from carepath.delivery.registry import build_handlers
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.routing.dispatcher import Dispatcher
from carepath.settings import Settings
from carepath.storage import Database
from carepath.worker import OutboxWorker
from tests.agents import apply_config, routing_config
from tests.api.ui_session import (
    HOSTILE,
    HOSTILE_ESCAPED,
    Browser,
    csrf_of,
    form_values,
    hostile_chat,
)
from tests.factories import PASSWORD, Company, bearer, make_company, system
from tests.inbound import inbound


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
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    company: Company,
    agent: Browser,
    supervisor: Browser,
) -> None:
    # given an assisted tenant that offers work, and our agent online
    config = routing_config(treatment="assisted", skill="general", auto_accept=False)
    assert (await apply_config(client, company, config)).status_code == 200
    await do_set_agent_profile(
        db, system(company.tenant), agent.user.id, skills={"general": 5}, capacity={"messaging": 1}
    )
    assert (await agent.post("/app/presence", {"presence": "online"})).is_redirect
    # when a customer whose name and words are markup writes in chat; the assistant hands it
    # off with its packet, the dispatcher offers it to our agent
    message = inbound(
        company.tenant.id, Channel.CHAT, "v-hostile", f"refund {HOSTILE}", sender_name=HOSTILE
    )
    case_id = str((await do_ingest_inbound(db, message)).case.id)
    async with httpx.AsyncClient() as http:
        worker = OutboxWorker(db, build_handlers(settings, http), name="test")
        while await worker.run_once():
            pass
    await Dispatcher(db).run_once(now=utcnow())
    offer = await agent.get("/app/offers")
    # and they accept it and schedule a callback from it
    work_id = offer.text.split('data-work-id="')[1].split('"')[0]
    assert (await agent.post(f"/app/work/{work_id}/accept", {})).is_redirect
    later = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    callback = {"phone": "+16505550100", "when": later}
    assert (await agent.post(f"/app/cases/{case_id}/callback", callback)).is_redirect
    # then every view that shows the customer shows their markup as text, never as markup
    views = {
        "offer": offer,
        "inbox": await agent.get("/app"),
        "inbox rows": await agent.get("/app/inbox/rows?view=mine"),
        "case (timeline, hand-off, profile)": await agent.get(f"/app/cases/{case_id}"),
        "timeline": await agent.get(f"/app/cases/{case_id}/timeline"),
        "callbacks": await agent.get("/app/callbacks"),
        "all open": await supervisor.get("/app?view=open"),
        "agent page": await supervisor.get(f"/app/supervisor/agents/{agent.user.id}"),
        "board": await supervisor.get("/app/supervisor"),
        "board part": await supervisor.get("/app/supervisor/board"),
    }
    for name, page in views.items():
        assert page.status_code == 200, (name, page.text)
        assert "<script>alert" not in page.text, name
        assert "<img src=x" not in page.text, name
        if not name.startswith("board"):  # the board shows queues and agents, no customer
            assert HOSTILE_ESCAPED in page.text, name
    case_page = views["case (timeline, hand-off, profile)"].text
    handoff = case_page[case_page.index('id="handoff"') : case_page.index('id="timeline"')]
    profile = case_page[case_page.index('id="customer-title"') :]
    assert HOSTILE_ESCAPED in handoff
    assert f'<p class="name">{HOSTILE_ESCAPED}</p>' in profile


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


async def _treatment(
    client: httpx.AsyncClient, company: Company, intent: str, channel: str
) -> dict[str, object]:
    response = await client.get(
        "/v1/tenant/strategy",
        params={"intent": intent, "channel": channel},
        headers=bearer(company.agent_token),
    )
    found: dict[str, object] = response.json()
    return found


async def _version(client: httpx.AsyncClient, company: Company) -> int:
    config = await client.get("/v1/tenant/config", headers=bearer(company.agent_token))
    version: int = config.json()["version"]
    return version


async def test_the_strategy_matrix_edits_every_field_of_every_cell(
    client: httpx.AsyncClient, company: Company, supervisor: Browser
) -> None:
    # given the matrix as the page renders it
    await _configure(client, company)
    page = await supervisor.get("/app/supervisor/strategy")
    form = form_values(page.text, "strategy-form")
    assert form["row.upgrade_plan.sales_opportunity"] == "true"
    assert (form["defaults.treatment"], form["defaults.skill"]) == ("live", "general")
    # when the supervisor sets every field of a cell, a channel's defaults, the defaults, a flag
    form.update(
        {
            "cell.refund_not_received.sms.treatment": "self_serve",
            "cell.refund_not_received.sms.skill": "sales",
            "cell.refund_not_received.sms.priority": "high",
            "cell.refund_not_received.sms.sla_seconds": "120",
            "chdef.email.priority": "low",
            "defaults.sla_seconds": "900",
            "row.refund_not_received.moment_of_truth": "true",
        }
    )
    form["cell.refund_not_received.sms.treatment"] = "assisted"  # a moment of truth: not self-serve
    response = await supervisor.post("/app/supervisor/strategy", form)
    # then it is a new version, and the router's own reading of the map has each value
    assert response.status_code == 303, response.text
    assert await _version(client, company) == 2
    sms = await _treatment(client, company, "refund_not_received", "sms")
    assert (sms["treatment"], sms["skill"], sms["priority"], sms["sla_seconds"]) == (
        "assisted",
        "sales",
        "high",
        120,
    )
    assert sms["moment_of_truth"] is True
    email = await _treatment(client, company, "upgrade_plan", "email")
    assert (email["priority"], email["sla_seconds"]) == ("low", 900)
    # and the page, posted again untouched, changes nothing: the form round-trips the map
    again = form_values((await supervisor.get("/app/supervisor/strategy")).text, "strategy-form")
    assert again["cell.refund_not_received.sms.sla_seconds"] == "120"
    assert (await supervisor.post("/app/supervisor/strategy", again)).status_code == 303
    assert await _version(client, company) == 2
    # and a cell left blank inherits again
    again["cell.refund_not_received.sms.treatment"] = ""
    again["cell.refund_not_received.sms.skill"] = ""
    assert (await supervisor.post("/app/supervisor/strategy", again)).status_code == 303
    sms = await _treatment(client, company, "refund_not_received", "sms")
    assert (sms["treatment"], sms["skill"], sms["priority"]) == ("live", "general", "high")


async def test_the_strategy_matrix_is_refused_with_the_same_errors_as_the_yaml(
    client: httpx.AsyncClient, company: Company, supervisor: Browser
) -> None:
    # given a sales opportunity, which may never be fully automated
    await _configure(client, company)
    form = form_values((await supervisor.get("/app/supervisor/strategy")).text, "strategy-form")
    # when the matrix sets it to self_serve on chat, and other cells to values that are not valid
    form["cell.upgrade_plan.chat.treatment"] = "self_serve"
    form["cell.refund_not_received.email.treatment"] = "magic"
    form["cell.refund_not_received.email.sla_seconds"] = "soon"
    response = await supervisor.post("/app/supervisor/strategy", form)
    # then nothing is saved and the page lists each error with its key, as the YAML API does,
    # and marks the field it belongs to
    assert response.status_code == 422
    for loc in (
        "strategy.intents.refund_not_received.channels.email.treatment",
        "strategy.intents.refund_not_received.channels.email.sla_seconds",
    ):
        assert f'data-loc="{loc}"' in response.text, loc
    marked = re.findall(r'name="([^"]+)"[^>]*aria-invalid="true"', response.text)
    assert "cell.refund_not_received.email.sla_seconds" in marked
    # and what was sent is shown again, not the stored map
    sent_back = form_values(response.text, "strategy-form")
    assert sent_back["cell.refund_not_received.email.sla_seconds"] == "soon"
    yaml_form = TENANT.replace(
        "sales_opportunity: true}",
        "sales_opportunity: true, channels: {chat: {treatment: self_serve}}}",
    )
    api = await client.put(
        "/v1/tenant/config", content=yaml_form.encode(), headers=bearer(company.admin_token)
    )
    [expected] = api.json()["error"]["data"]["errors"]
    form = form_values((await supervisor.get("/app/supervisor/strategy")).text, "strategy-form")
    form["cell.upgrade_plan.chat.treatment"] = "self_serve"
    form["chdef.sms.skill"] = "plumbing"  # the cross-checks: names must be declared
    matrix_only = await supervisor.post("/app/supervisor/strategy", form)
    assert f'data-loc="{expected["loc"]}"' in matrix_only.text
    assert expected["message"] in matrix_only.text
    assert 'data-loc="strategy.channel_defaults.sms.skill"' in matrix_only.text
    assert "chdef.sms.skill" in re.findall(
        r'name="([^"]+)"[^>]*aria-invalid="true"', matrix_only.text
    )
    assert await _version(client, company) == 1


async def test_an_agent_cannot_save_the_strategy_map(
    agent: Browser,
) -> None:
    response = await agent.post("/app/supervisor/strategy", {"defaults.treatment": "live"})
    assert response.status_code == 403


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
