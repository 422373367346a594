"""Placing the calls agents ask for ("call now" on a callback): the outbox handler."""

from __future__ import annotations

from carepath.actions.outbound_calls import (
    PLACE_CALL,
    do_record_call_not_placed,
    do_record_call_placed,
)
from carepath.channels.twilio.calls_api import OutboundCall, TwilioCalls
from carepath.delivery.base import HandlerContext
from carepath.domain.contacts import Channel
from carepath.domain.outbox import OutboxItem
from carepath.errors import DeliveryFailed
from carepath.secretbox import SecretBox

__all__ = ["PLACE_CALL", "PlaceCall", "voice_webhook_url"]


def voice_webhook_url(public_url: str, tenant_id: str, endpoint: str, call_id: str) -> str:
    """Where the provider asks about a call carepath placed; carepath's own call id rides along
    so the first reports find the call before its CallSid is recorded."""
    return f"{public_url.rstrip('/')}/webhooks/twilio/{tenant_id}/voice/{endpoint}?call={call_id}"


class PlaceCall:
    """Asks the provider to call the customer from the number the call was planned from; when
    they answer, the provider fetches the TwiML that connects the agent (`voice/connect`)."""

    def __init__(self, calls: TwilioCalls, box: SecretBox, *, public_url: str) -> None:
        self.calls = calls
        self.box = box
        self.public_url = public_url

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None:
        call_id = str(item.payload["call_id"])
        async with ctx.db.uow(write=False) as uow:
            call = await uow.calls.get(item.tenant_id, call_id)
            account = (
                await uow.channel_accounts.by_address(Channel.VOICE, call.from_number)
                if call
                else None
            )
        if call is None:
            raise DeliveryFailed("the call no longer exists", retryable=False)
        if call.provider_sid is not None or call.is_ended:
            return  # placed by an earlier attempt whose result was recorded: never call twice
        secrets = self.box.open(account.secrets_sealed) if account and account.active else {}
        sid = str(account.config.get("account_sid", "")) if account else ""
        token = str(secrets.get("auth_token", ""))
        if account is None or not sid or not token:
            reason = "the voice number needs config.account_sid and secrets.auth_token"
            await do_record_call_not_placed(ctx.db, item.tenant_id, call.id, reason)
            raise DeliveryFailed(reason, retryable=False)
        try:
            provider_sid = await self.calls.place(
                OutboundCall(
                    account_sid=sid,
                    auth_token=token,
                    to=call.to_number,
                    from_=call.from_number,
                    url=voice_webhook_url(self.public_url, call.tenant_id, "connect", call.id),
                    status_callback=voice_webhook_url(
                        self.public_url, call.tenant_id, "status", call.id
                    ),
                )
            )
        except DeliveryFailed as exc:
            if not exc.retryable:
                await do_record_call_not_placed(ctx.db, item.tenant_id, call.id, exc.message)
            raise
        await do_record_call_placed(ctx.db, item.tenant_id, call.id, provider_sid)
