"""The crash window of the outbox, made deterministic: the provider accepted a send, the worker
died before recording it, the item runs again. The same Idempotency-Key on both sends lets a
provider that honours it (the emulator does) send once and answer the repeat with the first id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carepath.actions.cases import do_reply
from carepath.actions.ingest import do_ingest_inbound
from carepath.delivery.messages import Outbound
from carepath.delivery.registry import build_senders
from carepath.domain.contacts import Channel
from carepath.emulator import create_emulator
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import system
from tests.inbound import inbound
from tests.live import serving
from tests.reliability.world import make_world
from tests.reliability_report import record

pytestmark = pytest.mark.reliability

SENT_KIND = {Channel.SMS: "twilio.message", Channel.WHATSAPP: "whatsapp.message"}


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    async with serving(create_emulator(), lifespan=True) as url:
        yield url


async def outbound_reply(db: Database, channel: Channel, sender: str, key: str) -> Outbound:
    """A reply as the outbox handler hands it to the channel's sender."""
    company = await make_world(db)
    case = (await do_ingest_inbound(db, inbound(company.tenant.id, channel, sender))).case
    reply = await do_reply(db, system(company.tenant), case.id, text=f"reply on {channel}")
    async with db.uow(write=False) as uow:
        [account] = await uow.channel_accounts.active(company.tenant.id, channel)
    return Outbound(
        message=reply,
        case=case,
        to=str(reply.properties["to"]),
        account=account,
        secrets=SecretBox(TEST_SECRET).open(account.secrets_sealed),
        idempotency_key=key,
    )


async def sent(emulator_url: str, what: str) -> list[object]:
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        found: list[object] = (await http.get(f"/_emulator/{what}")).json()
    return found


@pytest.mark.parametrize(
    ("channel", "sender"), [(Channel.SMS, "+16505550100"), (Channel.WHATSAPP, "+16505550300")]
)
async def test_a_send_repeated_after_a_crash_reaches_the_provider_once(
    db: Database, settings: Settings, emulator_url: str, channel: Channel, sender: str
) -> None:
    # given a reply whose send the provider accepted, but whose worker died before recording it
    outbound = await outbound_reply(db, channel, sender, key="obx_item-of-this-reply")
    emulated = settings.model_copy(
        update={"twilio_api_url": emulator_url, "graph_api_url": emulator_url}
    )
    async with httpx.AsyncClient() as http:
        send = build_senders(emulated, http)[channel]
        first = await send.send(outbound)
        # when the item runs again with the same key
        again = await send.send(outbound)
    # then the provider sent it once and answered the repeat with the same id
    assert first is not None
    assert again == first
    assert len(await sent(emulator_url, "requests")) == 1
    assert len(await sent(emulator_url, "replays")) == 1
    record(
        f"idempotent-resend-{channel}",
        section="Nothing lost, nothing doubled",
        what=(
            f"A {channel} reply is sent, then sent again as a worker does after dying between "
            "the provider's answer and the outbox record (the crash window), with the outbox "
            "item's id as Idempotency-Key."
        ),
        counts={"send attempts": 2, "provider sends": 1},
        result="the emulator sent once and answered the repeat with the first provider id",
    )


async def test_without_a_key_the_provider_cannot_tell_a_repeat_from_a_new_message(
    db: Database, settings: Settings, emulator_url: str
) -> None:
    # given the same reply sent twice with no key (what carepath did before keys)
    outbound = await outbound_reply(db, Channel.SMS, "+16505550100", key="")
    emulated = settings.model_copy(update={"twilio_api_url": emulator_url})
    async with httpx.AsyncClient() as http:
        send = build_senders(emulated, http)[Channel.SMS]
        first = await send.send(outbound)
        again = await send.send(outbound)
    # then the customer gets it twice: what providers without idempotency keys do
    assert first != again
    assert len(await sent(emulator_url, "requests")) == 2
