"""Twilio-compatible SMS webhooks: verified, stored, then acknowledged.

Order of checks, each refusing with nothing stored: the content type and the number field
(400), the tenant and the number called (404, one database read for both, kept a short while
once found), the signature (403), the form's shape (400). Only a message committed to the
database is acknowledged with 200; a provider retry of the same MessageSid gets 200 again and
changes nothing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from carepath.actions.delivery import do_record_provider_status
from carepath.actions.ingest import do_ingest_inbound
from carepath.channels.twilio.signature import SIGNATURE_HEADER, verify_signature, webhook_url
from carepath.channels.twilio.sms import parse_inbound_sms, parse_status_callback
from carepath.domain.channel_accounts import ChannelAccount, normalize_address
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.errors import InvalidInput
from carepath.ids import TenantId
from carepath.storage import UnitOfWork
from carepath.web.deps import get_state
from carepath.web.errors import error_body
from carepath.web.state import AppState

router = APIRouter(prefix="/webhooks/twilio", tags=["provider webhooks"])
MAX_FORM_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = JSONResponse(error_body(code, message), status)


async def find_tenant(request: Request, tenant_ref: str) -> Tenant:
    """By slug (what people configure) or id (what carepath puts in its own callback URLs)."""
    async with get_state(request).db.uow(write=False) as uow:
        tenant = await _tenant(uow, tenant_ref)
    if tenant is None:
        raise Refusal(404, "unknown_tenant", f"no tenant {tenant_ref!r}")
    return tenant


async def _tenant(uow: UnitOfWork, tenant_ref: str) -> Tenant | None:
    if tenant_ref.startswith("ten_"):
        return await uow.tenants.get(TenantId(tenant_ref))
    return await uow.tenants.by_slug(tenant_ref)


async def read_form(request: Request) -> list[tuple[str, str]]:
    """A provider's form: the right content type, bounded, parseable — or a 400/413 refusal."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        raise Refusal(400, "bad_request", f"expected an {FORM} body")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Refusal(413, "too_large", f"the form is over {MAX_FORM_BYTES} bytes")
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal(400, "bad_request", "the body is not a valid form") from exc


def check_signature(
    request: Request, account: ChannelAccount, pairs: list[tuple[str, str]]
) -> None:
    """403 unless the form is signed with the account's auth token for the URL Twilio called."""
    state = get_state(request)
    token = str(state.secret_box.open(account.secrets_sealed).get("auth_token", ""))
    url = webhook_url(state.settings.public_url, request.url.path, request.url.query)
    if not verify_signature(token, url, pairs, request.headers.get(SIGNATURE_HEADER)):
        raise Refusal(403, "bad_signature", f"missing or wrong {SIGNATURE_HEADER}")


async def verified_form(
    request: Request, tenant_ref: str, channel: Channel, number_field: str
) -> tuple[Tenant, list[tuple[str, str]]]:
    """The tenant and the webhook's form, once the number belongs to the tenant and the
    signature checks out. Tenant and number are looked up in one read (the hot path), or
    found in the process's short-lived cache of them (web/webhook_accounts.py)."""
    pairs = await read_form(request)
    form = dict(pairs)
    try:
        number = normalize_address(channel, form.get(number_field, ""))
    except InvalidInput as exc:
        raise Refusal(400, "bad_request", f"{number_field}: {exc.message}") from exc
    state = get_state(request)
    kept = state.webhook_accounts.get((tenant_ref, channel, number)) is not None
    tenant, account = await _tenant_and_account(state, tenant_ref, channel, number, fresh=False)
    try:
        check_signature(request, account, pairs)
    except Refusal:
        if not kept:
            raise
        # The auth token may have been rotated since the account was kept: check against it
        # as stored now, so that the new token works at once.
        tenant, account = await _tenant_and_account(state, tenant_ref, channel, number, fresh=True)
        check_signature(request, account, pairs)
    return tenant, pairs


async def _tenant_and_account(
    state: AppState, tenant_ref: str, channel: Channel, number: str, *, fresh: bool
) -> tuple[Tenant, ChannelAccount]:
    tenant, account = await state.webhook_accounts.find(
        state.db, tenant_ref, channel, number, fresh=fresh
    )
    if tenant is None:
        raise Refusal(404, "unknown_tenant", f"no tenant {tenant_ref!r}")
    if account is None:
        raise Refusal(404, "unknown_number", f"{number} is not a {channel} number of this tenant")
    return tenant, account


@router.post("/{tenant_ref}/sms", summary="Incoming SMS (Twilio-compatible)")
async def incoming_sms(tenant_ref: str, request: Request) -> Response:
    try:
        tenant, pairs = await verified_form(request, tenant_ref, Channel.SMS, "To")
        try:
            inbound = parse_inbound_sms(tenant.id, dict(pairs), utcnow())
        except InvalidInput as exc:
            raise Refusal(400, "bad_request", exc.message) from exc
    except Refusal as refusal:
        return refusal.response
    await do_ingest_inbound(get_state(request).db, inbound, tenant=tenant)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/{tenant_ref}/sms/status", summary="SMS delivery status (Twilio-compatible)")
async def sms_status(tenant_ref: str, request: Request) -> Response:
    try:
        tenant, pairs = await verified_form(request, tenant_ref, Channel.SMS, "From")
        try:
            report = parse_status_callback(dict(pairs))
        except InvalidInput as exc:
            raise Refusal(400, "bad_request", exc.message) from exc
    except Refusal as refusal:
        return refusal.response
    if report.status is not None:
        # A report for an id not stored yet is kept until the send stores it (acknowledged,
        # so never dropped); one that never matches is purged after a day.
        await do_record_provider_status(
            get_state(request).db, tenant.id, Channel.SMS, report.message_sid, report.status
        )
    return Response(status_code=204)
