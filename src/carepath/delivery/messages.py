"""Delivering replies and surveys: the outbox handlers that hand a message to its channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from carepath.actions.delivery import do_post_system_message, do_record_delivery, reachable_address
from carepath.actions.surveys import DELIVER_SURVEY
from carepath.delivery.base import HandlerContext
from carepath.domain.cases import Case
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus, Message
from carepath.domain.outbox import OutboxItem
from carepath.domain.surveys import Survey, SurveyKind
from carepath.errors import CarepathError, DeliveryFailed
from carepath.secretbox import SecretBox
from carepath.survey_links import survey_token

__all__ = ["DELIVER_SURVEY", "ChannelSender", "DeliverMessage", "DeliverSurvey", "Outbound"]

# The widget and apps read messages from the stream: nothing to send, a rating control to show.
STREAMED_CHANNELS = frozenset({Channel.CHAT, Channel.APP})


@dataclass(frozen=True)
class Outbound:
    """Everything a channel needs to send one message."""

    message: Message
    case: Case
    to: str
    account: ChannelAccount | None
    secrets: Mapping[str, Any] = field(default_factory=dict)
    # Provider ids of the case's earlier messages on this channel, oldest first (email threading).
    thread: tuple[str, ...] = ()
    # The outbox item's id: the same on every attempt, so a provider that honours an
    # Idempotency-Key sends once even when a crash made us ask twice.
    idempotency_key: str = ""


class ChannelSender(Protocol):
    """Sends one message; returns the provider's id for it, or raises DeliveryFailed."""

    async def send(self, outbound: Outbound) -> str | None: ...


class DeliverMessage:
    def __init__(self, senders: Mapping[Channel, ChannelSender], box: SecretBox) -> None:
        self.senders = senders
        self.box = box

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None:
        async with ctx.db.uow(write=False) as uow:
            message = await uow.messages.get(item.tenant_id, str(item.payload["message_id"]))
            case = await uow.cases.get(item.tenant_id, message.case_id) if message else None
            if message is None or case is None:
                raise DeliveryFailed("the message no longer exists", retryable=False)
            accounts = await uow.channel_accounts.active(item.tenant_id, message.channel)
            earlier = await uow.messages.of_case(item.tenant_id, case.id, include_notes=False)
        if (
            message.delivery_status is not None
            and message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return  # sent by an earlier attempt whose result was recorded: do not send twice
        sender = self.senders.get(message.channel)
        if message.channel in STREAMED_CHANNELS and sender is None:
            await do_record_delivery(ctx.db, item.tenant_id, message.id, DeliveryStatus.SENT)
            return
        if sender is None:
            raise DeliveryFailed(
                f"this deployment has no sender for {message.channel}", retryable=True
            )
        account = accounts[0] if accounts else None
        outbound = Outbound(
            message=message,
            case=case,
            to=str(message.properties.get("to", "")),
            account=account,
            secrets=self.box.open(account.secrets_sealed) if account else {},
            thread=tuple(
                m.external_id
                for m in earlier
                if m.channel == message.channel and m.external_id and m.id != message.id
            ),
            idempotency_key=item.id,
        )
        external_id = await sender.send(outbound)
        await do_record_delivery(
            ctx.db, item.tenant_id, message.id, DeliveryStatus.SENT, external_id=external_id
        )


class DeliverSurvey:
    """Puts the survey in front of the customer the way their channel allows: a question with
    a number to reply (SMS, WhatsApp, voice follow-up by SMS), one-click links (email), or
    nothing to send (the widget shows a rating control on the `survey.sent` event)."""

    def __init__(self, *, secret: str, public_url: str) -> None:
        self.secret = secret
        self.public_url = public_url.rstrip("/")

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None:
        async with ctx.db.uow(write=False) as uow:
            survey = await uow.surveys.get(item.tenant_id, str(item.payload["survey_id"]))
            case = await uow.cases.get(item.tenant_id, survey.case_id) if survey else None
            if survey is None or case is None:
                raise DeliveryFailed("the survey no longer exists", retryable=False)
            if survey.channel in STREAMED_CHANNELS or not survey.is_open(ctx.clock()):
                return
            try:
                to = await reachable_address(uow, case, survey.channel)
            except CarepathError as exc:
                raise DeliveryFailed(exc.message, retryable=False) from exc
        await do_post_system_message(
            ctx.db, item.tenant_id, case.id, channel=survey.channel, text=self.render(survey), to=to
        )

    def render(self, survey: Survey) -> str:
        first = SurveyKind(survey.kinds[0])
        if survey.channel is not Channel.EMAIL:
            return first.question
        token = survey_token(self.secret, survey.id)
        lines = ["Thank you for contacting us. How did we do?", ""]
        for kind in map(SurveyKind, survey.kinds):
            lines.append(kind.question.split(" Reply")[0])
            lines.extend(
                f"  {score}: {self.public_url}/s/{token}?{kind.value}={score}"
                for score in kind.scale
            )
            lines.append("")
        return "\n".join(lines).rstrip()
