"""Meta webhooks: WhatsApp (`/webhooks/whatsapp/{tenant}`) and Messenger + Instagram
(`/webhooks/meta/{tenant}`, told apart by the payload's `object`). Verified, stored, then
acknowledged.

GET answers Meta's subscription handshake. POST checks, each refusal storing nothing: the
content type (400), the tenant and that it has an account on the channel (404), the
X-Hub-Signature-256 of the raw body against the accounts' app secrets, before anything is
parsed (403), the JSON's shape (400), and that every number, page or Instagram account named
belongs to the tenant (404) under the app that signed (403). Then every message is ingested
(provider retries dedupe on the message id) and every status recorded; 200 only after commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from carepath.actions.delivery import do_record_provider_status
from carepath.actions.ingest import do_ingest_inbound
from carepath.channels.meta.messenger import parse_messaging_webhook
from carepath.channels.meta.shape import as_object
from carepath.channels.meta.signature import SIGNATURE_HEADER, answer_challenge, verify_signature
from carepath.channels.meta.whatsapp import parse_whatsapp_webhook
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus, InboundMessage
from carepath.domain.tenants import Tenant
from carepath.errors import InvalidInput
from carepath.web.deps import get_state
from carepath.web.routes.twilio import Refusal, find_tenant

router = APIRouter(prefix="/webhooks", tags=["provider webhooks"])
log = logging.getLogger("carepath.meta")
MAX_BODY_BYTES = 1024 * 1024
SOCIAL = (Channel.MESSENGER, Channel.INSTAGRAM)


async def _accounts(
    request: Request, tenant: Tenant, channels: Sequence[Channel]
) -> list[tuple[ChannelAccount, dict[str, Any]]]:
    """The tenant's active accounts on these channels, with their opened secrets."""
    state = get_state(request)
    async with state.db.uow(write=False) as uow:
        accounts = [a for c in channels for a in await uow.channel_accounts.active(tenant.id, c)]
    if not accounts:
        names = " or ".join(c.value for c in channels)
        raise Refusal(404, "unknown_account", f"the tenant has no active {names} account")
    return [(a, state.secret_box.open(a.secrets_sealed)) for a in accounts]


async def _handshake(request: Request, tenant_ref: str, channels: Sequence[Channel]) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        accounts = await _accounts(request, tenant, channels)
    except Refusal as refusal:
        return refusal.response
    tokens = [str(secrets.get("verify_token", "")) for _, secrets in accounts]
    challenge = answer_challenge(dict(request.query_params), tokens)
    if challenge is None:
        return Refusal(403, "bad_verify_token", "hub.mode or hub.verify_token is wrong").response
    return PlainTextResponse(challenge)


@dataclass(frozen=True)
class Signed:
    """A verified webhook: its tenant, its JSON, and the tenant's accounts on its channels with
    whether each one's app secret is the one that signed it."""

    tenant: Tenant
    payload: dict[str, Any]
    accounts: list[tuple[ChannelAccount, bool]]

    def check(self, channel: Channel, named: Collection[str]) -> None:
        """Every account the payload names is this tenant's, under the app that signed."""
        signed = {a.address: ok for a, ok in self.accounts if a.channel is channel}
        for address in sorted(named):
            if address not in signed:
                raise Refusal(
                    404, "unknown_account", f"{address} is not a {channel} account of this tenant"
                )
            if not signed[address]:
                raise Refusal(403, "bad_signature", f"{address} belongs to another app's secret")


async def _signed_json(request: Request, tenant_ref: str, channels: Sequence[Channel]) -> Signed:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refusal(400, "bad_request", "expected an application/json body")
    tenant = await find_tenant(request, tenant_ref)
    accounts = await _accounts(request, tenant, channels)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Refusal(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    signature = request.headers.get(SIGNATURE_HEADER)
    checked = [
        (account, verify_signature(str(secrets.get("app_secret", "")), body, signature))
        for account, secrets in accounts
    ]
    if not any(ok for _, ok in checked):
        raise Refusal(403, "bad_signature", f"missing or wrong {SIGNATURE_HEADER}")
    try:
        payload = dict(as_object(json.loads(body), "body"))
    except (UnicodeDecodeError, ValueError, InvalidInput) as exc:
        raise Refusal(400, "bad_request", "the body is not a JSON object") from exc
    return Signed(tenant, payload, checked)


async def _ingest(request: Request, inbounds: Sequence[InboundMessage]) -> tuple[int, int]:
    db = get_state(request).db
    duplicates = 0
    for inbound in inbounds:
        duplicates += (await do_ingest_inbound(db, inbound)).duplicate
    return len(inbounds) - duplicates, duplicates


async def _record(
    request: Request, tenant: Tenant, channel: Channel, message_id: str, status: DeliveryStatus
) -> None:
    # A status for an id not stored yet is kept until the send stores it (never dropped).
    await do_record_provider_status(get_state(request).db, tenant.id, channel, message_id, status)


@router.get("/whatsapp/{tenant_ref}", summary="WhatsApp webhook subscription handshake")
async def whatsapp_handshake(tenant_ref: str, request: Request) -> Response:
    return await _handshake(request, tenant_ref, (Channel.WHATSAPP,))


@router.post("/whatsapp/{tenant_ref}", summary="WhatsApp messages and statuses (Cloud API)")
async def whatsapp_webhook(tenant_ref: str, request: Request) -> Response:
    try:
        signed = await _signed_json(request, tenant_ref, (Channel.WHATSAPP,))
        tenant = signed.tenant
        try:
            batch = parse_whatsapp_webhook(tenant.id, signed.payload, utcnow())
        except InvalidInput as exc:
            raise Refusal(400, "bad_request", exc.message) from exc
        signed.check(Channel.WHATSAPP, batch.phone_number_ids)
    except Refusal as refusal:
        return refusal.response
    stored, duplicates = await _ingest(request, [item.message for item in batch.messages])
    for status in batch.statuses:
        if status.errors:
            log.warning("WhatsApp message %s: %s", status.message_id, "; ".join(status.errors))
        if status.status is not None:
            await _record(request, tenant, Channel.WHATSAPP, status.message_id, status.status)
    return JSONResponse(
        {"stored": stored, "duplicates": duplicates, "statuses": len(batch.statuses)}
    )


@router.get("/meta/{tenant_ref}", summary="Messenger / Instagram webhook subscription handshake")
async def messaging_handshake(tenant_ref: str, request: Request) -> Response:
    return await _handshake(request, tenant_ref, SOCIAL)


@router.post(
    "/meta/{tenant_ref}", summary="Messenger and Instagram messages (object page|instagram)"
)
async def messaging_webhook(tenant_ref: str, request: Request) -> Response:
    try:
        signed = await _signed_json(request, tenant_ref, SOCIAL)
        tenant = signed.tenant
        try:
            batch = parse_messaging_webhook(tenant.id, signed.payload, utcnow())
        except InvalidInput as exc:
            raise Refusal(400, "bad_request", exc.message) from exc
        signed.check(batch.channel, batch.account_ids)
    except Refusal as refusal:
        return refusal.response
    stored, duplicates = await _ingest(request, [item.message for item in batch.messages])
    for receipt in batch.receipts:
        for mid in receipt.message_ids:
            await _record(request, tenant, batch.channel, mid, receipt.status)
    return JSONResponse(
        {"stored": stored, "duplicates": duplicates, "receipts": len(batch.receipts)}
    )
