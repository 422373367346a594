"""Customer markup that arrives through the real inbound channels (a signed SMS webhook, a signed
WhatsApp webhook with a hostile profile name, SMTP with a hostile subject, display name, text and
HTML part, the widget's visitor API) shows as text in the workspace's inbox and case views.
(tests/api/test_ui_pages.py covers every view for a chat message ingested directly.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.channels import do_create_channel_account
from carepath.channels.email.smtp_server import start_listener
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.types import Role
from carepath.web import create_app
from tests.api.ui_session import HOSTILE, HOSTILE_ESCAPED, log_in
from tests.channels.email.conftest import smtp_send
from tests.channels.meta_live import add_account
from tests.channels.meta_live import post_signed as meta_signed
from tests.channels.sms.test_sms_webhooks import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, sms_form
from tests.channels.sms.test_sms_webhooks import post_signed as twilio_signed
from tests.conftest import TEST_SECRET
from tests.factories import Company, make_company, make_user, system
from tests.live import free_port, serving
from tests.reliability_report import record
from tests.security.apps import SECTION

SUPPORT = "support@markup.example.com"
WHATSAPP_NUMBER = "106540352242922"


@pytest.fixture
async def server(
    db: Database, database_url: str, data_dir: Path
) -> AsyncIterator[tuple[str, FastAPI, Settings]]:
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        run_worker=False,
    )
    app = create_app(settings)
    async with serving(app, port, lifespan=True) as url:
        yield url, app, settings


async def accounts(db: Database, company: Company) -> None:
    box = SecretBox(TEST_SECRET)
    actor = system(company.tenant)
    await do_create_channel_account(
        db,
        actor,
        box,
        channel=Channel.SMS,
        name="sms",
        address=OUR_NUMBER,
        config={"account_sid": ACCOUNT_SID},
        secrets={"auth_token": AUTH_TOKEN},
    )
    await add_account(db, company, Channel.WHATSAPP, WHATSAPP_NUMBER, access_token="t")
    await do_create_channel_account(
        db, actor, box, channel=Channel.EMAIL, name="support", address=SUPPORT
    )


def hostile_email() -> bytes:
    mail = EmailMessage()
    mail["From"] = f'"{HOSTILE}" <ann.hostile@example.com>'
    mail["To"] = SUPPORT
    mail["Subject"] = f"subject {HOSTILE}"
    mail["Message-ID"] = f"<{uuid.uuid4()}@example.com>"
    mail.set_content(f"email {HOSTILE}")
    mail.add_alternative(f"<p>html {HOSTILE}</p><script>alert(3)</script>", subtype="html")
    return mail.as_bytes()


def whatsapp_text(body: str, name: str) -> dict[str, object]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_NUMBER},
        "contacts": [{"profile": {"name": name}, "wa_id": "16505551234"}],
        "messages": [
            {
                "from": "16505551234",
                "id": f"wamid.{uuid.uuid4().hex}",
                "timestamp": "1749416383",
                "type": "text",
                "text": {"body": body},
            }
        ],
    }
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


async def test_markup_from_every_inbound_channel_shows_as_text(
    server: tuple[str, FastAPI, Settings], db: Database
) -> None:
    url, app, settings = server
    company = await make_company(db)
    await accounts(db, company)
    slug = company.tenant.slug
    # when customers write markup through each channel, as its provider would deliver it
    sms = await twilio_signed(
        f"{url}/webhooks/twilio/{slug}/sms", sms_form("SM1", f"sms {HOSTILE}")
    )
    assert sms.status_code == 200, sms.text
    whatsapp = await meta_signed(
        f"{url}/webhooks/whatsapp/{slug}", whatsapp_text(f"whatsapp {HOSTILE}", HOSTILE)
    )
    assert whatsapp.status_code == 200, whatsapp.text
    listener = await start_listener(db, settings, host="127.0.0.1", port=0)
    try:
        await smtp_send(
            listener.port, hostile_email(), mail_from="ann.hostile@example.com", to=SUPPORT
        )
    finally:
        await listener.stop()
    async with httpx.AsyncClient(base_url=url) as http:
        key = {"X-Carepath-Key": company.tenant.public_key}
        session = await http.post("/v1/visitor/session", json={"visitor_id": "v-x"}, headers=key)
        assert session.status_code == 200, session.text
        sent = await http.post(
            "/v1/visitor/messages",
            json={"client_id": str(uuid.uuid4()), "text": f"widget {HOSTILE}"},
            headers={"X-Carepath-Session": session.json()["session"]},
        )
        assert sent.status_code in (200, 201, 202), sent.text
    # then the supervisor's list of open work and each case page show it as text
    supervisor = await log_in(app, company, await make_user(db, company.tenant, Role.SUPERVISOR))
    inbox = await supervisor.get("/app?view=open")
    case_ids = sorted(set(inbox.text.split('href="/app/cases/')[1:]))
    pages = {"inbox": inbox}
    for link in case_ids:
        case_id = link.split('"')[0].split("?")[0].split("/")[0]
        pages[case_id] = await supervisor.get(f"/app/cases/{case_id}")
    assert len(pages) >= 5, list(pages)  # the inbox and four cases
    everything = ""
    for name, page in pages.items():
        assert page.status_code == 200, (name, page.text[:300])
        assert "<script>alert" not in page.text, name
        assert "<img src=x" not in page.text, name
        everything += page.text
    for words in ("sms", "whatsapp", "email", "widget", "subject"):
        assert f"{words} {HOSTILE_ESCAPED}" in everything, words
    # the WhatsApp profile name and the email display name, as the customer's name
    assert everything.count(f'<p class="name">{HOSTILE_ESCAPED}</p>') == 2
    record(
        "markup-through-channels",
        section=SECTION,
        what="HTML/JS written by customers through a signed SMS webhook, a signed WhatsApp "
        "webhook (text and profile name), SMTP (subject, display name, text and HTML part) and "
        "the widget, then the workspace's inbox and every case page opened by a supervisor.",
        counts={"channels": 4, "fields": 7, "pages_checked": len(pages)},
        result="every field shows escaped, as text; no script or event handler reaches a page",
    )
