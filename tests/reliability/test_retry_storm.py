"""Retry storm: providers deliver the same webhooks again (10% duplicates), in shuffled order,
many at once. Messages are stored exactly once each; delivery statuses of our replies, arriving
out of order and twice, end in the state their last real step says."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from carepath.actions.cases import do_reply
from carepath.actions.delivery import do_record_delivery
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus, Direction
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.tables import identities, messages
from carepath.web import create_app
from tests.factories import Company, system
from tests.inbound import inbound
from tests.live import free_port, serving
from tests.reliability.world import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    SMS_NUMBER,
    WHATSAPP_NUMBER_ID,
    make_world,
)
from tests.reliability_report import record

pytestmark = pytest.mark.reliability

UNIQUE = 200  # half SMS, half WhatsApp
DUPLICATE_SHARE = 0.10
CUSTOMERS = 20
CONCURRENCY = 16
REPLIES = 40
SEED = 1212

# The steps a provider reports for one message, and where each path really ends.
SMS_PATHS = {
    ("queued", "sent", "delivered"): DeliveryStatus.DELIVERED,
    ("queued", "sent", "undelivered"): DeliveryStatus.FAILED,
    ("queued", "failed"): DeliveryStatus.FAILED,
}
WHATSAPP_PATHS = {
    ("sent", "delivered", "read"): DeliveryStatus.READ,
    ("sent", "delivered"): DeliveryStatus.DELIVERED,
    ("sent", "failed"): DeliveryStatus.FAILED,
}

Delivery = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    served = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    async with serving(create_app(served), port, lifespan=True) as url:
        yield url


def sms(server: str, slug: str, form: dict[str, str], path: str = "sms") -> Delivery:
    url = f"{server}/webhooks/twilio/{slug}/{path}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urlencode(form)
    return lambda http: http.post(url, content=body, headers=headers)


def whatsapp(server: str, slug: str, value: dict[str, Any]) -> Delivery:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": WHATSAPP_NUMBER_ID,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    return lambda http: http.post(
        f"{server}/webhooks/whatsapp/{slug}", content=body, headers=headers
    )


def inbound_deliveries(server: str, slug: str) -> list[Delivery]:
    deliveries: list[Delivery] = []
    for i in range(UNIQUE):
        customer = (i // 2) % CUSTOMERS
        if i % 2 == 0:
            form = {
                "MessageSid": f"SM{i:032x}",
                "AccountSid": ACCOUNT_SID,
                "From": f"+165055501{customer:02d}",
                "To": SMS_NUMBER,
                "Body": f"storm {i}",
                "NumMedia": "0",
            }
            deliveries.append(sms(server, slug, form))
        else:
            wa_id = f"165055503{customer:02d}"
            message = {
                "from": wa_id,
                "id": f"wamid.storm.{i}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": f"storm {i}"},
            }
            contacts = [{"profile": {"name": "Customer"}, "wa_id": wa_id}]
            deliveries.append(whatsapp(server, slug, {"contacts": contacts, "messages": [message]}))
    return deliveries


async def storm(deliveries: list[Delivery], rng: random.Random) -> tuple[int, Counter[int]]:
    """Each delivery once, 10% of them again, shuffled, CONCURRENCY at a time."""
    repeated = rng.sample(deliveries, round(len(deliveries) * DUPLICATE_SHARE))
    everything = deliveries + repeated
    rng.shuffle(everything)
    slots = asyncio.Semaphore(CONCURRENCY)
    statuses: Counter[int] = Counter()

    async def deliver(delivery: Delivery, http: httpx.AsyncClient) -> None:
        async with slots:
            statuses[(await delivery(http)).status_code] += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(deliver(d, http) for d in everything))
    return len(repeated), statuses


async def test_repeated_shuffled_concurrent_webhooks_store_each_message_once(
    db: Database, server: str
) -> None:
    company = await make_world(db)
    rng = random.Random(SEED)
    started = time.monotonic()
    # when every message is delivered, 10% twice, shuffled, 16 at a time
    duplicates, answers = await storm(inbound_deliveries(server, company.tenant.slug), rng)
    elapsed = time.monotonic() - started
    # then every delivery is acknowledged and each message stored exactly once
    assert set(answers) == {200}, answers
    async with db.engine.connect() as conn:
        per_message = (
            await conn.execute(
                select(messages.c.external_id, func.count())
                .where(messages.c.direction == Direction.INBOUND)
                .group_by(messages.c.external_id)
            )
        ).all()
        per_identity = (
            await conn.execute(
                select(identities.c.value, func.count()).group_by(
                    identities.c.kind, identities.c.value
                )
            )
        ).all()
    assert len(per_message) == UNIQUE
    assert {n for _, n in per_message} == {1}
    # and concurrent first messages of one sender made one customer identity, not two
    assert len(per_identity) == 2 * CUSTOMERS
    assert {n for _, n in per_identity} == {1}
    record(
        "retry-storm-inbound",
        section="Nothing lost, nothing doubled",
        what=(
            "Signed SMS and WhatsApp webhooks delivered again as providers retry: 10% "
            f"duplicates, shuffled, {CONCURRENCY} at a time, from {2 * CUSTOMERS} senders."
        ),
        counts={
            "messages": UNIQUE,
            "deliveries": UNIQUE + duplicates,
            "duplicates": duplicates,
            "concurrency": CONCURRENCY,
            "duration (s)": round(elapsed, 2),
        },
        result=(
            f"all {UNIQUE + duplicates} deliveries acknowledged (200); {UNIQUE} messages stored, "
            f"each once; {2 * CUSTOMERS} identities, each once"
        ),
    )


async def sent_replies(db: Database, company: Company) -> list[tuple[str, Channel, str]]:
    """REPLIES replies, half SMS, half WhatsApp, sent: (message id, channel, provider id)."""
    replies: list[tuple[str, Channel, str]] = []
    for n in range(REPLIES):
        channel = Channel.SMS if n % 2 == 0 else Channel.WHATSAPP
        sender = f"+165055501{n:02d}" if channel is Channel.SMS else f"+165055503{n:02d}"
        case = (await do_ingest_inbound(db, inbound(company.tenant.id, channel, sender))).case
        reply = await do_reply(db, system(company.tenant), case.id, text=f"reply {n}")
        provider_id = f"SM{n:032x}" if channel is Channel.SMS else f"wamid.reply.{n}"
        # what the outbox worker records when the provider accepted the send
        await do_record_delivery(
            db, company.tenant.id, reply.id, DeliveryStatus.SENT, external_id=provider_id
        )
        replies.append((reply.id, channel, provider_id))
    return replies


async def test_status_callbacks_out_of_order_and_twice_end_in_the_final_state(
    db: Database, server: str
) -> None:
    company = await make_world(db)
    slug = company.tenant.slug
    rng = random.Random(SEED)
    replies = await sent_replies(db, company)
    expected: dict[str, DeliveryStatus] = {}
    callbacks: list[Delivery] = []
    for message_id, channel, provider_id in replies:
        paths = SMS_PATHS if channel is Channel.SMS else WHATSAPP_PATHS
        path = rng.choice(list(paths))
        expected[message_id] = paths[path]
        for step in path:
            if channel is Channel.SMS:
                form = {
                    "MessageSid": provider_id,
                    "MessageStatus": step,
                    "AccountSid": ACCOUNT_SID,
                    "From": SMS_NUMBER,
                    "To": "+16505550100",
                }
                callbacks.append(sms(server, slug, form, path="sms/status"))
            else:
                status = {
                    "id": provider_id,
                    "status": step,
                    "timestamp": str(int(time.time())),
                    "recipient_id": "16505550300",
                }
                callbacks.append(whatsapp(server, slug, {"statuses": [status]}))
    # when the callbacks arrive shuffled, 10% twice, 16 at a time
    duplicates, answers = await storm(callbacks, rng)
    # then each reply ends in its path's final state, whatever the order
    assert set(answers) <= {200, 204}, answers
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(messages.c.id, messages.c.delivery_status).where(
                    messages.c.id.in_(list(expected))
                )
            )
        ).all()
    final = {str(row.id): DeliveryStatus(row.delivery_status) for row in rows}
    wrong = {m: (final[m], want) for m, want in expected.items() if final[m] is not want}
    assert wrong == {}
    record(
        "retry-storm-statuses",
        section="Nothing lost, nothing doubled",
        what=(
            "Provider status callbacks (Twilio queued/sent/delivered/undelivered/failed, "
            "WhatsApp sent/delivered/read/failed) for our replies, shuffled, 10% twice, "
            f"{CONCURRENCY} at a time."
        ),
        counts={
            "replies": REPLIES,
            "callbacks": len(callbacks) + duplicates,
            "duplicates": duplicates,
            "concurrency": CONCURRENCY,
        },
        result=f"all {REPLIES} replies ended in the final state of their path; none regressed",
    )
