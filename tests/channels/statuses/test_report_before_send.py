"""A provider's delivery report that arrives before the send recorded the provider's id (the
callback overtakes the API's answer) is kept and applied, never dropped: the reply does not stay
`sent` for ever. Through the real webhook routes and the outbox's DeliverMessage handler."""

from __future__ import annotations

import httpx
import pytest

from carepath.delivery import HandlerContext
from carepath.delivery.messages import DeliverMessage, Outbound
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.messages import DeliveryStatus
from carepath.domain.outbox import OutboxItem
from carepath.secretbox import SecretBox
from carepath.storage import Database
from tests.channels.statuses.providers import a_reply, report
from tests.conftest import TEST_SECRET
from tests.reliability.world import make_world

# What the provider reports before its API answers, and where the message ends.
EARLY = {
    Channel.SMS: (("queued", "sent", "delivered"), DeliveryStatus.DELIVERED),
    Channel.WHATSAPP: (("sent", "delivered", "read"), DeliveryStatus.READ),
}


class ReportsBeforeAnswering:
    """A provider (the ChannelSender protocol) that calls carepath back with its delivery
    reports, and has them acknowledged, before it answers the send with the message's id."""

    def __init__(self, http: httpx.AsyncClient, slug: str, steps: tuple[str, ...]) -> None:
        self.http = http
        self.slug = slug
        self.steps = steps
        self.answers: list[int] = []

    async def send(self, outbound: Outbound) -> str:
        channel = outbound.message.channel
        provider_id = f"{'SM' if channel is Channel.SMS else 'wamid.'}early{outbound.message.id}"
        for step in self.steps:
            response = await report(self.http, self.slug, channel, provider_id, step)
            self.answers.append(response.status_code)
        return provider_id


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
async def test_reports_that_arrive_before_the_send_records_the_provider_id_are_applied(
    db: Database, client: httpx.AsyncClient, channel: Channel
) -> None:
    # given a reply waiting in the outbox
    company = await make_world(db)
    reply = await a_reply(db, company, channel)
    steps, final = EARLY[channel]
    provider = ReportsBeforeAnswering(client, company.tenant.slug, steps)
    deliver = DeliverMessage({channel: provider}, SecretBox(TEST_SECRET))
    item = OutboxItem(
        tenant_id=company.tenant.id, kind="deliver_message", payload={"message_id": reply.id}
    )
    # when the provider reports delivery before its API's answer is recorded
    await deliver(item, HandlerContext(db=db, worker="test", clock=utcnow))
    # then every report was acknowledged, and the message ends where the reports say
    assert provider.answers
    assert all(200 <= code < 300 for code in provider.answers)
    async with db.uow(write=False) as uow:
        message = await uow.messages.get(company.tenant.id, reply.id)
        updates = [
            e.payload
            for e in await uow.events.after(company.tenant.id, 0, limit=500)
            if e.type == EventType.MESSAGE_UPDATED and e.payload.get("message_id") == reply.id
        ]
    assert message is not None
    assert message.external_id is not None
    assert message.external_id.endswith(reply.id)
    assert message.delivery_status is final
    # and agents' streams were told
    assert updates[-1]["delivery_status"] == final.value

    # when a stale report of an early step arrives afterwards
    stale = await report(client, company.tenant.slug, channel, message.external_id, steps[0])
    # then it is acknowledged and changes nothing (statuses never go backwards)
    assert stale.status_code in (200, 204)
    async with db.uow(write=False) as uow:
        again = await uow.messages.get(company.tenant.id, reply.id)
    assert again is not None
    assert again.delivery_status is final
