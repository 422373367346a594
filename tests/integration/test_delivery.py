"""Replies and surveys delivered through the outbox to a channel sender (an in-memory
implementation of the ChannelSender protocol: the real senders are tested with their channels)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
from sqlalchemy import select

from carepath.actions.cases import do_reply, do_resolve_case
from carepath.actions.channels import do_create_channel_account
from carepath.actions.identify import do_identify
from carepath.actions.ingest import do_ingest_inbound
from carepath.delivery.base import Handler
from carepath.delivery.messages import ChannelSender, DeliverMessage, DeliverSurvey, Outbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import DeliveryStatus, Message
from carepath.domain.outbox import OutboxStatus
from carepath.errors import DeliveryFailed
from carepath.secretbox import SecretBox
from carepath.storage import Database
from carepath.storage.tables import messages
from carepath.worker import OutboxWorker
from tests.conftest import TEST_SECRET
from tests.factories import make_company, system
from tests.inbound import inbound


class MemorySender:
    """Records what it was asked to send; fails the first `fail` times."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[Outbound] = []
        self.fail = fail
        self._ids = itertools.count(1)

    async def send(self, outbound: Outbound) -> str | None:
        if self.fail:
            self.fail -= 1
            raise DeliveryFailed("provider unavailable", retryable=True)
        self.sent.append(outbound)
        return f"provider-{next(self._ids)}"


def worker(db: Database, senders: dict[Channel, ChannelSender]) -> OutboxWorker:
    box = SecretBox(TEST_SECRET)
    handlers: dict[str, Handler] = {
        "deliver_message": DeliverMessage(senders, box),
        "deliver_survey": DeliverSurvey(secret=TEST_SECRET, public_url="https://care.example.com"),
    }
    return OutboxWorker(db, handlers, name="test")


async def stored(db: Database, message_id: str) -> Message:
    async with db.uow(write=False) as uow:
        found = await uow.session.scalar(select(Message).where(messages.c.id == message_id))
    assert found is not None
    return found


async def test_a_reply_reaches_the_sender_with_its_account_secrets_and_thread(db: Database) -> None:
    company = await make_company(db)
    actor = system(company.tenant)
    await do_create_channel_account(
        db,
        actor,
        SecretBox(TEST_SECRET),
        channel=Channel.SMS,
        name="main number",
        address="+1 650 555 0000",
        secrets={"auth_token": "s3cret"},
    )
    first = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.SMS, "+16505550100", external_id="SM-in-1")
    )
    reply = await do_reply(db, actor, first.case.id, text="On its way")
    sender = MemorySender(fail=1)
    run = worker(db, {Channel.SMS: sender})
    # the first attempt fails and is retried later; the second sends
    assert await run.run_once() == 1
    assert sender.sent == []
    async with db.uow() as uow:
        items = (await uow.outbox.list(company.tenant.id, status=None, limit=10, cursor=None)).items
        # The customer's message also queued an assistant turn: the reply is the other item.
        item = next(i for i in items if i.kind == "deliver_message")
        item.available_at = utcnow() - timedelta(seconds=1)
    assert await run.run_once() == 1
    [outbound] = sender.sent
    assert outbound.to == "+16505550100"
    assert outbound.message.id == reply.id
    assert outbound.secrets == {"auth_token": "s3cret"}
    assert outbound.account is not None
    assert outbound.account.address == "+16505550000"
    assert outbound.thread == ("SM-in-1",)
    after = await stored(db, reply.id)
    assert after.delivery_status is DeliveryStatus.SENT
    assert after.external_id == "provider-1"
    # and running again sends nothing more
    assert await run.run_once() == 0
    assert len(sender.sent) == 1


async def test_a_reply_on_a_channel_without_a_sender_waits_and_says_why(db: Database) -> None:
    company = await make_company(db)
    first = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550100"))
    await do_reply(db, system(company.tenant), first.case.id, text="hello")
    assert await worker(db, {}).run_once() == 1
    async with db.uow(write=False) as uow:
        items = (await uow.outbox.list(company.tenant.id, status=None, limit=10, cursor=None)).items
        # The customer's message also queued an assistant turn: the reply is the other item.
        item = next(i for i in items if i.kind == "deliver_message")
    assert item.status is OutboxStatus.PENDING
    assert item.last_error == "this deployment has no sender for sms"


async def test_a_chat_reply_is_delivered_by_the_stream_itself(db: Database) -> None:
    company = await make_company(db)
    first = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.CHAT, "visitor-9"))
    reply = await do_reply(db, system(company.tenant), first.case.id, text="hi there")
    assert await worker(db, {}).run_once() == 1
    assert (await stored(db, reply.id)).delivery_status is DeliveryStatus.SENT


async def test_an_sms_survey_asks_for_a_number_and_an_email_survey_sends_signed_links(
    db: Database, client: httpx.AsyncClient
) -> None:
    company = await make_company(db)
    actor = system(company.tenant)
    await do_identify(
        db, company.tenant.id, [IdentityRef.of(IdentityKind.EMAIL, "ann@example.com")]
    )
    sms_case = (
        await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550100"))
    ).case
    email_case = (
        await do_ingest_inbound(db, inbound(company.tenant.id, Channel.EMAIL, "ann@example.com"))
    ).case
    await do_resolve_case(db, actor, sms_case.id)
    await do_resolve_case(db, actor, email_case.id)
    sms, email = MemorySender(), MemorySender()
    run = worker(db, {Channel.SMS: sms, Channel.EMAIL: email})
    assert await run.run_once() == 2  # the two surveys become two system messages
    assert await run.run_once() == 2  # which are then sent
    assert sms.sent[0].message.text.startswith("How satisfied are you")
    assert "Reply 1" in sms.sent[0].message.text
    links = [
        w for w in email.sent[0].message.text.split() if w.startswith("https://care.example.com/s/")
    ]
    assert len(links) == 5
    # a link from the email answers the survey
    path = links[3].removeprefix("https://care.example.com")
    answered = await client.get(path)
    assert answered.status_code == 200
    async with db.uow(write=False) as uow:
        contacts = await uow.contacts.of_case(company.tenant.id, email_case.id)
    assert contacts[0].csat == 4
