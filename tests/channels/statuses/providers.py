"""Signed provider status callbacks (Twilio SMS, WhatsApp Cloud API) for the reliability world's
accounts, and a reply waiting in the outbox to be sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from carepath.actions.cases import do_reply
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.domain.messages import Message
from carepath.storage import Database
from tests.factories import Company, system
from tests.inbound import inbound
from tests.reliability.world import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    SMS_NUMBER,
    WHATSAPP_NUMBER_ID,
)

CUSTOMER = {Channel.SMS: "+16505550101", Channel.WHATSAPP: "+16505550301"}


async def a_reply(db: Database, company: Company, channel: Channel, n: int = 0) -> Message:
    """An agent's reply to a customer who wrote on `channel`, queued for sending."""
    sender = CUSTOMER[channel][:-2] + f"{n:02d}"
    case = (await do_ingest_inbound(db, inbound(company.tenant.id, channel, sender))).case
    return await do_reply(db, system(company.tenant), case.id, text=f"reply {n}")


async def report(
    http: httpx.AsyncClient, slug: str, channel: Channel, provider_id: str, status: str
) -> httpx.Response:
    """The provider's signed status callback for one of our messages."""
    if channel is Channel.SMS:
        return await _twilio(http, slug, provider_id, status)
    return await _whatsapp(http, slug, provider_id, status)


async def _twilio(
    http: httpx.AsyncClient, slug: str, provider_id: str, status: str
) -> httpx.Response:
    url = f"{_base(http)}/webhooks/twilio/{slug}/sms/status"
    form = {
        "MessageSid": provider_id,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": SMS_NUMBER,
        "To": CUSTOMER[Channel.SMS],
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return await http.post(url, content=urlencode(form), headers=headers)


async def _whatsapp(
    http: httpx.AsyncClient, slug: str, provider_id: str, status: str
) -> httpx.Response:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_NUMBER_ID},
        "statuses": [
            {
                "id": provider_id,
                "status": status,
                "timestamp": str(int(time.time())),
                "recipient_id": CUSTOMER[Channel.WHATSAPP].lstrip("+"),
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload).encode()
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    url = f"{_base(http)}/webhooks/whatsapp/{slug}"
    return await http.post(url, content=body, headers=headers)


def _base(http: httpx.AsyncClient) -> str:
    return str(http.base_url).rstrip("/")
