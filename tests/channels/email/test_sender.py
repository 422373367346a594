"""Outbound email: the SMTP sender against a real server (an aiosmtpd sink), its headers, and
what it tells the outbox when the server says no."""

from __future__ import annotations

import pytest

from carepath.actions.cases import do_reply
from carepath.actions.ingest import do_ingest_inbound
from carepath.channels.email import SmtpSender, SmtpServer
from carepath.channels.email.compose import compose, subject_for
from carepath.delivery.messages import Outbound
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.errors import ConfigurationError, DeliveryFailed
from carepath.storage import Database
from tests.channels.email.conftest import SUPPORT, add_email_account
from tests.channels.email.sink import MailSink
from tests.factories import Company, system
from tests.inbound import inbound
from tests.processes import free_port

DANA = "dana@example.com"


async def an_outbound(
    db: Database,
    company: Company,
    account: ChannelAccount,
    *,
    thread: tuple[str, ...] = ("first@mail.example.com",),
    to: str = DANA,
) -> Outbound:
    first = await do_ingest_inbound(
        db,
        inbound(
            company.tenant.id,
            Channel.EMAIL,
            DANA,
            "Where is my parcel?",
            properties={"subject": "Parcel 40-1187"},
        ),
    )
    reply = await do_reply(db, system(company.tenant), first.case.id, text="It arrives Monday.")
    async with db.uow(write=False) as uow:
        case = await uow.cases.get(company.tenant.id, first.case.id)
    assert case is not None
    return Outbound(message=reply, case=case, to=to, account=account, thread=thread)


async def test_a_reply_goes_through_the_accounts_own_server_with_a_stable_message_id(
    db: Database, company: Company
) -> None:
    async with MailSink() as sink:
        # given an account with its own outgoing server
        account = await add_email_account(
            db, company, config={"smtp_host": "127.0.0.1", "smtp_port": sink.port}
        )
        outbound = await an_outbound(db, company, account)
        sender = SmtpSender()
        # when the reply is sent, and sent again (a worker died before recording the first)
        provider_id = await sender.send(outbound)
        again = await sender.send(outbound)
        # then the server got two copies with the same Message-ID, which is the provider id
        first, second = await sink.wait_for(2)
    assert provider_id == again == f"{outbound.message.id}@acme-outfitters.example.com"
    assert first.message["Message-ID"] == second.message["Message-ID"] == f"<{provider_id}>"
    assert first.message["Subject"] == "Re: Parcel 40-1187"
    assert first.message["In-Reply-To"] == "<first@mail.example.com>"
    assert first.mail_from == SUPPORT
    assert first.rcpt_tos == [DANA]


async def test_the_global_smtp_url_serves_accounts_without_their_own_server(
    db: Database, company: Company
) -> None:
    async with MailSink() as sink:
        account = await add_email_account(db, company)
        outbound = await an_outbound(db, company, account)
        await SmtpSender(SmtpServer.from_url(f"smtp://127.0.0.1:{sink.port}")).send(outbound)
        [received] = await sink.wait_for(1)
    assert received.rcpt_tos == [DANA]


async def test_a_recipient_the_server_refuses_is_a_final_failure(
    db: Database, company: Company
) -> None:
    async with MailSink(refuse=frozenset({DANA})) as sink:
        account = await add_email_account(
            db, company, config={"smtp_host": "127.0.0.1", "smtp_port": sink.port}
        )
        outbound = await an_outbound(db, company, account)
        with pytest.raises(DeliveryFailed) as failed:
            await SmtpSender().send(outbound)
    assert not failed.value.retryable
    assert "dana@example.com refused by 127.0.0.1: 550 5.1.1 User unknown" in failed.value.message


async def test_an_unreachable_server_is_tried_again_later(db: Database, company: Company) -> None:
    account = await add_email_account(
        db, company, config={"smtp_host": "127.0.0.1", "smtp_port": free_port()}
    )
    outbound = await an_outbound(db, company, account)
    with pytest.raises(DeliveryFailed) as failed:
        await SmtpSender(timeout=5).send(outbound)
    assert failed.value.retryable


async def test_without_any_server_configured_the_failure_says_what_to_set(
    db: Database, company: Company
) -> None:
    account = await add_email_account(db, company)
    outbound = await an_outbound(db, company, account)
    with pytest.raises(DeliveryFailed, match="set smtp_host on the account or CAREPATH_SMTP_URL"):
        await SmtpSender().send(outbound)


async def test_threading_headers_are_bounded_and_only_carry_message_ids(
    db: Database, company: Company
) -> None:
    account = await add_email_account(db, company)
    thread = ("ext-1", *(f"m{i}@mail.example.com" for i in range(30)))
    mail = compose(
        await an_outbound(db, company, account, thread=thread),
        from_address=SUPPORT,
        from_name="Acme",
    )
    references = str(mail["References"]).split()
    assert len(references) == 20
    assert references[-1] == "<m29@mail.example.com>" == mail["In-Reply-To"]
    assert "<ext-1>" not in references
    assert mail["Auto-Submitted"] == "auto-generated"  # a system message, not a person's


@pytest.mark.parametrize(
    ("case_subject", "subject"),
    [
        ("Parcel", "Re: Parcel"),
        ("Re: Parcel", "Re: Parcel"),
        ("AW: Paket", "AW: Paket"),
        (None, "Re: your message"),
    ],
)
def test_the_subject_answers_the_case_subject_once(case_subject: str | None, subject: str) -> None:
    assert subject_for(case_subject) == subject


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25)),
        (
            "smtp+starttls://bot%40acme.example:p%3Ass@mail.example.com",
            SmtpServer("mail.example.com", 587, "bot@acme.example", "p:ss", starttls=True),
        ),
        ("smtps://u:p@mail.example.com:2465", SmtpServer("mail.example.com", 2465, "u", "p", True)),
    ],
)
def test_smtp_urls_are_read(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com"])
def test_a_bad_smtp_url_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError, match="CAREPATH_SMTP_URL"):
        SmtpServer.from_url(url)
