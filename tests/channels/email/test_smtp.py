"""Real SMTP: Python's smtplib delivers to carepath's listener on a loopback port; replies leave
through the outbox worker to a local aiosmtpd sink; the customer's answer threads back."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from carepath.access import Principal
from carepath.actions.cases import do_reply
from carepath.actions.channels import do_set_channel_account_active
from carepath.actions.delivery import do_record_delivery
from carepath.channels.email import EmailCounters, EmailInbox, Outcome, SmtpListener
from carepath.domain.messages import DeliveryStatus, Direction
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.files import AttachmentStore
from carepath.types import Role
from carepath.web import create_app
from tests.channels.email.conftest import (
    SUPPORT,
    Mailroom,
    add_email_account,
    eml,
    smtp_send,
)
from tests.channels.email.sink import MailSink
from tests.channels.email.stored import all_cases, all_customers, all_messages
from tests.factories import Company, bearer, make_company, make_user, system
from tests.processes import free_port

ANN = "ann.smith@example.com"
FIRST_ID = "CAFx3k2dQ7p1=Ann+refund@mail.example.com"


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    async with MailSink() as server:
        yield server


async def test_an_email_opens_a_case_the_reply_threads_and_the_answer_joins_the_case(
    db: Database, settings: Settings, sink: MailSink
) -> None:
    # given a tenant with a support address, served by `carepath serve` with its SMTP listener
    # and outgoing mail through the customer's provider (the sink)
    company = await make_company(db)
    await add_email_account(db, company)
    port = free_port()
    served = settings.model_copy(
        update={
            "smtp_listen_port": port,
            "smtp_url": f"smtp://127.0.0.1:{sink.port}",
            "run_worker": True,
        }
    )
    app = create_app(served)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            # when Ann writes to the support address
            await smtp_send(port, eml("plain.eml"))
            # then her email is a new case, named by its subject
            listed = (await client.get("/v1/cases", headers=bearer(company.agent_token))).json()
            [case] = listed["items"]
            assert case["channel"] == "email"
            assert case["subject"] == "My refund still hasn't arrived"
            # when an agent replies, and the server's own worker sends it
            agent = await make_user(db, company.tenant, Role.AGENT)
            actor = Principal(tenant_id=company.tenant.id, role=Role.AGENT, user_id=agent.id)
            reply = await do_reply(db, actor, case["id"], text="Your refund left today.")
            [received] = await sink.wait_for(1)
            # then Ann's provider gets it with the headers that thread it in her mail client
            mail = received.message
            our_id = f"{reply.id}@acme-outfitters.example.com"
            assert mail["Message-ID"] == f"<{our_id}>"
            assert mail["In-Reply-To"] == f"<{FIRST_ID}>"
            assert mail["References"] == f"<{FIRST_ID}>"
            assert mail["Subject"] == "Re: My refund still hasn't arrived"
            assert mail["From"] == f"Acme Outfitters Support <{SUPPORT}>"
            assert mail["To"] == ANN
            assert mail.get_content().strip() == "Your refund left today."
            assert (received.mail_from, received.rcpt_tos) == (SUPPORT, [ANN])
            await _until_sent(db, reply.id)
            # when Ann answers from her work address (another identity) to that reply
            answer = (
                eml("reply_with_quote.eml")
                .replace(
                    b"msg_0195712345abcdef0123456789abcdef@acme-outfitters.example.com",
                    our_id.encode(),
                )
                .replace(b"<ann.smith@example.com>", b"<ann@work.example>")
            )
            await smtp_send(port, answer, mail_from="ann@work.example")
            # then the answer joins the same case, by its In-Reply-To, without the quoted history
            detail = (
                await client.get(f"/v1/cases/{case['id']}", headers=bearer(company.agent_token))
            ).json()
            assert [m["direction"] for m in detail["messages"]] == [
                "inbound",
                "outbound",
                "inbound",
            ]
            assert detail["messages"][-1]["text"] == (
                "Thank you, the refund arrived this morning.\n\n"
                "One more question: can I exchange the socks too?"
            )
            listed = (await client.get("/v1/cases", headers=bearer(company.agent_token))).json()
            assert len(listed["items"]) == 1


async def _until_sent(db: Database, message_id: str) -> None:
    async with asyncio.timeout(10):
        while True:
            [message] = [m for m in await all_messages(db) if m.id == message_id]
            if message.delivery_status is DeliveryStatus.SENT:
                assert message.external_id == f"{message_id}@acme-outfitters.example.com"
                return
            await asyncio.sleep(0.05)


async def test_a_redelivered_email_is_stored_once(db: Database, mailroom: Mailroom) -> None:
    # given an email that was delivered
    await smtp_send(mailroom.port, eml("plain.eml"))
    # when the sending server delivers it again (it never saw our 250, say)
    await smtp_send(mailroom.port, eml("plain.eml"))
    # then there is one message, and the second delivery was counted as a duplicate
    [message] = await all_messages(db)
    assert message.external_id == FIRST_ID
    assert mailroom.counters.value(Outcome.STORED) == 1
    assert mailroom.counters.value(Outcome.DUPLICATE) == 1


async def test_html_original_text_and_attachments_are_kept_with_the_message(
    db: Database, mailroom: Mailroom, data_dir: Path
) -> None:
    # when an email with an HTML alternative and two attachments arrives
    await smtp_send(mailroom.port, eml("multipart_with_attachment.eml"), mail_from="carla@x.org")
    # then the receipt is stored on disk under its digest and the installer reported as refused
    [message] = await all_messages(db)
    receipt, installer = message.attachment_values
    assert receipt.stored
    assert receipt.sha256 is not None
    assert receipt.rejected_reason is None
    stored = AttachmentStore(data_dir / "attachments").read(receipt.sha256)
    assert stored.startswith(b"%PDF-1.4")
    assert not installer.stored
    assert installer.sha256 is None
    assert installer.rejected_reason == "application/x-msdownload files are not accepted"
    # and the sanitised HTML and the headers are in the message's properties
    assert message.properties["html"].startswith("<p>Hello,</p>")
    assert message.properties["subject"] == "Damaged item - photos and receipt attached"
    assert message.properties["cc"] == ["carla.work@example.org"]
    assert message.properties["source"] == "smtp"


async def test_the_full_original_of_a_trimmed_reply_is_kept(
    db: Database, mailroom: Mailroom
) -> None:
    await smtp_send(mailroom.port, eml("reply_with_quote.eml"))
    [message] = await all_messages(db)
    assert message.text.endswith("can I exchange the socks too?")
    assert "> Your refund was issued today" in message.properties["original_text"]


@pytest.mark.parametrize(
    ("fixture", "outcome"),
    [
        ("auto_reply.eml", Outcome.AUTO_REPLY),
        ("bounce.eml", Outcome.BOUNCE),
        ("mailing_list.eml", Outcome.BULK),
    ],
)
async def test_automatic_mail_is_accepted_and_opens_nothing(
    db: Database, mailroom: Mailroom, fixture: str, outcome: Outcome
) -> None:
    # when an auto-reply, a bounce or list mail arrives
    answer = await smtp_send(mailroom.port, eml(fixture))
    # then the server took it (refusing it would only make more mail) and stored nothing
    assert answer == {}
    assert await all_cases(db) == []
    assert await all_customers(db) == []
    assert mailroom.counters.value(outcome) == 1


async def test_a_bounce_marks_the_returned_reply_as_failed(
    db: Database, mailroom: Mailroom
) -> None:
    # given a reply that was sent
    await smtp_send(mailroom.port, eml("plain.eml"))
    [case] = await all_cases(db)
    reply = await do_reply(db, system(mailroom.company.tenant), case.id, text="On its way")
    our_id = f"{reply.id}@acme-outfitters.example.com"
    await do_record_delivery(db, case.tenant_id, reply.id, DeliveryStatus.SENT, external_id=our_id)
    # when the customer's server returns it
    bounce = eml("bounce.eml").replace(
        b"msg_0195712345abcdef0123456789abcdef@acme-outfitters.example.com", our_id.encode()
    )
    await smtp_send(mailroom.port, bounce, mail_from="<>")
    # then the reply is marked failed, and no case was opened for the bounce
    [_, returned] = await all_messages(db)
    assert returned.direction is Direction.OUTBOUND
    assert returned.delivery_status is DeliveryStatus.FAILED
    assert len(await all_cases(db)) == 1


async def test_an_oversized_message_is_refused_at_data_with_552(
    db: Database, settings: Settings, company: Company
) -> None:
    # given a listener that takes messages up to 2000 bytes
    await add_email_account(db, company)
    small = settings.model_copy(update={"email_max_message_bytes": 2000})
    listener = await SmtpListener.from_settings(
        db, small, EmailInbox.from_settings(db, small), host="127.0.0.1", port=0
    )
    big = eml("plain.eml") + b"more words to make it long\r\n" * 100
    try:
        # when a client sends a larger one without announcing its size
        code, _ = await asyncio.to_thread(_data_without_size, listener.port, big)
        # then DATA is answered 552
        assert code == 552
        # and a client that announces the size is refused at MAIL FROM, also with 552
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await smtp_send(listener.port, big)
        assert refused.value.smtp_code == 552
    finally:
        await listener.stop()
    assert await all_messages(db) == []


def _data_without_size(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail(ANN)
        client.rcpt(SUPPORT)
        return client.data(raw)


async def test_a_malformed_message_is_refused_with_5xx_and_nothing_is_stored(
    db: Database, mailroom: Mailroom
) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await smtp_send(mailroom.port, eml("malformed_no_from.eml"))
    assert refused.value.smtp_code == 554
    assert b"5.6.0 Malformed message: the message has no From address" in refused.value.smtp_error
    assert await all_messages(db) == []
    assert await all_customers(db) == []
    assert mailroom.counters.value(Outcome.MALFORMED) == 1


@pytest.mark.parametrize(
    ("recipient", "code"),
    [("nobody@acme-outfitters.example.com", 550), ("not an address", 553)],
)
async def test_mail_for_an_unknown_or_invalid_address_is_refused_at_rcpt(
    db: Database, mailroom: Mailroom, recipient: str, code: int
) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await smtp_send(mailroom.port, eml("plain.eml"), to=recipient)
    assert refused.value.recipients[recipient][0] == code
    assert await all_messages(db) == []


async def test_a_deactivated_address_takes_no_more_mail(db: Database, mailroom: Mailroom) -> None:
    await do_set_channel_account_active(
        db, system(mailroom.company.tenant), mailroom.account.id, active=False
    )
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await smtp_send(mailroom.port, eml("plain.eml"))


async def test_one_email_to_two_tenants_is_stored_for_each(
    db: Database, mailroom: Mailroom
) -> None:
    # given another company with its own address
    other = await make_company(db)
    await add_email_account(db, other, "help@other.example")
    # when one email is sent to both
    raw = eml("plain.eml")

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", mailroom.port, timeout=10) as client:
            client.sendmail(ANN, [SUPPORT, "help@other.example"], raw)

    await asyncio.to_thread(send)
    # then each tenant has it, once
    stored = await all_messages(db)
    assert sorted(m.tenant_id for m in stored) == sorted(
        [mailroom.company.tenant.id, other.tenant.id]
    )


async def test_a_database_failure_answers_451_so_the_sender_retries(
    tmp_path: Path, settings: Settings
) -> None:
    # given a listener whose database breaks while storing (a table is missing)
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}")
    try:
        await migrations.upgrade(broken)
        company = await make_company(broken)
        await add_email_account(broken, company)
        async with broken.engine.begin() as conn:
            await conn.exec_driver_sql("DROP TABLE journey_events")
        counters = EmailCounters()
        inbox = EmailInbox.from_settings(broken, settings, counters=counters)
        listener = await SmtpListener.from_settings(
            broken, settings, inbox, host="127.0.0.1", port=0
        )
        try:
            # when mail arrives
            with pytest.raises(smtplib.SMTPDataError) as refused:
                await smtp_send(listener.port, eml("plain.eml"))
        finally:
            await listener.stop()
        # then the answer is a temporary failure, and nothing was half-stored
        assert refused.value.smtp_code == 451
        assert await all_messages(broken) == []
        assert await all_customers(broken) == []
    finally:
        await broken.dispose()
