"""Card numbers masked everywhere: a Luhn-valid card (with spaces, dashes, or none) goes in
through every channel and entry point, then every text and JSON column of every table, every
stored file and the logs are searched for it."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from carepath.actions.channels import do_create_channel_account
from carepath.channels.email import EmailInbox
from carepath.domain.contacts import Channel
from carepath.logging import configure_logging
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from tests.channels.widget.visitor import open_visitor
from tests.conftest import TEST_SECRET
from tests.factories import Company, bearer, make_company, system
from tests.privacy.scan import find, find_in_files, text_columns
from tests.reliability_report import record

# Test numbers of three schemes, written the ways people write them.
CARDS = ("4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005")
NEEDLES = (*CARDS, *("".join(ch for ch in c if ch.isdigit()) for c in CARDS))
SMS_NUMBER, SUPPORT = "+16505550199", "support@acme-outfitters.com"
TWILIO_TOKEN, ACCOUNT_SID = "sms-auth-token-for-tests", "AC" + "1" * 32


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """carepath's own logging configuration (JSON lines, as in production), written here."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(json=True, level="INFO")
    buffer = io.StringIO()
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def say(i: int) -> str:
    return f"my card is {CARDS[i % len(CARDS)]}, please refund"


async def _channels(db: Database, company: Company) -> None:
    box = SecretBox(TEST_SECRET)
    await do_create_channel_account(
        db,
        system(company.tenant),
        box,
        channel=Channel.SMS,
        name="Support line",
        address=SMS_NUMBER,
        config={"account_sid": ACCOUNT_SID},
        secrets={"auth_token": TWILIO_TOKEN},
    )
    await do_create_channel_account(
        db, system(company.tenant), box, channel=Channel.EMAIL, name="Support", address=SUPPORT
    )


def _email(i: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Card Holder <holder@example.com>"
    mail["To"] = SUPPORT
    mail["Subject"] = f"refund for {CARDS[0]}"
    mail["Message-ID"] = f"<{uuid.uuid4()}@example.com>"
    mail.set_content(f"{say(i)}\n\n> earlier: {CARDS[1]}\n")
    # Long enough that the HTML body goes to the file store rather than the properties.
    filler = "<p>lorem ipsum dolor sit amet</p>" * 500
    mail.add_alternative(f"<html><body><p>{say(i + 1)}</p>{filler}</body></html>", subtype="html")
    mail.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename=f"{CARDS[2]}.pdf"
    )
    return mail.as_bytes()


async def test_a_card_number_sent_through_every_entry_point_is_stored_nowhere(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    server_log: io.StringIO,
) -> None:
    company = await make_company(db)
    await _channels(db, company)
    slug, token = company.tenant.slug, bearer(company.agent_token)
    entry_points: list[str] = []

    async def expect(name: str, response: httpx.Response) -> httpx.Response:
        assert response.status_code < 300, f"{name}: {response.status_code} {response.text}"
        entry_points.append(name)
        return response

    form = [
        ("MessageSid", "SM" + "7" * 32),
        ("AccountSid", ACCOUNT_SID),
        ("From", "+16505550100"),
        ("To", SMS_NUMBER),
        ("Body", say(0)),
        ("NumMedia", "0"),
    ]
    url = f"https://testserver/webhooks/twilio/{slug}/sms"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, dict(form))
    await expect(
        "sms webhook",
        await client.post(
            url,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ),
    )

    inbox = EmailInbox.from_settings(db, settings)
    async with db.uow(write=False) as uow:
        accounts = await uow.channel_accounts.active(company.tenant.id, Channel.EMAIL)
    delivery = await inbox.deliver(_email(1), accounts, source="smtp")
    assert delivery.results, delivery.outcome
    entry_points.append("email (subject, plain, quoted, HTML, attachment name)")

    visitor = await open_visitor(client, company.tenant)
    sent = await expect(
        "widget message",
        await client.post(
            "/v1/visitor/messages",
            json={"client_id": str(uuid.uuid4()), "text": say(2)},
            headers=visitor.headers,
        ),
    )
    case_id = sent.json()["case_id"]
    admin = bearer(company.admin_token)
    await expect(
        "identify traits",
        await client.post(
            "/v1/identify",
            json={
                "user_id": "holder-1",
                "email": "holder@example.com",
                "name": f"Holder {CARDS[1]}",
                "traits": {"note": say(0), f"card_{CARDS[2]}": "key"},
            },
            headers=admin,
        ),
    )
    await expect(
        "track properties",
        await client.post(
            "/v1/track",
            json={
                "user_id": "holder-1",
                "events": [
                    {"type": "custom", "name": f"paid {CARDS[0]}", "properties": {"card": CARDS[1]}}
                ],
            },
            headers=admin,
        ),
    )
    await expect(
        "agent reply",
        await client.post(f"/v1/cases/{case_id}/replies", json={"text": say(1)}, headers=token),
    )
    await expect(
        "internal note",
        await client.post(f"/v1/cases/{case_id}/notes", json={"text": say(2)}, headers=token),
    )
    await expect(
        "case subject",
        await client.patch(f"/v1/cases/{case_id}", json={"subject": say(0)}, headers=token),
    )
    sms_customer = delivery.results[0].customer.id
    await expect(
        "merge reason",
        await client.post(
            f"/v1/customers/{sms_customer}/merge",
            json={"merged_id": visitor.customer_id, "reason": say(1)},
            headers=token,
        ),
    )
    await expect(
        "help centre search", await client.get(f"/help/{slug}/search", params={"q": say(2)})
    )

    found = await find(db, NEEDLES)
    files = find_in_files(Path(settings.data_dir), NEEDLES)
    logged = [
        line for line in server_log.getvalue().splitlines() if any(n in line for n in NEEDLES)
    ]
    masked = await find(db, ["**** **** **** 1111", "****-****-****-0004", "***********0005"])

    assert found == {}
    assert files == []
    assert logged == []
    assert "search?q=my card is ***********0005" in server_log.getvalue(), "the log saw it"
    # And the masked forms are there: the scan looked where the cards went.
    assert {"messages.text", "cases.subject"} <= set(masked)
    record(
        "card-numbers-masked",
        section="Personal data",
        what="Three Luhn-valid card numbers (spaces, dashes, bare) sent through SMS webhook, "
        "email, widget, identify, track, replies, notes, case subject, merge reason and help "
        "search; every text/JSON column, stored file and log line searched after.",
        counts={
            "entry points": len(entry_points),
            "columns scanned": len(text_columns()),
            "needles": len(NEEDLES),
            "log lines scanned": len(server_log.getvalue().splitlines()),
            "columns holding a masked card": len(masked),
            "clear card numbers found": 0,
        },
        result="no card number in clear anywhere; masked forms (last four kept) where the text "
        "went",
    )
