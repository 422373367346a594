"""Twilio-compatible voice webhooks: an incoming call, the menu, the queue, status and recording
reports, and a called-back customer answering. Every answer but a report's is TwiML."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response

from carepath.actions.call_reports import do_record_call_report
from carepath.actions.calls import do_call_menu, do_incoming_call
from carepath.actions.outbound_calls import outbound_connect_plan
from carepath.channels.twilio import phone_menu
from carepath.channels.twilio.twiml import MEDIA_TYPE
from carepath.channels.twilio.voice import parse_call_report, parse_call_request
from carepath.channels.widget.continuation import (
    Continuation,
    continuation_token,
    continue_link,
)
from carepath.domain.calls import CallStatus
from carepath.domain.channel_accounts import ChannelAccount, normalize_address
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.errors import InvalidInput
from carepath.ids import CaseId
from carepath.web.deps import get_state
from carepath.web.routes.twilio import Refusal, check_signature, find_tenant, read_form

router = APIRouter(prefix="/webhooks/twilio", tags=["provider webhooks"])
log = logging.getLogger("carepath.voice")
T = TypeVar("T")


async def verified_voice_form(request: Request, tenant: Tenant) -> dict[str, str]:
    """The form, once it names a voice number of the tenant and the signature checks out. In
    the SMS order, each refusal storing nothing: the content type (400), a voice number of the
    tenant (404), the signature (403); the routes then check the form's shape (400)."""
    pairs = await read_form(request)
    form = dict(pairs)
    account = await _account(request, tenant, form)
    check_signature(request, account, pairs)
    return form


async def _account(request: Request, tenant: Tenant, form: dict[str, str]) -> ChannelAccount:
    """Our number is `To` on a call to us and `From` on a call we placed; a recording report
    names neither, only the AccountSid."""
    inbound = form.get("Direction", "inbound").lower() == "inbound"
    fields = ("To", "From") if inbound else ("From", "To")
    async with get_state(request).db.uow(write=False) as uow:
        for field in fields:
            try:
                number = normalize_address(Channel.VOICE, form.get(field, ""))
            except InvalidInput:
                continue
            account = await uow.channel_accounts.by_address(Channel.VOICE, number)
            if account is not None and account.tenant_id == tenant.id and account.active:
                return account
        account_sid = form.get("AccountSid", "")
        if account_sid and not (form.get("To") or form.get("From")):
            for account in await uow.channel_accounts.active(tenant.id, Channel.VOICE):
                if account.config.get("account_sid") == account_sid:
                    return account
    raise Refusal(404, "unknown_number", "the form names no voice number of this tenant")


def _shape(parse: Callable[[dict[str, str]], T], form: dict[str, str]) -> T:
    try:
        return parse(form)
    except InvalidInput as exc:
        raise Refusal(400, "bad_request", exc.message) from exc


def _twiml(xml: str) -> Response:
    return Response(xml, media_type=MEDIA_TYPE)


def _urls(request: Request, tenant: Tenant) -> phone_menu.VoiceUrls:
    base = get_state(request).settings.public_url.rstrip("/")
    return phone_menu.VoiceUrls(f"{base}/webhooks/twilio/{tenant.id}/voice")


@router.post("/{tenant_ref}/voice", summary="Incoming call (Twilio-compatible)")
async def incoming_call(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        call = _shape(parse_call_request, await verified_voice_form(request, tenant))
    except Refusal as refusal:
        return refusal.response
    plan = await do_incoming_call(
        get_state(request).db,
        tenant.id,
        call_sid=call.call_sid,
        caller=call.caller,
        to=call.to,
        caller_name=call.caller_name,
    )
    return _twiml(phone_menu.answer_call(plan, _urls(request, tenant)))


@router.post("/{tenant_ref}/voice/menu", summary="The phone menu's key press (Gather action)")
async def call_menu(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        call = _shape(parse_call_request, await verified_voice_form(request, tenant))
    except Refusal as refusal:
        return refusal.response
    state = get_state(request)
    secret, public_url = state.settings.secret(), state.settings.public_url

    def chat_link(case_id: CaseId, phone: str) -> str:
        token = continuation_token(secret, Continuation(tenant.id, case_id, phone))
        link = continue_link(public_url, tenant.slug, token)
        return f"{tenant.name}: continue our conversation in chat here: {link}"

    result = await do_call_menu(
        state.db, tenant.id, call_sid=call.call_sid, digits=call.digits, chat_link=chat_link
    )
    return _twiml(phone_menu.answer_menu(result, _urls(request, tenant)))


@router.post("/{tenant_ref}/voice/queue", summary="The caller left the queue (Enqueue action)")
async def queue_left(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        report = _shape(parse_call_report, await verified_voice_form(request, tenant))
    except Refusal as refusal:
        return refusal.response
    await do_record_call_report(get_state(request).db, tenant.id, report)
    return _twiml(phone_menu.answer_queue_left(report.queue_result))


@router.post("/{tenant_ref}/voice/wait", summary="Played while the caller waits (waitUrl)")
async def queue_wait(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        form = await verified_voice_form(request, tenant)
    except Refusal as refusal:
        return refusal.response
    return _twiml(phone_menu.answer_wait(form.get("QueuePosition")))


@router.post("/{tenant_ref}/voice/status", summary="Call status, recording and transcription")
async def call_status(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        report = _shape(parse_call_report, await verified_voice_form(request, tenant))
    except Refusal as refusal:
        return refusal.response
    call_id = request.query_params.get("call")
    call = await do_record_call_report(get_state(request).db, tenant.id, report, call_id=call_id)
    if call is None:
        # Not one of ours: acknowledging stops pointless provider retries.
        log.info("report for unknown call %s", report.call_sid)
    return Response(status_code=204)


@router.post("/{tenant_ref}/voice/connect", summary="The customer answered our call")
async def connect_call(tenant_ref: str, request: Request) -> Response:
    try:
        tenant = await find_tenant(request, tenant_ref)
        call = _shape(parse_call_request, await verified_voice_form(request, tenant))
        call_id = request.query_params.get("call")
        if not call_id:
            raise Refusal(400, "bad_request", "the URL has no ?call= (carepath's call id)")
    except Refusal as refusal:
        return refusal.response
    db = get_state(request).db
    report = parse_call_report({"CallSid": call.call_sid, "CallStatus": "in-progress"})
    recorded = await do_record_call_report(db, tenant.id, report, call_id=call_id)
    if recorded is None or recorded.status is not CallStatus.IN_PROGRESS:
        return _twiml(phone_menu.answer_unknown_call())
    plan = await outbound_connect_plan(db, tenant.id, recorded.id)
    return _twiml(phone_menu.answer_connect(plan, _urls(request, tenant)))
